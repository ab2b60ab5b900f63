import Resolvers
import XCTest

@testable import Compat

/// Refusals name fields as the original API's payloads do.
final class PayloadNamesTests: XCTestCase {
    func testTheFieldAndCamelCaseNamesAreRenamedAsWholeWords() {
        let names = ["text": "term", "to": "endDate", "recipientId": "receiverId"]
        XCTAssertEqual(
            PayloadNames.renaming(.badUserInput("Give exactly one of conversationId or recipientId", field: "conversationId"), names),
            .badUserInput("Give exactly one of conversationId or receiverId", field: "conversationId"))
        XCTAssertEqual(
            PayloadNames.renaming(.badUserInput("text must be 1 to 200 characters", field: "text"), names),
            .badUserInput("term must be 1 to 200 characters", field: "term"), "a plain word only as the field's own name")
        XCTAssertEqual(
            PayloadNames.renaming(.badUserInput("text is longer than its context allows", field: "text"), names),
            .badUserInput("term is longer than its context allows", field: "term"), "whole words: context keeps its text")
    }

    func testOtherErrorsAndFieldsStayAsTheyAre() {
        XCTAssertEqual(PayloadNames.renaming(.notFound("No such message"), PayloadNames.sendMessage), .notFound("No such message"))
        XCTAssertEqual(
            PayloadNames.renaming(.badUserInput("replyToId is not a message of this conversation", field: "replyToId"), PayloadNames.sendMessage),
            .badUserInput("replyToId is not a message of this conversation", field: "replyToId"))
        XCTAssertEqual(PayloadNames.renaming(.badUserInput("Text is required", field: "text"), [:]), .badUserInput("Text is required", field: "text"))
    }
}

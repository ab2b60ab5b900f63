import Foundation
import GraphQL
import XCTest

@testable import Gateway

/// The two GraphQL-over-WebSocket codecs and the connection rules, without sockets.
final class GraphQLWSCodecTests: XCTestCase {
    private let transport = TransportWSCodec()
    private let legacy = LegacyWSCodec()

    private func json(_ text: String?, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let text = try XCTUnwrap(text, "no message encoded", file: file, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text, file: file, line: line)
    }

    private func violation(_ codec: any GraphQLWSCodec, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> WSProtocolViolation? {
        do {
            let frame = try codec.decode(text)
            XCTFail("\(text) decoded as \(frame)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Subprotocol negotiation

    func testNegotiationTakesTheFirstKnownOfferInTheClientsOrder() {
        XCTAssertEqual(GraphQLWSSubprotocol.negotiate(["graphql-transport-ws"]), .transport)
        XCTAssertEqual(GraphQLWSSubprotocol.negotiate(["graphql-ws"]), .legacy)
        XCTAssertEqual(GraphQLWSSubprotocol.negotiate(["graphql-ws, graphql-transport-ws"]), .legacy)
        XCTAssertEqual(GraphQLWSSubprotocol.negotiate(["chat", " graphql-transport-ws ,graphql-ws"]), .transport)
        XCTAssertEqual(GraphQLWSSubprotocol.negotiate(["mqtt", "graphql-ws"]), .legacy, "offers may span several header lines")
        XCTAssertNil(GraphQLWSSubprotocol.negotiate([]))
        XCTAssertNil(GraphQLWSSubprotocol.negotiate(["graphql-transport-ws2", "GRAPHQL-WS"]), "names match exactly")
    }

    // MARK: graphql-transport-ws

    func testTransportDecodesEveryClientMessage() throws {
        XCTAssertEqual(try transport.decode(#"{"type":"connection_init"}"#), .connectionInit(payload: [:]))
        XCTAssertEqual(try transport.decode(#"{"type":"connection_init","payload":null}"#), .connectionInit(payload: [:]))
        XCTAssertEqual(try transport.decode(#"{"type":"connection_init","payload":{"token":"abc"}}"#),
                       .connectionInit(payload: ["token": "abc"]))
        XCTAssertEqual(try transport.decode(#"{"type":"ping"}"#), .ping(payload: nil))
        XCTAssertEqual(try transport.decode(#"{"type":"ping","payload":{"at":1}}"#), .ping(payload: ["at": 1]))
        XCTAssertEqual(try transport.decode(#"{"type":"pong","payload":{}}"#), .pong)
        XCTAssertEqual(
            try transport.decode(#"{"id":"1","type":"subscribe","payload":{"query":"subscription { typing { isTyping } }","variables":{"c":"x"},"operationName":"T","extensions":{}}}"#),
            .subscribe(id: "1", WSOperationRequest(query: "subscription { typing { isTyping } }", operationName: "T", variables: ["c": "x"])))
        XCTAssertEqual(
            try transport.decode(#"{"id":"a","type":"subscribe","payload":{"query":"{ me { id } }","variables":null,"operationName":null}}"#),
            .subscribe(id: "a", WSOperationRequest(query: "{ me { id } }", operationName: nil, variables: [:])))
        XCTAssertEqual(try transport.decode(#"{"id":"7","type":"complete"}"#), .complete(id: "7"))
    }

    func testTransportRefusesMalformedMessagesWith4400() {
        let cases = [
            "not json",
            "[1,2]",
            #"{"payload":{}}"#,
            #"{"type":"start","id":"1","payload":{"query":"{ me { id } }"}}"#,  // legacy name
            #"{"type":"connection_terminate"}"#,
            #"{"type":"subscribe","payload":{"query":"{ me { id } }"}}"#,  // no id
            #"{"type":"subscribe","id":"","payload":{"query":"{ me { id } }"}}"#,
            #"{"type":"subscribe","id":1,"payload":{"query":"{ me { id } }"}}"#,
            #"{"type":"subscribe","id":"1"}"#,
            #"{"type":"subscribe","id":"1","payload":{"query":""}}"#,
            #"{"type":"subscribe","id":"1","payload":{"query":"{ me { id } }","variables":[1]}}"#,
            #"{"type":"subscribe","id":"1","payload":{"query":"{ me { id } }","operationName":3}}"#,
            #"{"type":"connection_init","payload":"token"}"#,
            #"{"type":"complete"}"#,
        ]
        for text in cases {
            let error = violation(transport, text)
            XCTAssertEqual(error?.code, .badRequest, text)
            XCTAssertTrue(error?.reason.hasPrefix("Invalid message received") ?? false, "\(text): \(String(describing: error))")
        }
    }

    func testTransportEncodesServerMessages() throws {
        XCTAssertEqual(try json(transport.encode(.connectionAck))["type"] as? String, "connection_ack")
        XCTAssertEqual(try json(transport.encode(.ping))["type"] as? String, "ping")
        let pong = try json(transport.encode(.pong(payload: ["n": 2])))
        XCTAssertEqual(pong["type"] as? String, "pong")
        XCTAssertEqual((pong["payload"] as? [String: Any])?["n"] as? Int, 2)
        XCTAssertNil(try json(transport.encode(.pong(payload: nil)))["payload"])

        let next = try json(transport.encode(.next(id: "q\"1", payload: WSJSON.encode(GraphQLResult(data: ["me": ["id": "u1"]])))))
        XCTAssertEqual(next["type"] as? String, "next")
        XCTAssertEqual(next["id"] as? String, "q\"1", "ids are escaped")
        XCTAssertEqual(((next["payload"] as? [String: Any])?["data"] as? [String: Any])?["me"] as? [String: String], ["id": "u1"])

        let error = try json(transport.encode(.error(id: "2", [
            GraphQLError(message: "Sign in first", extensions: ["code": "UNAUTHENTICATED"]), GraphQLError(message: "second"),
        ])))
        XCTAssertEqual(error["type"] as? String, "error")
        let errors = try XCTUnwrap(error["payload"] as? [[String: Any]], "graphql-transport-ws errors are a list")
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(errors[0]["message"] as? String, "Sign in first")
        XCTAssertEqual((errors[0]["extensions"] as? [String: Any])?["code"] as? String, "UNAUTHENTICATED")

        XCTAssertEqual(try json(transport.encode(.complete(id: "3"))) as? [String: String], ["type": "complete", "id": "3"])
        XCTAssertNil(transport.encode(.keepAlive), "no ka in graphql-transport-ws")
        XCTAssertNil(transport.encode(.connectionError(message: "no")), "refusals are close codes")
    }

    // MARK: legacy graphql-ws

    func testLegacyDecodesEveryClientMessage() throws {
        XCTAssertEqual(try legacy.decode(#"{"type":"connection_init","payload":{"authorization":"Bearer t"}}"#),
                       .connectionInit(payload: ["authorization": "Bearer t"]))
        XCTAssertEqual(
            try legacy.decode(#"{"id":"1","type":"start","payload":{"query":"subscription { typing { isTyping } }"}}"#),
            .subscribe(id: "1", WSOperationRequest(query: "subscription { typing { isTyping } }", operationName: nil, variables: [:])))
        XCTAssertEqual(try legacy.decode(#"{"id":"1","type":"stop"}"#), .complete(id: "1"))
        XCTAssertEqual(try legacy.decode(#"{"type":"connection_terminate"}"#), .terminate)
        for text in [#"{"id":"1","type":"subscribe","payload":{"query":"{ me { id } }"}}"#, #"{"type":"ping"}"#, #"{"id":"1","type":"complete"}"#, "{}"] {
            XCTAssertEqual(violation(legacy, text)?.code, .badRequest, text)
        }
    }

    func testLegacyEncodesServerMessages() throws {
        XCTAssertEqual(try json(legacy.encode(.connectionAck))["type"] as? String, "connection_ack")
        XCTAssertEqual(try json(legacy.encode(.keepAlive)) as? [String: String], ["type": "ka"])
        let refused = try json(legacy.encode(.connectionError(message: "Forbidden: Access token expired")))
        XCTAssertEqual(refused["type"] as? String, "connection_error")
        XCTAssertEqual((refused["payload"] as? [String: Any])?["message"] as? String, "Forbidden: Access token expired")
        let data = try json(legacy.encode(.next(id: "4", payload: WSJSON.encode(GraphQLResult(data: ["typing": ["isTyping": true]])))))
        XCTAssertEqual(data["type"] as? String, "data")
        XCTAssertEqual(data["id"] as? String, "4")
        XCTAssertNotNil((data["payload"] as? [String: Any])?["data"])
        let error = try json(legacy.encode(.error(id: "5", [GraphQLError(message: "first"), GraphQLError(message: "second")])))
        XCTAssertEqual(error["type"] as? String, "error")
        XCTAssertEqual((error["payload"] as? [String: Any])?["message"] as? String, "first", "the legacy error payload is one object")
        XCTAssertEqual(try json(legacy.encode(.complete(id: "5"))) as? [String: String], ["type": "complete", "id": "5"])
        XCTAssertNil(legacy.encode(.ping))
        XCTAssertNil(legacy.encode(.pong(payload: nil)))
    }

    // MARK: Connection rules

    private let query = WSOperationRequest(query: "subscription { typing { isTyping } }", operationName: nil, variables: [:])

    func testSessionAcknowledgesOneInitThenRunsOperations() {
        var session = GraphQLWSSession(subprotocol: .transport, maxOperations: 2)
        XCTAssertEqual(session.receive(.ping(payload: ["x": 1])), .send(.pong(["x": 1])), "ping is answered before init too")
        XCTAssertEqual(session.receive(.connectionInit(payload: ["token": "t"])), .authenticate(["token": "t"]))
        XCTAssertEqual(session.phase, .authenticating)
        XCTAssertEqual(session.receive(.subscribe(id: "1", query)), .close(.unauthorized, "Unauthorized"),
                       "no operation before the acknowledgement")
        XCTAssertEqual(session.phase, .closed)
        XCTAssertFalse(session.authenticated(), "a closed session is not acknowledged")
    }

    func testKeepAlivePingsAndClosesWhenAPeriodPassesWithoutAnswer() {
        var session = GraphQLWSSession(subprotocol: .transport, maxOperations: 2)
        _ = session.receive(.connectionInit(payload: [:]))
        XCTAssertTrue(session.authenticated())
        XCTAssertEqual(session.keepAliveDue(), .ping)
        XCTAssertEqual(session.receive(.pong), .none)
        XCTAssertEqual(session.keepAliveDue(), .ping, "answered: the next period pings again")
        XCTAssertEqual(session.receive(.subscribe(id: "1", query)), .start(id: "1", query))
        XCTAssertEqual(session.keepAliveDue(), .ping, "any message is an answer")
        XCTAssertEqual(session.keepAliveDue(), .close(.goingAway, "Ping timeout"))
        XCTAssertEqual(session.phase, .closed)
        XCTAssertTrue(session.operations.isEmpty)
        XCTAssertEqual(session.keepAliveDue(), .none, "nothing after close")
    }

    func testLegacyKeepAliveNeedsNoAnswer() {
        var session = GraphQLWSSession(subprotocol: .legacy, maxOperations: 2)
        _ = session.receive(.connectionInit(payload: [:]))
        XCTAssertTrue(session.authenticated())
        for _ in 0..<3 { XCTAssertEqual(session.keepAliveDue(), .keepAlive) }
        session.closed()
        XCTAssertEqual(session.keepAliveDue(), .none)
    }

    func testSessionRefusesASecondInitWith4429() {
        var session = GraphQLWSSession(subprotocol: .transport, maxOperations: 2)
        _ = session.receive(.connectionInit(payload: [:]))
        XCTAssertTrue(session.authenticated())
        XCTAssertEqual(session.receive(.connectionInit(payload: [:])), .close(.tooManyInit, "Too many initialisation requests"))
        XCTAssertEqual(session.receive(.ping(payload: nil)), .none, "nothing after close")
    }

    func testSessionDuplicateIdClosesWith4409AndLimitRefusesOneOperation() {
        var session = GraphQLWSSession(subprotocol: .transport, maxOperations: 2)
        _ = session.receive(.connectionInit(payload: [:]))
        XCTAssertTrue(session.authenticated())
        XCTAssertEqual(session.receive(.subscribe(id: "1", query)), .start(id: "1", query))
        XCTAssertEqual(session.receive(.subscribe(id: "2", query)), .start(id: "2", query))
        XCTAssertEqual(session.receive(.subscribe(id: "3", query)), .send(.tooManySubscriptions(id: "3", limit: 2)))
        XCTAssertEqual(session.operations, ["1", "2"])
        XCTAssertEqual(session.receive(.complete(id: "2")), .stop(id: "2", acknowledge: false))
        XCTAssertEqual(session.receive(.complete(id: "2")), .none, "an unknown id is ignored")
        XCTAssertTrue(session.finished("1"), "an operation that ends by itself is completed")
        XCTAssertFalse(session.finished("1"), "once")
        XCTAssertEqual(session.receive(.subscribe(id: "1", query)), .start(id: "1", query), "a finished id may be reused")
        XCTAssertEqual(session.receive(.subscribe(id: "1", query)), .close(.subscriberExists, "Subscriber for 1 already exists"))
    }

    func testLegacySessionAcknowledgesStopAndTerminates() {
        var session = GraphQLWSSession(subprotocol: .legacy, maxOperations: 5)
        _ = session.receive(.connectionInit(payload: [:]))
        XCTAssertTrue(session.authenticated())
        XCTAssertEqual(session.receive(.subscribe(id: "9", query)), .start(id: "9", query))
        XCTAssertEqual(session.receive(.complete(id: "9")), .stop(id: "9", acknowledge: true))
        XCTAssertEqual(session.receive(.terminate), .close(.normal, "Normal closure"))
    }

    func testInitTimeoutOnlyBeforeInit() {
        var waiting = GraphQLWSSession(subprotocol: .transport, maxOperations: 1)
        XCTAssertTrue(waiting.initTimedOut())
        XCTAssertEqual(waiting.phase, .closed)
        var started = GraphQLWSSession(subprotocol: .transport, maxOperations: 1)
        _ = started.receive(.connectionInit(payload: [:]))
        XCTAssertFalse(started.initTimedOut(), "a slow token check is not a missing init")
    }

    func testTokenIsFoundInEveryAcceptedPlace() {
        XCTAssertEqual(GraphQLWSConnection.token(in: ["Authorization": "Bearer abc"], header: nil), "abc")
        XCTAssertEqual(GraphQLWSConnection.token(in: ["authorization": "bearer  abc "], header: nil), "abc")
        XCTAssertEqual(GraphQLWSConnection.token(in: ["token": "abc"], header: "Bearer other"), "abc", "the payload wins")
        XCTAssertEqual(GraphQLWSConnection.token(in: ["accessToken": "abc"], header: nil), "abc")
        XCTAssertEqual(GraphQLWSConnection.token(in: ["headers": ["Authorization": "Bearer abc"]], header: nil), "abc")
        XCTAssertEqual(GraphQLWSConnection.token(in: [:], header: "Bearer hdr"), "hdr")
        XCTAssertNil(GraphQLWSConnection.token(in: ["token": ""], header: nil))
        XCTAssertNil(GraphQLWSConnection.token(in: ["token": 5], header: nil))
        XCTAssertNil(GraphQLWSConnection.token(in: [:], header: nil))
    }

    func testCloseReasonsFitInACloseFrame() {
        let long = String(repeating: "é", count: 100)
        XCTAssertLessThanOrEqual(GraphQLWSConnection.closeReason(long).utf8.count, 123)
        XCTAssertEqual(GraphQLWSConnection.closeReason("short"), "short")
        XCTAssertLessThanOrEqual(GraphQLWSConnection.slowConsumerReason.utf8.count, 123)
    }
}

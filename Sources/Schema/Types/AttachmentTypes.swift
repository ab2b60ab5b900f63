import Foundation
import Graphiti
import Resolvers

extension Message {
    func attachments(context: OperationContext, arguments: NoArguments) async throws -> [Attachment] {
        try await context.loaders.attachments.get(id) ?? []
    }
}

extension Attachment {
    /// GraphQL `Int` is 32-bit; uploads stay far below that (limits are settings in MiB).
    var byteSizeValue: Int { Int(byteSize) }
}

/// Files carried by messages; `url` is the REST download route, which checks access itself.
enum AttachmentTypes {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Enum(AttachmentKind.self) { Value(.image); Value(.video); Value(.audio); Value(.file) },
            Type(Attachment.self) {
                Prop("id", at: \.id)
                Prop("kind", at: \.kind)
                Prop("mimeType", at: \.mimeType).description("Decided from the file's bytes, not from what the uploader claimed.")
                Prop("byteSize", at: \.byteSizeValue)
                Prop("url", at: \.url).description("GET with the same bearer token; supports Range and ETag.")
                Prop("width", at: \.width)
                Prop("height", at: \.height)
                Prop("sha256", at: \.sha256)
                Prop("fileName", at: \.fileName).description("The name given at upload, without any folder part.")
            },
        ]
    }
}

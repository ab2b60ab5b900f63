import Schema

enum GatewaySchema {
    static func printed() throws -> String { try MessagerieSchema.printed() }
}

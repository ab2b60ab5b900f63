import GraphQL

// GraphQL 4.3 reads introspection fields of arguments and input fields by reflection, and these
// types keep `deprecationReason` but no stored `isDeprecated`, so `__InputValue.isDeprecated`
// (asked by current clients such as gql and GraphiQL) resolves to null and fails the whole
// introspection. Answering by key fixes it without touching the library.

extension GraphQLArgumentDefinition: @retroactive KeySubscriptable {
    public subscript(key: String) -> (any Sendable)? {
        switch key {
        case "name": name
        case "description": description
        case "type": type
        case "defaultValue": defaultValue
        case "isDeprecated": deprecationReason != nil
        case "deprecationReason": deprecationReason
        default: nil
        }
    }
}

extension InputObjectFieldDefinition: @retroactive KeySubscriptable {
    public subscript(key: String) -> (any Sendable)? {
        switch key {
        case "name": name
        case "description": description
        case "type": type
        case "defaultValue": defaultValue
        case "isDeprecated": deprecationReason != nil
        case "deprecationReason": deprecationReason
        default: nil
        }
    }
}

import Resolvers

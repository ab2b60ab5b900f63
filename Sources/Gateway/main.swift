import Hummingbird
import JWTKit
import Graphiti
import PostgresNIO
import ArgumentParser
print("hi")

#!/usr/bin/env python3
"""Sign-in through Messagerie's GraphQL endpoint with the `gql` client, as a Python app would.

Two steps, because the code arrives by SMS (the Swift test reads it from its fake Termii):

    gql_signin.py request URL PHONE        -> requestOtp
    gql_signin.py verify  URL PHONE CODE   -> verifyOtp, then `me` with the Bearer token

Both validate every document locally against the committed `schema.graphql`, as generated
clients do. A third step loads the schema the way `gql` does by default, by introspection:

    gql_signin.py schema  URL              -> introspection with gql's default query

Each step checks what it got and prints one JSON summary line on stdout; any failed check
exits non-zero with the reason on stderr.
"""
import json
import os
import sys

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLSchema, print_schema

try:  # gql >= 4: variables travel on the request object
    from gql import GraphQLRequest
except ImportError:  # gql 3
    GraphQLRequest = None


def execute(client, document, variables=None):
    if GraphQLRequest is not None:
        return client.execute(GraphQLRequest(document, variable_values=variables))
    return client.execute(gql(document), variable_values=variables)


SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schema.graphql")


def client_for(url, token=None, introspect=False):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = RequestsHTTPTransport(url=url, headers=headers, timeout=20, retries=0)
    if introspect:
        # gql's own introspection query (what `gql-cli` and `fetch_schema_from_transport` send).
        return Client(transport=transport, fetch_schema_from_transport=True)
    # Every document is validated client-side against the committed SDL before it is sent.
    with open(SCHEMA_FILE, encoding="utf-8") as sdl:
        return Client(transport=transport, schema=sdl.read())


def schema(url):
    with client_for(url, introspect=True) as session:
        loaded = session.client.schema
        check(isinstance(loaded, GraphQLSchema), "the schema was introspected")
        check("requestOtp" in loaded.mutation_type.fields, "requestOtp is in the schema")
        check("verifyOtp" in loaded.mutation_type.fields, "verifyOtp is in the schema")
        print(json.dumps({
            "step": "schema",
            "schemaTypes": sorted(t for t in loaded.type_map if not t.startswith("__")),
            "sdlHasMe": "me: User!" in print_schema(loaded),
        }))


def check(condition, message):
    if not condition:
        print(f"check failed: {message}", file=sys.stderr)
        sys.exit(1)


def request(url, phone):
    with client_for(url) as session:
        result = execute(
            session,
            "mutation Request($phone: String!) { requestOtp(phone: $phone) { phone expiresAt retryAfterSeconds } }",
            {"phone": phone},
        )
        challenge = result["requestOtp"]
        check(challenge["phone"].startswith("+"), f"E.164 phone: {challenge}")
        check(isinstance(challenge["retryAfterSeconds"], int), f"retryAfterSeconds is an Int: {challenge}")
        check(challenge["expiresAt"].endswith("Z"), f"expiresAt is a UTC DateTime: {challenge}")

        # A client-side refusal: gql validates against the schema before sending.
        try:
            execute(session, "{ noSuchField }")
            check(False, "gql should refuse an invalid document locally")
        except Exception as error:  # graphql.GraphQLError
            check("noSuchField" in str(error), f"local validation error names the field: {error}")

        print(json.dumps({
            "step": "request",
            "phone": challenge["phone"],
            "retryAfterSeconds": challenge["retryAfterSeconds"],
        }))


def verify(url, phone, code):
    with client_for(url) as session:
        result = execute(
            session,
            """
            mutation Verify($phone: String!, $code: String!, $name: String) {
              verifyOtp(phone: $phone, code: $code, displayName: $name) {
                accessToken refreshToken accessTokenExpiresAt isNewUser user { id phone displayName }
              }
            }
            """,
            {"phone": phone, "code": code, "name": "Py Client"},
        )
        payload = result["verifyOtp"]
        check(payload["isNewUser"] is True, f"first sign-in creates the user: {payload}")
        check(payload["accessToken"].count(".") == 2, "the access token is a JWT")

        # Without a token, `me` is refused with the contract's code.
        try:
            execute(session, "{ me { id } }")
            check(False, "me without a token must fail")
        except TransportQueryError as error:
            codes = [(e.get("extensions") or {}).get("code") for e in (error.errors or [])]
            check("UNAUTHENTICATED" in codes, f"UNAUTHENTICATED expected, got {error.errors}")
            unauthenticated_code = "UNAUTHENTICATED"

    with client_for(url, token=payload["accessToken"]) as session:
        me = execute(session, "query Me { me { id phone displayName } }")["me"]
        check(me["id"] == payload["user"]["id"], f"me is the signed-in user: {me} vs {payload['user']}")
        check(me["phone"] == phone, f"the owner sees the phone: {me}")
        renamed = execute(
            session,
            "mutation Rename($n: String) { updateProfile(displayName: $n) { displayName } }",
            {"n": "Renamed From Python"},
        )["updateProfile"]
        check(renamed["displayName"] == "Renamed From Python", f"updateProfile: {renamed}")
        logout = execute(session, "mutation { logout }")
        check(logout["logout"] is True, f"logout: {logout}")
        try:
            execute(session, "{ me { id } }")
            check(False, "the token must be refused after logout")
        except TransportQueryError as error:
            codes = [(e.get("extensions") or {}).get("code") for e in (error.errors or [])]
            check("UNAUTHENTICATED" in codes, f"UNAUTHENTICATED after logout, got {error.errors}")

    print(json.dumps({
        "step": "verify",
        "userId": me["id"],
        "phone": me["phone"],
        "displayName": me["displayName"],
        "isNewUser": payload["isNewUser"],
        "anonymousMe": unauthenticated_code,
        "loggedOut": True,
    }))


def main(argv):
    if len(argv) >= 3 and argv[0] == "request":
        request(argv[1], argv[2])
    elif len(argv) >= 4 and argv[0] == "verify":
        verify(argv[1], argv[2], argv[3])
    elif len(argv) >= 2 and argv[0] == "schema":
        schema(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])

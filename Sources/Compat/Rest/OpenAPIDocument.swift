/// The OpenAPI 3.1 description of every REST route, served at `/openapi.json`. Kept beside the
/// routes; a test checks both ways that it and the router list the same routes.
enum OpenAPIDocument {
    static let json = ##"""
    {
     "openapi": "3.1.0",
     "info": {
      "title": "Messagerie REST API",
      "version": "1.0.0",
      "description": "The original routes of Messagerie, served by the same resolvers as GraphQL (/graphql) and Socket.IO. Unknown JSON fields are ignored; a field of the wrong type is refused naming the field."
     },
     "servers": [
      {
       "url": "/"
      }
     ],
     "security": [
      {
       "bearer": []
      }
     ],
     "tags": [
      {
       "name": "auth"
      },
      {
       "name": "messages"
      },
      {
       "name": "conversations"
      },
      {
       "name": "files"
      },
      {
       "name": "devices"
      },
      {
       "name": "meta"
      }
     ],
     "paths": {
      "/api/auth/register": {
       "post": {
        "summary": "Register with a one-time code",
        "description": "Without `otp`: sends a code by SMS (202). With `otp`: verifies it and creates the account (201). 409 when the phone is already registered.",
        "responses": {
         "202": {
          "description": "Code sent",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/CodeSent"
            }
           }
          }
         },
         "201": {
          "description": "Account created and signed in",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/Session"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "409": {
          "$ref": "#/components/responses/Conflict"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         },
         "429": {
          "$ref": "#/components/responses/RateLimited"
         }
        },
        "tags": [
         "auth"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "phone": {
              "type": "string",
              "description": "E.164 or a common national form"
             },
             "name": {
              "type": "string",
              "minLength": 1,
              "maxLength": 64
             },
             "otp": {
              "type": "string",
              "pattern": "^[0-9]{6}$"
             }
            },
            "required": [
             "phone",
             "name"
            ]
           }
          }
         }
        },
        "security": []
       }
      },
      "/api/auth/login": {
       "post": {
        "summary": "Sign in with a one-time code",
        "description": "Without `otp`: sends a code by SMS (202). With `otp`: verifies it (200). 404 when no account has this phone.",
        "responses": {
         "202": {
          "description": "Code sent",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/CodeSent"
            }
           }
          }
         },
         "200": {
          "description": "Signed in",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/Session"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         },
         "429": {
          "$ref": "#/components/responses/RateLimited"
         }
        },
        "tags": [
         "auth"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "phone": {
              "type": "string"
             },
             "otp": {
              "type": "string",
              "pattern": "^[0-9]{6}$"
             }
            },
            "required": [
             "phone"
            ]
           }
          }
         }
        },
        "security": []
       }
      },
      "/api/auth/refresh": {
       "post": {
        "summary": "Rotate a refresh token",
        "description": "Each refresh token works once; presenting a used one revokes the whole session.",
        "responses": {
         "200": {
          "description": "New tokens",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/Session"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         }
        },
        "tags": [
         "auth"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "refreshToken": {
              "type": "string"
             }
            },
            "required": [
             "refreshToken"
            ]
           }
          }
         }
        },
        "security": []
       }
      },
      "/api/auth/logout": {
       "post": {
        "summary": "Sign out",
        "description": "Revokes the session of the access token; its tokens stop working at once.",
        "responses": {
         "200": {
          "description": "Signed out",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "status": {
               "type": "string",
               "const": "logged_out"
              }
             },
             "required": [
              "status"
             ]
            }
           }
          }
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         }
        },
        "tags": [
         "auth"
        ]
       }
      },
      "/api/messages/send": {
       "post": {
        "summary": "Send a message",
        "description": "Exactly one of `receiverId` (a direct conversation is created on first send) or `conversationId`. `content`, `attachmentIds` or both. The same `clientMessageId` returns the first message.",
        "responses": {
         "201": {
          "description": "Stored",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "message": {
               "$ref": "#/components/schemas/Message"
              }
             },
             "required": [
              "message"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "403": {
          "$ref": "#/components/responses/Forbidden"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "messages"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "receiverId": {
              "type": "string",
              "format": "uuid"
             },
             "conversationId": {
              "type": "string",
              "format": "uuid"
             },
             "content": {
              "type": "string"
             },
             "attachmentIds": {
              "type": "array",
              "items": {
               "type": "string",
               "format": "uuid"
              },
              "maxItems": 10
             },
             "replyToId": {
              "type": "string",
              "format": "uuid"
             },
             "clientMessageId": {
              "type": "string",
              "minLength": 1,
              "maxLength": 128
             }
            }
           }
          }
         }
        }
       }
      },
      "/api/messages/conversation/{userId1}/{userId2}": {
       "get": {
        "summary": "Messages between two people",
        "description": "The direct conversation of the two users, newest page first, each page in chronological order. The caller must be one of the two.",
        "responses": {
         "200": {
          "description": "A page",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/MessageList"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "403": {
          "$ref": "#/components/responses/Forbidden"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         }
        },
        "tags": [
         "messages"
        ],
        "parameters": [
         {
          "name": "userId1",
          "in": "path",
          "required": true,
          "description": "One of the two users",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "userId2",
          "in": "path",
          "required": true,
          "description": "The other user",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "limit",
          "in": "query",
          "required": false,
          "description": "Page size, 1 to 100 (default 50).",
          "schema": {
           "type": "integer",
           "minimum": 1,
           "maximum": 100
          }
         },
         {
          "name": "before",
          "in": "query",
          "required": false,
          "description": "nextCursor of the previous (newer) page.",
          "schema": {
           "type": "string"
          }
         }
        ]
       }
      },
      "/api/messages/react": {
       "post": {
        "summary": "Add a reaction",
        "description": "Adds the caller's emoji to a message.",
        "responses": {
         "200": {
          "description": "The message",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "message": {
               "$ref": "#/components/schemas/Message"
              }
             },
             "required": [
              "message"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "403": {
          "$ref": "#/components/responses/Forbidden"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "409": {
          "$ref": "#/components/responses/Conflict"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "messages"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "$ref": "#/components/schemas/ReactionInput"
           }
          }
         }
        }
       }
      },
      "/api/messages/unreact": {
       "post": {
        "summary": "Remove a reaction",
        "description": "Removes the caller's emoji from a message.",
        "responses": {
         "200": {
          "description": "The message",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "message": {
               "$ref": "#/components/schemas/Message"
              }
             },
             "required": [
              "message"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "403": {
          "$ref": "#/components/responses/Forbidden"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "409": {
          "$ref": "#/components/responses/Conflict"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "messages"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "$ref": "#/components/schemas/ReactionInput"
           }
          }
         }
        }
       }
      },
      "/api/messages/read": {
       "post": {
        "summary": "Mark as read",
        "description": "Marks everything up to and including this message as read by the caller.",
        "responses": {
         "200": {
          "description": "How many became read",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "conversationId": {
               "type": "string",
               "format": "uuid"
              },
              "messageId": {
               "type": "string",
               "format": "uuid"
              },
              "read": {
               "type": "integer"
              }
             },
             "required": [
              "conversationId",
              "messageId",
              "read"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         }
        },
        "tags": [
         "messages"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "messageId": {
              "type": "string",
              "format": "uuid"
             }
            },
            "required": [
             "messageId"
            ]
           }
          }
         }
        }
       }
      },
      "/api/messages/search": {
       "get": {
        "summary": "Search messages",
        "description": "Messages the caller may read, newest first, matching every given criterion. At least one of term, senderId, receiverId, conversationId.",
        "responses": {
         "200": {
          "description": "A page",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/MessageList"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "messages"
        ],
        "parameters": [
         {
          "name": "term",
          "in": "query",
          "required": false,
          "description": "Words the text must contain",
          "schema": {
           "type": "string"
          }
         },
         {
          "name": "senderId",
          "in": "query",
          "required": false,
          "description": "Sent by",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "receiverId",
          "in": "query",
          "required": false,
          "description": "Received by",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "conversationId",
          "in": "query",
          "required": false,
          "description": "In this conversation",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "limit",
          "in": "query",
          "required": false,
          "description": "Page size, 1 to 100 (default 50).",
          "schema": {
           "type": "integer",
           "minimum": 1,
           "maximum": 100
          }
         },
         {
          "name": "cursor",
          "in": "query",
          "required": false,
          "description": "nextCursor of the previous page.",
          "schema": {
           "type": "string"
          }
         }
        ]
       }
      },
      "/api/messages/filter": {
       "get": {
        "summary": "Filter messages by date",
        "description": "Messages the caller may read between two dates, newest first. A plain date as endDate includes that whole day.",
        "responses": {
         "200": {
          "description": "A page",
          "content": {
           "application/json": {
            "schema": {
             "$ref": "#/components/schemas/MessageList"
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "messages"
        ],
        "parameters": [
         {
          "name": "startDate",
          "in": "query",
          "required": false,
          "description": "ISO 8601 date or date-time",
          "schema": {
           "type": "string"
          }
         },
         {
          "name": "endDate",
          "in": "query",
          "required": false,
          "description": "ISO 8601 date or date-time",
          "schema": {
           "type": "string"
          }
         },
         {
          "name": "conversationId",
          "in": "query",
          "required": false,
          "description": "In this conversation",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "limit",
          "in": "query",
          "required": false,
          "description": "Page size, 1 to 100 (default 50).",
          "schema": {
           "type": "integer",
           "minimum": 1,
           "maximum": 100
          }
         },
         {
          "name": "cursor",
          "in": "query",
          "required": false,
          "description": "nextCursor of the previous page.",
          "schema": {
           "type": "string"
          }
         }
        ]
       }
      },
      "/api/messages/upload": {
       "post": {
        "summary": "Upload a file",
        "description": "multipart/form-data with the file in the field `file`, streamed to disk. The type comes from the file's bytes (JPEG, PNG, GIF, WebP, HEIC, MP4, QuickTime, WebM, MP3, AAC, Ogg, WAV, PDF); limits depend on the kind. The attachment can then be sent with /api/messages/send.",
        "responses": {
         "201": {
          "description": "Stored",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "attachment": {
               "$ref": "#/components/schemas/Attachment"
              }
             },
             "required": [
              "attachment"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         }
        },
        "tags": [
         "files"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "multipart/form-data": {
           "schema": {
            "type": "object",
            "properties": {
             "file": {
              "type": "string",
              "contentMediaType": "application/octet-stream"
             }
            },
            "required": [
             "file"
            ]
           }
          }
         }
        }
       }
      },
      "/api/files/{id}": {
       "get": {
        "summary": "Download a file",
        "description": "For the uploader and members who can see a message carrying it. Supports Range (206, 416) and If-None-Match (304).",
        "responses": {
         "200": {
          "description": "The file",
          "headers": {
           "ETag": {
            "schema": {
             "type": "string"
            }
           },
           "Cache-Control": {
            "schema": {
             "type": "string"
            }
           },
           "Accept-Ranges": {
            "schema": {
             "type": "string"
            }
           }
          },
          "content": {
           "*/*": {
            "schema": {
             "type": "string",
             "contentMediaType": "application/octet-stream"
            }
           }
          }
         },
         "206": {
          "description": "Part of the file",
          "headers": {
           "Content-Range": {
            "schema": {
             "type": "string"
            }
           }
          },
          "content": {
           "*/*": {
            "schema": {
             "type": "string",
             "contentMediaType": "application/octet-stream"
            }
           }
          }
         },
         "304": {
          "description": "Not modified"
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "416": {
          "$ref": "#/components/responses/RangeNotSatisfiable"
         }
        },
        "tags": [
         "files"
        ],
        "parameters": [
         {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "Attachment id",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "Range",
          "in": "header",
          "required": false,
          "schema": {
           "type": "string"
          },
          "description": "bytes=first-last, bytes=first- or bytes=-suffix"
         }
        ]
       },
       "head": {
        "summary": "File headers",
        "description": "The headers GET would send (type, length, ETag, ranges), without the body.",
        "tags": [
         "files"
        ],
        "parameters": [
         {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "Attachment id",
          "schema": {
           "type": "string",
           "format": "uuid"
          }
         },
         {
          "name": "Range",
          "in": "header",
          "required": false,
          "schema": {
           "type": "string"
          },
          "description": "bytes=first-last, bytes=first- or bytes=-suffix"
         }
        ],
        "responses": {
         "200": {
          "description": "Headers of the file",
          "headers": {
           "ETag": {
            "schema": {
             "type": "string"
            }
           },
           "Cache-Control": {
            "schema": {
             "type": "string"
            }
           },
           "Accept-Ranges": {
            "schema": {
             "type": "string"
            }
           }
          }
         },
         "206": {
          "description": "Headers of the range"
         },
         "304": {
          "description": "Not modified"
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "416": {
          "description": "The range is outside the file"
         }
        }
       }
      },
      "/api/conversations": {
       "get": {
        "summary": "The caller's conversations",
        "description": "Newest activity first.",
        "responses": {
         "200": {
          "description": "A page",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "conversations": {
               "type": "array",
               "items": {
                "$ref": "#/components/schemas/Conversation"
               }
              },
              "nextCursor": {
               "type": [
                "string",
                "null"
               ]
              }
             },
             "required": [
              "conversations",
              "nextCursor"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "conversations"
        ],
        "parameters": [
         {
          "name": "limit",
          "in": "query",
          "required": false,
          "description": "Page size, 1 to 100 (default 50).",
          "schema": {
           "type": "integer",
           "minimum": 1,
           "maximum": 100
          }
         },
         {
          "name": "cursor",
          "in": "query",
          "required": false,
          "description": "nextCursor of the previous page.",
          "schema": {
           "type": "string"
          }
         }
        ]
       }
      },
      "/api/devices": {
       "post": {
        "summary": "Register a push device",
        "description": "A token belongs to whoever registered it last.",
        "responses": {
         "201": {
          "description": "Registered",
          "content": {
           "application/json": {
            "schema": {
             "type": "object",
             "properties": {
              "device": {
               "$ref": "#/components/schemas/Device"
              }
             },
             "required": [
              "device"
             ]
            }
           }
          }
         },
         "400": {
          "$ref": "#/components/responses/BadRequest"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "415": {
          "$ref": "#/components/responses/UnsupportedMediaType"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "devices"
        ],
        "requestBody": {
         "required": true,
         "content": {
          "application/json": {
           "schema": {
            "type": "object",
            "properties": {
             "token": {
              "type": "string",
              "minLength": 1,
              "maxLength": 4096
             },
             "platform": {
              "type": "string",
              "enum": [
               "fcm",
               "expo",
               "FCM",
               "EXPO"
              ]
             }
            },
            "required": [
             "token",
             "platform"
            ]
           }
          }
         }
        }
       }
      },
      "/api/devices/{token}": {
       "delete": {
        "summary": "Unregister a push device",
        "description": "Only the caller's own device.",
        "responses": {
         "204": {
          "description": "Removed"
         },
         "401": {
          "$ref": "#/components/responses/Unauthorized"
         },
         "404": {
          "$ref": "#/components/responses/NotFound"
         },
         "413": {
          "$ref": "#/components/responses/TooLarge"
         },
         "422": {
          "$ref": "#/components/responses/Unprocessable"
         }
        },
        "tags": [
         "devices"
        ],
        "parameters": [
         {
          "name": "token",
          "in": "path",
          "required": true,
          "description": "The device token, percent-encoded",
          "schema": {
           "type": "string"
          }
         }
        ]
       }
      },
      "/openapi.json": {
       "get": {
        "summary": "This document",
        "description": "The OpenAPI 3.1 description of the REST API.",
        "responses": {
         "200": {
          "description": "OpenAPI document",
          "content": {
           "application/json": {
            "schema": {
             "type": "object"
            }
           }
          }
         }
        },
        "tags": [
         "meta"
        ],
        "security": []
       }
      }
     },
     "components": {
      "securitySchemes": {
       "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT"
       }
      },
      "schemas": {
       "Error": {
        "type": "object",
        "properties": {
         "error": {
          "type": "object",
          "properties": {
           "code": {
            "type": "string",
            "enum": [
             "BAD_REQUEST",
             "UNAUTHENTICATED",
             "FORBIDDEN",
             "NOT_FOUND",
             "CONFLICT",
             "PAYLOAD_TOO_LARGE",
             "UNSUPPORTED_MEDIA_TYPE",
             "RANGE_NOT_SATISFIABLE",
             "BAD_USER_INPUT",
             "RATE_LIMITED",
             "METHOD_NOT_ALLOWED",
             "UPSTREAM",
             "INTERNAL"
            ]
           },
           "message": {
            "type": "string"
           },
           "field": {
            "type": [
             "string",
             "null"
            ],
            "description": "The input at fault, when there is one"
           }
          },
          "required": [
           "code",
           "message"
          ]
         }
        },
        "required": [
         "error"
        ]
       },
       "User": {
        "type": "object",
        "properties": {
         "id": {
          "type": "string",
          "format": "uuid"
         },
         "phone": {
          "type": [
           "string",
           "null"
          ],
          "description": "Only in the owner's own answers"
         },
         "name": {
          "type": [
           "string",
           "null"
          ]
         },
         "displayName": {
          "type": [
           "string",
           "null"
          ]
         },
         "avatarUrl": {
          "type": [
           "string",
           "null"
          ]
         },
         "lastSeenAt": {
          "type": [
           "string",
           "null"
          ],
          "format": "date-time"
         },
         "createdAt": {
          "type": "string",
          "format": "date-time"
         }
        },
        "required": [
         "id",
         "name",
         "createdAt"
        ]
       },
       "Attachment": {
        "type": "object",
        "properties": {
         "id": {
          "type": "string",
          "format": "uuid"
         },
         "url": {
          "type": "string"
         },
         "kind": {
          "type": "string",
          "enum": [
           "IMAGE",
           "VIDEO",
           "AUDIO",
           "FILE"
          ]
         },
         "mimeType": {
          "type": "string"
         },
         "size": {
          "type": "integer"
         },
         "width": {
          "type": [
           "integer",
           "null"
          ]
         },
         "height": {
          "type": [
           "integer",
           "null"
          ]
         },
         "sha256": {
          "type": "string"
         },
         "fileName": {
          "type": [
           "string",
           "null"
          ]
         }
        },
        "required": [
         "id",
         "url",
         "mimeType",
         "size"
        ]
       },
       "Message": {
        "type": "object",
        "properties": {
         "id": {
          "type": "string",
          "format": "uuid"
         },
         "conversationId": {
          "type": "string",
          "format": "uuid"
         },
         "senderId": {
          "type": [
           "string",
           "null"
          ],
          "format": "uuid"
         },
         "receiverId": {
          "type": [
           "string",
           "null"
          ],
          "format": "uuid",
          "description": "The other person of a direct conversation; null in groups"
         },
         "content": {
          "type": [
           "string",
           "null"
          ]
         },
         "attachments": {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/Attachment"
          }
         },
         "status": {
          "type": "string",
          "enum": [
           "SENT",
           "DELIVERED",
           "READ"
          ]
         },
         "reactions": {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/Reaction"
          }
         },
         "replyToId": {
          "type": [
           "string",
           "null"
          ],
          "format": "uuid"
         },
         "clientMessageId": {
          "type": [
           "string",
           "null"
          ]
         },
         "kind": {
          "type": "string",
          "enum": [
           "USER",
           "SYSTEM"
          ]
         },
         "createdAt": {
          "type": "string",
          "format": "date-time"
         },
         "editedAt": {
          "type": [
           "string",
           "null"
          ],
          "format": "date-time"
         },
         "deletedAt": {
          "type": [
           "string",
           "null"
          ],
          "format": "date-time"
         }
        },
        "required": [
         "id",
         "conversationId",
         "senderId",
         "receiverId",
         "content",
         "attachments",
         "status",
         "reactions",
         "createdAt"
        ]
       },
       "Reaction": {
        "type": "object",
        "properties": {
         "emoji": {
          "type": "string"
         },
         "count": {
          "type": "integer"
         },
         "reactedByMe": {
          "type": "boolean"
         }
        },
        "required": [
         "emoji",
         "count",
         "reactedByMe"
        ]
       },
       "ReactionInput": {
        "type": "object",
        "properties": {
         "messageId": {
          "type": "string",
          "format": "uuid"
         },
         "emoji": {
          "type": "string",
          "minLength": 1
         }
        },
        "required": [
         "messageId",
         "emoji"
        ]
       },
       "MessageList": {
        "type": "object",
        "properties": {
         "messages": {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/Message"
          }
         },
         "nextCursor": {
          "type": [
           "string",
           "null"
          ]
         }
        },
        "required": [
         "messages",
         "nextCursor"
        ]
       },
       "CodeSent": {
        "type": "object",
        "properties": {
         "status": {
          "type": "string",
          "const": "otp_sent"
         },
         "phone": {
          "type": "string"
         },
         "expiresIn": {
          "type": "integer",
          "description": "Seconds"
         },
         "retryAfter": {
          "type": "integer",
          "description": "Seconds before another code may be asked for"
         }
        },
        "required": [
         "status",
         "expiresIn"
        ]
       },
       "Session": {
        "type": "object",
        "properties": {
         "token": {
          "type": "string",
          "description": "Access token (JWT)"
         },
         "refreshToken": {
          "type": "string"
         },
         "expiresAt": {
          "type": "string",
          "format": "date-time"
         },
         "user": {
          "$ref": "#/components/schemas/User"
         },
         "isNewUser": {
          "type": "boolean"
         }
        },
        "required": [
         "token",
         "refreshToken",
         "user"
        ]
       },
       "Conversation": {
        "type": "object",
        "properties": {
         "id": {
          "type": "string",
          "format": "uuid"
         },
         "kind": {
          "type": "string",
          "enum": [
           "DIRECT",
           "GROUP"
          ]
         },
         "title": {
          "type": [
           "string",
           "null"
          ]
         },
         "members": {
          "type": "array",
          "items": {
           "type": "object",
           "properties": {
            "userId": {
             "type": "string",
             "format": "uuid"
            },
            "role": {
             "type": "string",
             "enum": [
              "OWNER",
              "ADMIN",
              "MEMBER"
             ]
            },
            "joinedAt": {
             "type": "string",
             "format": "date-time"
            }
           },
           "required": [
            "userId",
            "role",
            "joinedAt"
           ]
          }
         },
         "lastMessage": {
          "oneOf": [
           {
            "$ref": "#/components/schemas/Message"
           },
           {
            "type": "null"
           }
          ]
         },
         "unreadCount": {
          "type": "integer"
         },
         "createdAt": {
          "type": "string",
          "format": "date-time"
         },
         "lastActivityAt": {
          "type": "string",
          "format": "date-time"
         }
        },
        "required": [
         "id",
         "kind",
         "members",
         "unreadCount",
         "createdAt"
        ]
       },
       "Device": {
        "type": "object",
        "properties": {
         "token": {
          "type": "string"
         },
         "platform": {
          "type": "string",
          "enum": [
           "FCM",
           "EXPO"
          ]
         },
         "userId": {
          "type": "string",
          "format": "uuid"
         },
         "createdAt": {
          "type": "string",
          "format": "date-time"
         },
         "updatedAt": {
          "type": "string",
          "format": "date-time"
         }
        },
        "required": [
         "token",
         "platform",
         "userId"
        ]
       }
      },
      "responses": {
       "BadRequest": {
        "description": "Malformed JSON, a missing field or a field of the wrong type",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "Unauthorized": {
        "description": "No valid access token",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "Forbidden": {
        "description": "Not allowed for this caller",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "NotFound": {
        "description": "No such thing visible to this caller",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "Conflict": {
        "description": "Conflicts with the current state",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "TooLarge": {
        "description": "The body (or file) is over its limit",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "UnsupportedMediaType": {
        "description": "Wrong content type, or a file type that is not accepted",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "RangeNotSatisfiable": {
        "description": "The range is outside the file",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        },
        "headers": {
         "Content-Range": {
          "schema": {
           "type": "string"
          }
         }
        }
       },
       "Unprocessable": {
        "description": "Well-formed input the domain refuses (a wrong code, text too long, ...)",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        }
       },
       "RateLimited": {
        "description": "Too many attempts",
        "content": {
         "application/json": {
          "schema": {
           "$ref": "#/components/schemas/Error"
          }
         }
        },
        "headers": {
         "Retry-After": {
          "schema": {
           "type": "integer"
          }
         }
        }
       }
      }
     }
    }
    """##
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TipCore

/// The only error type that reaches a client (STYLE.md, Hummingbird): a status and a stable
/// code, rendered as `{"error":"<code>","message":"…"}` (SECURITY.md §3.5).
struct APIError: HTTPResponseError, Equatable {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Maps a wire-format violation to its HTTP status: malformed input is 400, well-formed
    /// input the server will not take (a key it does not know, a size it does not accept) 422.
    init(_ e: FormatError) {
        switch e.code {
        case "unknown_key", "key_retired", "invalid_sealed_length": self.init(.unprocessableContent, e.code, e.message)
        default: self.init(.badRequest, e.code, e.message)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let body = Self.json(["error": code, "message": message])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func json(_ object: [String: String]) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? enc.encode(object)) ?? Data("{}".utf8)
    }

    static let notFound = APIError(.notFound, "not_found", "no such resource")
    static let internalError = APIError(.internalServerError, "internal_error", "the server could not handle this request")
    static let storageUnavailable = APIError(
        .serviceUnavailable, "storage_unavailable", "the tip was not stored; please try again later")
}

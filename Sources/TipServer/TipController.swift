import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// The keys the server accepts tips for. v1 has one key from a file; the signed keyring
/// (keys issue) will implement the same protocol.
public protocol KeyDirectory: Sendable {
    /// The key new tips should be sealed to.
    var current: PublicKeyDocument { get }
    func accepts(_ keyID: KeyID) -> Bool
}

public struct SingleKeyDirectory: KeyDirectory {
    public let current: PublicKeyDocument
    public init(_ document: PublicKeyDocument) { current = document }
    public func accepts(_ keyID: KeyID) -> Bool { keyID == current.keyID }
}

/// `/api/v1`: the sealed path (SECURITY.md §3.4–3.5).
struct TipController<Context: RequestContext> {
    let repository: any TipRepository
    let keys: any KeyDirectory
    let maxPaddedBytes: Int
    let logger: Logger

    /// The largest JSON body that can hold a valid envelope: the base64 of the largest sealed
    /// box, plus room for the other members.
    var maxBodyBytes: Int { ((maxPaddedBytes + PaddedSize.sealOverhead + 2) / 3) * 4 + 256 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("key", use: key)
            .post("tips", use: submit)
    }

    @Sendable func key(_ request: Request, context: Context) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: keys.current.encoded())))
    }

    @Sendable func submit(_ request: Request, context: Context) async throws -> Response {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the envelope as application/json")
        }
        let body = try await BodyReader.collect(request, limit: maxBodyBytes)
        guard !body.isEmpty else { throw APIError(.badRequest, "empty_request", "the request body is empty") }
        let submission: Submission
        do {
            submission = try Submission.validate(body, maxPadded: maxPaddedBytes, isKnownKey: keys.accepts)
        } catch let e as FormatError {
            throw APIError(e)
        }
        let tip = SealedTip(id: Random.tipID(), keyID: submission.keyID, day: .today, sealed: submission.sealed)
        do {
            try await repository.store(tip)
        } catch {
            // Not tied to who sent it: the error type only, so operators see a failing disk.
            logger.error("storing a tip failed", metadata: ["error.type": "\(type(of: error))"])
            throw APIError.storageUnavailable
        }
        // Only now, after the commit, is the witness told the tip was received (non-negotiable 4).
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{\"received\":true}")))
    }
}

enum BodyReader {
    /// Reads a request body up to `limit` bytes, refusing early on a larger Content-Length.
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        let tooLarge = APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        if let len = request.headers[.contentLength].flatMap({ Int($0) }), len > limit { throw tooLarge }
        var buffer = ByteBuffer()
        for try await chunk in request.body {
            guard buffer.readableBytes + chunk.readableBytes <= limit else { throw tooLarge }
            var c = chunk
            buffer.writeBuffer(&c)
        }
        return Data(buffer.readableBytesView)
    }
}

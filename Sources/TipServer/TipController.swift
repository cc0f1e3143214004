import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// The keys the server accepts tips for: the signed keyring (SECURITY.md §2.5), or, as a dev
/// shortcut, one public key document.
public protocol KeyDirectory: Sendable {
    /// The key new tips should be sealed to.
    var current: PublicKeyDocument { get }
    func acceptance(of keyID: KeyID) -> KeyAcceptance
    /// The installed signed keyring, served as is; nil in single-key mode.
    var keyringFile: Data? { get }
    /// The pinned root's public key, for the page script; nil in single-key mode.
    var rootPublicKey: [UInt8]? { get }
}

/// `--public-key`: one key, no keyring. For development only.
public struct SingleKeyDirectory: KeyDirectory {
    public let current: PublicKeyDocument
    public init(_ document: PublicKeyDocument) { current = document }
    public func acceptance(of keyID: KeyID) -> KeyAcceptance { keyID == current.keyID ? .accepted : .unknown }
    public var keyringFile: Data? { nil }
    public var rootPublicKey: [UInt8]? { nil }
}

/// `/api/v1`: the sealed path (SECURITY.md §3.4–3.5).
struct TipController<Context: RequestContext> {
    let repository: any TipRepository
    let keys: any KeyDirectory
    let maxPaddedBytes: Int
    /// Where a failure to store is counted, to be logged by the hour (§4.7).
    let failures: FailureLog
    let pow: ProofOfWorkGuard
    let metrics: ServerMetrics

    /// The largest JSON body that can hold a valid envelope: the base64 of the largest sealed
    /// box, plus room for the other members.
    var maxBodyBytes: Int { ((maxPaddedBytes + PaddedSize.sealOverhead + 2) / 3) * 4 + 256 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("key", use: key)
            .get("keyring", use: keyring)
            .get("challenge", use: challenge)
            .post("tips", use: submit)
    }

    @Sendable func key(_ request: Request, context: Context) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: keys.current.encoded())))
    }

    /// `{"v":1,"challenge":"<base64 of 49 bytes>","difficulty":D,"expires":UNIX}` (§4.6).
    @Sendable func challenge(_ request: Request, context: Context) async throws -> Response {
        let c = await pow.issue()
        metrics.gauge("tipgate_pow_difficulty", Double(c.difficulty))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let json = "{\"challenge\":\"\(Data(c.challenge).base64EncodedString())\",\"difficulty\":\(c.difficulty),\"expires\":\(c.expires),\"v\":1}"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    @Sendable func keyring(_ request: Request, context: Context) async throws -> Response {
        guard let file = keys.keyringFile else { throw APIError.notFound }
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file)))
    }

    @Sendable func submit(_ request: Request, context: Context) async throws -> Response {
        guard BodyReader.mediaType(of: request) == "application/json" else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the envelope as application/json")
        }
        let body = try await BodyReader.collect(request, limit: maxBodyBytes)
        guard !body.isEmpty else { throw APIError(.badRequest, "empty_request", "the request body is empty") }
        let submission: Submission
        do {
            submission = try Submission.validate(body, maxPadded: maxPaddedBytes, acceptance: keys.acceptance)
        } catch let e as FormatError {
            throw APIError(e)
        }
        do {
            try await pow.check(submission.pow, sealed: submission.sealed)
        } catch let e as FormatError {
            throw APIError(e.code == "pow_busy" ? .serviceUnavailable : .forbidden, e.code, e.message)
        }
        let tip = SealedTip(id: Random.tipID(), keyID: submission.keyID, day: .today, sealed: submission.sealed)
        do {
            try await repository.store(tip)
        } catch let e as StoreError where e.code == "storage_full" {
            throw APIError(.serviceUnavailable, "storage_full", "the server cannot take tips right now; please try again later")
        } catch {
            // Not tied to who sent it, nor to when: counted by error type, logged by the hour
            // (§4.7), so operators see a failing disk.
            failures.record("storing a tip failed", error)
            throw APIError.storageUnavailable
        }
        await pow.accepted()
        metrics.acceptedTip()
        // Only now, after the commit, is the witness told the tip was received (non-negotiable 4).
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{\"received\":true}")))
    }
}

enum BodyReader {
    /// The request's media type without parameters, lowercased (`application/json; charset=utf-8`
    /// is `application/json`).
    static func mediaType(of request: Request) -> String? {
        guard let value = request.headers[.contentType] else { return nil }
        // The first non-empty piece before a ';', trimmed and lowercased. For an ASCII value,
        // bytewise (NSString's trimming was 2.6% of a submission's handling, issue 9); any
        // other value the old way, whose Unicode whitespace and characters this keeps exactly.
        guard value.utf8.allSatisfy({ $0 < 0x80 }) else {
            return value.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard let piece = value.utf8.split(separator: UInt8(ascii: ";")).first else { return nil }
        let blank = { (c: UInt8) in c == 0x20 || c == 0x09 }
        let trimmed = piece.drop(while: blank).reversed().drop(while: blank).reversed()
        return String(decoding: trimmed, as: UTF8.self).lowercased()
    }

    /// Reads a request body up to `limit` bytes, refusing early on a larger Content-Length.
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        let tooLarge = APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        if let len = request.headers[.contentLength].flatMap({ Int($0) }), len > limit { throw tooLarge }
        var buffer = ByteBuffer()
        try await reading {
            for try await chunk in request.body {
                guard buffer.readableBytes + chunk.readableBytes <= limit else { throw tooLarge }
                var c = chunk
                buffer.writeBuffer(&c)
            }
        }
        // Shorter than stated: the connection ended early. (NIO's parser already fails such a
        // body; this does not depend on it.)
        if let stated = request.headers[.contentLength].flatMap({ Int($0) }), buffer.readableBytes != stated { throw incomplete }
        return Data(buffer.readableBytesView)
    }

    static let incomplete = APIError(.badRequest, "incomplete_body", "the request body was cut off or could not be read")

    /// Runs `read` over a request's body, turning what the connection throws meanwhile (a
    /// client gone mid-upload, a TLS close without close_notify, a bad chunk) into 400
    /// `incomplete_body`: the client's doing, so not logged (§4.4), and no 500.
    static func reading(_ read: () async throws -> Void) async throws {
        do {
            try await read()
        } catch let e as APIError {
            throw e
        } catch let e as CancellationError {
            throw e
        } catch {
            throw incomplete
        }
    }
}

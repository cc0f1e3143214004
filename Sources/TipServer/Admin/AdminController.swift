import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// The admin listener's routes (SECURITY.md §5.1–5.2). They exist only on the admin listener,
/// which defaults to loopback and goes behind its own onion service with client authorization;
/// the public listener has no admin route at all.
struct AdminController<Context: RequestContext> {
    let store: any IntakeAdministration
    let keys: any KeyDirectory
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .post("pull", use: pull)
            .post("ack", use: ack)
    }

    /// Body: `{"all":false}` (or empty). Answers with a bundle (§5) of the tips not yet pulled
    /// or exported, or of all held with `all`.
    @Sendable func pull(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 4096)
        var all = false
        if body.readableBytes > 0 {
            guard let o = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Bool], Set(o.keys).isSubset(of: ["all"])
            else { throw APIError(.badRequest, "invalid_json", "the pull request is {\"all\":true|false}") }
            all = o["all"] ?? false
        }
        let (bundle, _) = try store.pull(all: all)
        var headers = HTTPFields()
        headers[.contentType] = "application/x-tipgate-bundle"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bundle)))
    }

    /// Body: a signed acknowledgement (§5.2). Deletes exactly the matching rows.
    @Sendable func ack(_ request: Request, context: Context) async throws -> Response {
        guard let root = keys.rootPublicKey else {
            throw APIError(.conflict, "no_root", "this server runs without a keyring, so it has no root to verify acks")
        }
        let body = try await request.body.collect(upTo: AdminAuthMiddleware<Context>.maxBody)
        let ack: AckPayload
        do { ack = try AckSigner.verify(Data(body.readableBytesView), pin: .key(root)) } catch let e as FormatError {
            throw APIError(.unprocessableContent, e.code, e.message)
        }
        let result: IntakeDatabase.PurgeResult
        do { result = try store.purge(ack) } catch let e as StoreError where e.code == "wrong_instance" {
            throw APIError(.unprocessableContent, e.code, e.message)
        }
        logger.notice("purged acknowledged tips", metadata: ["deleted": "\(result.deleted)"])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let json = try JSONEncoder().encode(result)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

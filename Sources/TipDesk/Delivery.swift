import Foundation
import TipCore
import TipCrypto

/// Fetches a proof-of-work challenge and solves it when the server asks for work
/// (SECURITY.md §4.6); nil when it does not.
public func solveChallenge(_ client: WebClient, sealed: [UInt8]) async throws -> ProofOfWork.Solution? {
    let r = try await client.get("/api/v1/challenge")
    guard r.status == 200, let o = try? JSONSerialization.jsonObject(with: r.body) as? [String: Any],
        let text = o["challenge"] as? String, let bytes = StrictBase64.decode(text), let c = ProofOfWork.Challenge(Array(bytes))
    else { throw DeskError("the server's proof-of-work challenge is not valid") }
    guard c.difficulty > 0 else { return nil }
    guard let s = ProofOfWorkSolver.solve(c, sealed: sealed, limit: 1 << 34) else { throw DeskError("could not solve the server's challenge") }
    return s
}

public struct DeliveryReport: Sendable {
    public struct Failure: Equatable, Sendable {
        public let file: String
        public let message: String
    }

    /// The file and the server it went to, for each parcel delivered.
    public var delivered: [(file: String, host: String)] = []
    /// Forwards for partners who take files by hand: not the courier's to post.
    public var byHand: [String] = []
    public var failed: [Failure] = []
}

/// The courier's delivery of forwards (SECURITY.md §11.4).
public enum ForwardDelivery {
    /// Posts every forward in `outbox` addressed to a partner's tipgate (SECURITY.md §11.4) to
    /// that server's `/api/v1/tips`, as any witness's client would, solving its proof of work
    /// when asked. A delivered parcel is deleted: it names the partner's server, and a carried
    /// stick should not keep a list of who the organization works with. A refused one stays
    /// for the next run. Nothing here holds or unlocks a key.
    public static func deliver(outbox: URL, caFile: String?, socks: String? = nil) async throws -> DeliveryReport {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: outbox.path) else {
            throw DeskError("cannot read the outbox \(outbox.path)")
        }
        var report = DeliveryReport()
        var clients = [String: WebClient]()
        for name in names.sorted() where name.hasSuffix("." + ForwardParcel.fileExtension) {
            let url = outbox.appendingPathComponent(name)
            do {
                guard let data = fm.contents(atPath: url.path) else { throw DeskError("cannot read it") }
                let parcel: ForwardParcel
                do { parcel = try ForwardParcel.decode(data) } catch let e as FormatError { throw DeskError("not a valid forward: \(e.message)") }
                guard let to = parcel.deliverTo else {
                    report.byHand.append(name)
                    continue
                }
                let client = try clients[to] ?? WebClient(base: to, caFile: caFile, socks: socks)
                clients[to] = client
                var submission = parcel.submission
                submission.pow = try await solveChallenge(client, sealed: submission.sealed)
                let r = try await client.post("/api/v1/tips", body: submission.encoded(), contentType: "application/json")
                guard r.status == 201 else {
                    let code = (try? JSONSerialization.jsonObject(with: r.body) as? [String: Any])?["error"] as? String
                    throw DeskError(
                        "\(URL(string: to)?.host ?? to) refused it (HTTP \(r.status)\(code.map { ", \(TerminalText.preview($0, limit: 40))" } ?? ""))")
                }
                report.delivered.append((name, URL(string: to)?.host ?? to))
                do { try fm.removeItem(at: url) } catch {
                    report.failed.append(.init(file: name, message: "delivered, but the file could not be removed: delete it, or the next run sends it again"))
                }
            } catch let e as DeskError {
                report.failed.append(.init(file: name, message: e.message))
            } catch {
                report.failed.append(.init(file: name, message: TerminalText.preview("\(error)", limit: 200)))
            }
        }
        for c in clients.values { await c.shutdown() }
        clients.removeAll()
        return report
    }
}

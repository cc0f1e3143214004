import Foundation
import TipCore
import TipCrypto
import TipStore

/// The courier, on the online machine (SECURITY.md §5.1): it moves sealed files and never
/// loads or unlocks a vault key. Its own transport key only signs requests to the admin
/// listener.
public struct Courier {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `--courier`, then `$TIPDESK_COURIER`, then `~/.tipdesk-courier`.
    public static func resolve(flag: String?, environment: [String: String]) -> Courier {
        if let flag { return Courier(directory: URL(fileURLWithPath: flag)) }
        if let env = environment["TIPDESK_COURIER"], !env.isEmpty { return Courier(directory: URL(fileURLWithPath: env)) }
        return Courier(directory: URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".tipdesk-courier"))
    }

    var keyURL: URL { directory.appendingPathComponent("transport.key") }

    /// Creates the transport key; refuses to replace one (the server knows it by its id).
    public func initialise() throws -> CourierKeyDocument {
        guard !FileManager.default.fileExists(atPath: keyURL.path) else {
            throw DeskError("a courier key already exists in \(directory.path)", hints: ["its document: tipdesk courier key"])
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pair = SigningKeyPair.generate()
        do { try DurableFile.writeNew(CourierKey.encode(pair), to: keyURL) } catch let e as StoreError { throw DeskError(e.message) }
        return CourierKey.document(for: pair.publicKey)
    }

    func key() throws -> SigningKeyPair {
        guard let data = FileManager.default.contents(atPath: keyURL.path) else {
            throw DeskError(
                "no courier key in \(directory.path)",
                hints: ["create one with: tipdesk courier init", "then register it on the server: tipgate reviewers add"])
        }
        do { return try CourierKey.decode(data) } catch { throw DeskError("the courier key file is damaged") }
    }

    public func document() throws -> CourierKeyDocument { CourierKey.document(for: try key().publicKey) }

    /// A signed request to the admin listener.
    func call(_ client: WebClient, _ path: String, body: Data, contentType: String) async throws -> WebClient.Reply {
        let headers = CourierKey.sign(method: "POST", path: path, body: body, with: try key(), now: Int(Date().timeIntervalSince1970))
        let r = try await client.post(path, body: body, contentType: contentType, headers: headers)
        guard r.status == 200 else {
            let code = (try? JSONSerialization.jsonObject(with: r.body) as? [String: String])?["error"] ?? "HTTP \(r.status)"
            let hint =
                switch code {
                case "unauthorized": "register this courier key on the server: tipgate reviewers add (tipdesk courier key prints it)"
                case "stale_request": "this machine's clock is off by more than five minutes"
                default: "see SECURITY.md §6 for the code"
                }
            throw DeskError("the admin listener refused the request (\(code))", hints: [hint])
        }
        return r
    }

    /// Fetches a bundle of sealed tips and writes it to `out` (O_EXCL, 0600).
    ///
    /// The server marks what it sends as collected (SECURITY.md §5.1), so `out` is taken
    /// (created empty, O_EXCL) before the request: a name already in use, or a directory that
    /// cannot be written, fails before anything is marked. What can still fail after (a bad
    /// answer, a full disk) says how to fetch those tips again.
    public func pull(_ client: WebClient, all: Bool, to out: URL) async throws -> Int {
        do { try DurableFile.writeNew(Data(), to: out) } catch let e as StoreError { throw DeskError(e.message) }
        var written = false
        defer { if !written { try? FileManager.default.removeItem(at: out) } }
        let r = try await call(client, "/admin/v1/pull", body: Data("{\"all\":\(all)}".utf8), contentType: "application/json")
        let again = "the server has marked these tips collected: fetch them again with tipdesk courier pull --all"
        let count: Int
        do {
            count = try ExportBundle.decode(r.body) { BLAKE2b.hash($0) }.0.count
            try DurableFile.replace(r.body, at: out)
        } catch let e as FormatError {
            throw DeskError("the server's bundle is not valid (\(e.code)): \(e.message)", hints: [again])
        } catch let e as StoreError {
            throw DeskError(e.message, hints: [again])
        }
        written = true
        return count
    }

    public struct PushResult: Decodable, Sendable {
        public let deleted: Int
        public let notHeld: Int
        public let mismatched: Int
    }

    /// Sends a signed acknowledgement; the server deletes exactly what it lists.
    public func pushAck(_ client: WebClient, ack: Data) async throws -> PushResult {
        let r = try await call(client, "/admin/v1/ack", body: ack, contentType: "application/json")
        do { return try JSONDecoder().decode(PushResult.self, from: r.body) } catch { throw DeskError("the server's answer to the ack is not valid") }
    }
}

/// Writes a public document (0644, O_EXCL: never over an existing file).
public enum PublicFile {
    public static func write(_ data: Data, to path: String) throws {
        do { try DurableFile.writeNew(data, to: URL(fileURLWithPath: path), mode: 0o644) } catch let e as StoreError {
            throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out, or remove the old file"] : [])
        }
    }
}

import Foundation
import TipCore
import TipCrypto

/// `tipdesk check-server` (SECURITY.md §2.6): the out-of-band check that a server hands
/// witnesses the keyring and the page scripts the organization signed. Run it from any online
/// machine; it needs only the published root fingerprint.
public struct ServerCheck {
    public let client: WebClient
    public let rootFingerprint: String

    public init(client: WebClient, rootFingerprint: String) {
        self.client = client
        self.rootFingerprint = rootFingerprint
    }

    public struct Report: Sendable {
        public var serial = 0
        public var expires: Day?
        public var currentKey: KeyID?
        public var scriptsChecked = 0
        /// Each difference from what the root signed. Empty means the server checks out.
        public var problems: [String] = []
    }

    /// Fetches and verifies the keyring; any failure here is fatal.
    public func keyring() async throws -> KeyringPayload {
        guard RootIdentity.normalize(rootFingerprint) != nil else {
            throw DeskError("\(rootFingerprint) is not a root fingerprint", hints: ["it starts with root: and has 64 hex digits"])
        }
        let r = try await client.get("/api/v1/keyring")
        guard r.status == 200 else {
            throw DeskError("the server has no keyring (HTTP \(r.status))", hints: ["is it running with --root-key and a keyring?"])
        }
        do {
            return try KeyringSigner.verify(r.body, pin: .fingerprint(rootFingerprint), today: .today).1
        } catch let e as FormatError {
            throw DeskError("the server's keyring is not the one your organization signed (\(e.code)): \(e.message)")
        }
    }

    public func run() async throws -> Report {
        var report = Report()
        let payload: KeyringPayload
        do { payload = try await keyring() } catch let e as DeskError {
            report.problems.append(e.message)
            return report
        }
        report.serial = payload.serial
        report.expires = payload.expires
        report.currentKey = payload.current(on: .today)?.keyID
        // The key the server hands to clients that do not read the keyring.
        let key = try await client.get("/api/v1/key")
        if let doc = try? KeyIdentity.verifiedDocument(key.body) {
            if doc.keyID != report.currentKey {
                report.problems.append("/api/v1/key hands out key \(doc.keyID), not the keyring's current key \(report.currentKey?.hex ?? "(none)")")
            }
        } else {
            report.problems.append("/api/v1/key does not serve a valid key document")
        }
        // The page, and every script it loads, against the signed hashes.
        let page = String(decoding: try await client.get("/").body, as: UTF8.self)
        if let attr = Self.attribute("data-root-key", in: page),
            Hex.encode(BLAKE2b.hash(Array(Data(base64Encoded: attr) ?? Data()))) != RootIdentity.normalize(rootFingerprint)
        {
            report.problems.append("the page names a root key other than yours")
        }
        var loaded = Self.scripts(in: page)
        // app.js starts the proof-of-work worker (SECURITY.md §4.6): it is checked like a script.
        if loaded.contains("app.js") { loaded += Self.workers }
        for name in Set(payload.scripts.keys).subtracting(loaded).sorted() {
            report.problems.append("the page does not load \(name), which the keyring lists")
        }
        for name in loaded {
            let body = try await client.get("/static/\(name)").body
            report.scriptsChecked += 1
            let served = "sha512-" + Data(SHA512.hash(body)).base64EncodedString()
            guard let signed = payload.scripts[name] else {
                report.problems.append("the page loads \(name), which the keyring does not list")
                continue
            }
            if served != signed { report.problems.append("\(name) differs from the signed hash") }
        }
        return report
    }

    /// Scripts app.js runs as workers, fetched from /static/ like the page's scripts.
    static let workers = ["pow-worker.js"]

    /// `<script src="/static/NAME"` names, in page order.
    static func scripts(in page: String) -> [String] {
        page.components(separatedBy: "<script src=\"/static/").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    static func attribute(_ name: String, in page: String) -> String? {
        guard let r = page.range(of: "\(name)=\"") else { return nil }
        return page[r.upperBound...].split(separator: "\"").first.map(String.init)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

/// The admin listener (SECURITY.md §5.1–5.2): signed courier requests, pull, acks, purge.
@Suite struct AdminTests {
    struct Setup {
        var h: Harness
        let root = SigningKeyPair.generate()
        let courier = SigningKeyPair.generate()
        let intake = TestKey.pair()
        let keys: KeyringDirectory

        init() throws {
            h = try Harness()
            let payload = KeyringPayload(
                serial: 1, issued: .today, expires: Day.today.adding(days: 30), rootKeyID: root.rootDocument.keyID,
                intakeKeys: [IntakeKeyEntry(keyID: intake.keyID, publicKey: intake.publicKey, notBefore: .today)], scripts: [:])
            let file = KeyringSigner.sign(payload, with: root).encoded()
            keys = KeyringDirectory(file: file, payload: payload, root: root.rootDocument)
            try h.database.addReviewer(CourierKey.document(for: courier.publicKey))
        }

        func store(_ n: Int) async throws -> [SealedTip] {
            let tips = try (0..<n).map { i in
                let s = try TipSealer.seal(TipDocument(body: "admin tip \(i)"), to: intake.document)
                return SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)
            }
            try await h.database.insert(tips)
            return tips
        }

        func run<T: Sendable>(now: Int? = nil, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
            let deps = ServerDependencies(
                repository: h.writer, keys: keys, logger: Logger(label: "admin-test"),
                pages: try PageResources.load(naclPath: PageResources.defaultNaclPath))
            var d = deps
            d.admin = h.database
            let clock = now
            let app = try buildAdminApplication(h.config, d, now: { clock ?? Int(Date().timeIntervalSince1970) })!
            return try await app.test(.ahc(.https)) { client in try await test(client) }
        }
    }

    static func signed(_ path: String, _ body: Data, key: SigningKeyPair, now: Int = Int(Date().timeIntervalSince1970)) -> HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "application/json"
        for (n, v) in CourierKey.sign(method: "POST", path: path, body: body, with: key, now: now) { h[HTTPField.Name(n)!] = v }
        return h
    }

    @Test func onlySignedFreshRequestsFromRegisteredKeys() async throws {
        let s = try Setup()
        _ = try await s.store(3)
        let body = Data("{\"all\":false}".utf8)
        let good = Self.signed("/admin/v1/pull", body, key: s.courier)
        let stranger = Self.signed("/admin/v1/pull", body, key: SigningKeyPair.generate())
        let stale = Self.signed("/admin/v1/pull", body, key: s.courier, now: Int(Date().timeIntervalSince1970) - 3600)
        let other = Self.signed("/admin/v1/pull", Data("{\"all\":true}".utf8), key: s.courier)
        let results = try await s.run { client in
            var out = [(Int, String?)]()
            func post(_ h: HTTPFields, _ b: Data) async throws {
                let r = try await client.execute(uri: "/admin/v1/pull", method: .post, headers: h, body: ByteBuffer(bytes: b))
                out.append((Int(r.status.code), r.status == .ok ? String(buffer: r.body) : r.errorCode))
            }
            var unsigned = HTTPFields()
            unsigned[.contentType] = "application/json"
            try await post(unsigned, body)
            try await post(stranger, body)
            try await post(stale, body)
            try await post(other, Data("{\"all\":true}".utf8))
            try await post(other, body)  // the signature is over another body
            try await post(good, body)
            try await post(good, body)  // the same request again
            return out
        }
        #expect(results.map(\.0) == [401, 401, 401, 200, 401, 200, 401])
        #expect(results[0].1 == "unauthorized" && results[1].1 == "unauthorized")
        #expect(results[2].1 == "stale_request")
        #expect(results[4].1 == "unauthorized", "a body that is not the signed one")
        #expect(results[6].1 == "replayed_request")
        // Timestamps at the ends of Int (a subtraction that overflowed once trapped the server)
        // are stale, from anyone, before any key is looked at.
        let extremes = try await s.run { client in
            var codes = [String?]()
            for ts in [Int.min, Int.max, Int.min + 1] {
                var h = Self.signed("/admin/v1/pull", body, key: SigningKeyPair.generate())
                h[HTTPField.Name(AdminRequest.timestampHeader)!] = String(ts)
                codes.append(try await client.execute(uri: "/admin/v1/pull", method: .post, headers: h, body: ByteBuffer(bytes: body)).errorCode)
            }
            return codes
        }
        #expect(extremes == ["stale_request", "stale_request", "stale_request"])
        // The first accepted pull ({"all":true}) carried the three tips; the bundle verifies.
        let (header, tips) = try ExportBundle.decode(Data(results[3].1!.utf8)) { BLAKE2b.hash($0) }
        #expect(header.count == 3 && tips.count == 3)
        #expect(try s.h.database.counts().unexported == 0)
    }

    /// With `adminTls`, the admin listener shows its own certificate (naming only the admin
    /// onion), so the one every witness is shown need not name it (§5.1).
    @Test func theAdminListenerCanHaveItsOwnCertificate() async throws {
        var s = try Setup()
        let own = try makeCertificate(in: s.h.directory.appendingPathComponent("admin-tls"))
        s.h.config.adminTLS = (own.cert, own.key)
        let script = "import ssl, sys; print(ssl.get_server_certificate(('127.0.0.1', int(sys.argv[1]))))"
        let served = try await s.run { client in
            try run("/usr/bin/python3", ["-c", script, String(try #require(client.port))]).stdout
        }
        func der(_ pem: String) -> Data? {
            Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())
        }
        let expected = try String(contentsOfFile: own.cert, encoding: .utf8)
        let publicOne = try String(contentsOfFile: s.h.config.tlsCertificatePath, encoding: .utf8)
        #expect(der(served) != nil && der(served) == der(expected))
        #expect(der(served) != der(publicOne))
    }

    /// The admin listener closes a connection whose request head does not arrive in time, as
    /// the public one does (§4.3): it shares the process's descriptors with the witnesses'.
    @Test func aSlowHeadIsClosedOnTheAdminListenerToo() async throws {
        var s = try Setup()
        s.h.config.headerTimeoutSeconds = 1
        let script = """
            import socket, ssl, sys, time
            ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10))
            s.sendall(b"POST /admin/v1/pull HTTP/1.1\\r\\nHost: x\\r\\n")
            t0 = time.time()
            try:
                while s.recv(1024):
                    pass
            except (ssl.SSLError, OSError):
                pass
            print(f"{time.time() - t0:.1f}")
            """
        let waited = try await s.run { client in
            let port = try #require(client.port)
            return try run("/usr/bin/python3", ["-c", script, String(port)]).stdout
        }
        let seconds = try #require(Double(waited.trimmingCharacters(in: .whitespacesAndNewlines)), "\(waited)")
        #expect(seconds < 6, "closed after \(seconds) s")
    }

    @Test func publicListenerHasNoAdminRoute() async throws {
        let h = try Harness()
        let status = try await h.run { client in
            try await client.execute(uri: "/admin/v1/pull", method: .post, body: ByteBuffer(string: "{}")).status
        }
        #expect(status == .notFound)
    }

    // SECURITY.md §5.2: an ack deletes exactly the rows whose id and hash match, for this
    // install only; the deleted ciphertext is gone from the db, -wal and -shm files.
    @Test func ackPurgesExactlyWhatItLists() async throws {
        let s = try Setup()
        let tips = try await s.store(3)
        let instance = try s.h.database.instanceID()
        let entries = [
            AckPayload.Entry(id: tips[0].id, blake2b: Hex.encode(BLAKE2b.hash(tips[0].sealed))),
            AckPayload.Entry(id: tips[1].id, blake2b: String(repeating: "0", count: 64)),
            AckPayload.Entry(id: Random.tipID(), blake2b: String(repeating: "1", count: 64)),
        ]
        let head = String(repeating: "a", count: 64)
        let ack = AckSigner.sign(AckPayload(instance: instance, day: .today, auditHead: head, tips: entries), with: s.root).encoded()
        let foreign = AckSigner.sign(AckPayload(instance: Random.hex128(), day: .today, auditHead: head, tips: entries), with: s.root).encoded()
        let forged = AckSigner.sign(AckPayload(instance: instance, day: .today, auditHead: head, tips: entries), with: SigningKeyPair.generate()).encoded()
        let asKeyring = SignedDocument(
            payload: AckPayload(instance: instance, day: .today, auditHead: head, tips: entries).encoded(), rootPublicKey: s.root.publicKey,
            signature: s.root.sign(SignedDocument.signedMessage(AckPayload(instance: instance, day: .today, auditHead: head, tips: entries).encoded()))
        ).encoded()
        let requests = [foreign, forged, asKeyring, ack].map { ($0, Self.signed("/admin/v1/ack", $0, key: s.courier)) }
        let results = try await s.run { client in
            var out = [String]()
            for (body, headers) in requests {
                let r = try await client.execute(uri: "/admin/v1/ack", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                out.append(r.status == .ok ? String(buffer: r.body) : (r.errorCode ?? "?"))
            }
            return out
        }
        #expect(results[0] == "wrong_instance")
        #expect(results[1] == "wrong_root")
        #expect(results[2] == "bad_signature", "a keyring-context signature must not pass as an ack")
        let r = try JSONDecoder().decode(IntakeDatabase.PurgeResult.self, from: Data(results[3].utf8))
        #expect(r.deleted == 1 && r.notHeld == 1 && r.mismatched == 1)
        #expect(Set(try s.h.database.allTips().map(\.id)) == [tips[1].id, tips[2].id])
        let needle = Data(tips[0].sealed[200..<264])
        for suffix in ["", "-wal", "-shm"] {
            if let bytes = FileManager.default.contents(atPath: s.h.database.path + suffix) {
                #expect(bytes.range(of: needle) == nil, "the purged ciphertext is still in tipgate.sqlite\(suffix)")
            }
        }
        #expect(FileManager.default.contents(atPath: s.h.database.path)?.range(of: Data(tips[1].sealed[200..<264])) != nil)
    }
}

import Foundation
import Testing
import TipTestSupport

/// The keyring through the real binaries (SECURITY.md §2.4–2.6): ceremony, serve, rotate,
/// install, restart, check-server.
@Suite(.serialized) struct KeyringCLITests {
    struct Org {
        let dir: URL
        let desk: TipdeskCLI
        let root: String
        let fingerprint: String
        let hashes: String

        init(_ label: String) throws {
            dir = scratchDirectory(label)
            desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
            _ = try desk.initialise(in: dir)
            let r = try desk(["keys", "init-root", "--kdf", "interactive"])
            guard r.status == 0 else { throw TestFailure(r.stderr) }
            root = dir.appendingPathComponent("root.json").path
            #expect(try desk(["keys", "export", "--root", "--out", root]).status == 0)
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root))) as! [String: Any]
            fingerprint = doc["fingerprint"] as! String
            hashes = dir.appendingPathComponent("hashes.json").path
            let h = try tipgate(["page-hashes"])
            #expect(h.status == 0, "\(h.stderr)")
            try h.stdoutData.write(to: URL(fileURLWithPath: hashes))
        }

        func sign(_ args: [String], _ name: String) throws -> String {
            let out = dir.appendingPathComponent(name).path
            let r = try desk(["keys"] + args + ["--out", out])
            guard r.status == 0 else { throw TestFailure("tipdesk keys \(args): \(r.stderr)") }
            return out
        }

        /// `tipdesk check-server` with this organization's published root fingerprint.
        func checkServer(_ server: LiveServer) throws -> RunResult {
            try run(
                Repo.binaries.appendingPathComponent("tipdesk").path,
                ["check-server", server.url, "--root-fingerprint", fingerprint, "--cacert", server.certificate], env: childEnvironment())
        }
    }

    func waitForSerial(_ server: LiveServer, _ serial: Int) throws -> Bool {
        for _ in 0..<60 {
            let r = try run("/usr/bin/curl", ["-s", "--cacert", server.certificate, server.url + "/api/v1/keyring"])
            if let w = try? JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any], let p = w["payload"] as? String,
                let payload = Data(base64Encoded: p), let o = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
                o["serial"] as? Int == serial
            {
                return true
            }
            usleep(100_000)
        }
        return false
    }

    /// A server on a certificate from `tipgate cert` (what `make run` and an onion-only
    /// install serve): tipdesk, whose TLS is BoringSSL's, must accept it as its own --cacert.
    /// With a Key Usage extension of digitalSignature alone, BoringSSL refused the certificate
    /// as its own trust anchor (CERTIFICATE_VERIFY_FAILED) while curl (OpenSSL) took it.
    @Test func checkServerTrustsACertificateFromTipgateCert() throws {
        let org = try Org("tipgate-cert")
        let k1 = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
        let cert = org.dir.appendingPathComponent("cert.pem").path
        let key = org.dir.appendingPathComponent("key.pem").path
        let made = try tipgate(["cert", "--cert", cert, "--key", key, "--name", "localhost", "--name", "127.0.0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        let server = try LiveServer(
            dataDirectory: org.dir.appendingPathComponent("data"), publicKey: nil, workDirectory: org.dir,
            extraArgs: ["--root-key", org.root, "--keyring", k1], tls: (cert, key))
        defer { server.stop() }
        let ok = try org.checkServer(server)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("ok: the server matches"))
    }

    @Test func ceremonyRotationRestartAndCheckServer() throws {
        let org = try Org("keyring")
        let k1 = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
        let data = org.dir.appendingPathComponent("data")
        var server: LiveServer? = try LiveServer(
            dataDirectory: data, publicKey: nil, workDirectory: org.dir, extraArgs: ["--root-key", org.root, "--keyring", k1])
        // The server checks out against the published root fingerprint.
        let ok = try org.checkServer(server!)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("ok: the server matches"))
        // A tip to the first key, then a rotation, then a tip to the new key.
        let t1 = try org.desk.seal(
            ["--server", server!.url, "--root-fingerprint", org.fingerprint, "--cacert", server!.certificate, "--post"], stdin: Data("before rotation".utf8))
        #expect(t1.status == 0, "\(t1.stderr)")
        let k2 = try org.sign(["rotate", "--overlap", "14d", "--kdf", "interactive", "--scripts", org.hashes], "k2.json")
        let install = try tipgate(["keys", "install", "--data", data.path, "--root-key", org.root, k2])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(try waitForSerial(server!, 2))
        let t2 = try org.desk.seal(
            ["--server", server!.url, "--root-fingerprint", org.fingerprint, "--cacert", server!.certificate, "--post"], stdin: Data("after rotation".utf8))
        #expect(t2.status == 0, "\(t2.stderr)")
        // A rolled-back keyring and a forged one are refused; serial 2 stays in force.
        let rollback = try tipgate(["keys", "install", "--data", data.path, "--root-key", org.root, k1])
        #expect(rollback.status == 1)
        #expect(rollback.stderr.contains("rollback"))
        let forgedPath = org.dir.appendingPathComponent("forged.json").path
        var k2json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: k2))) as! [String: Any]
        var sig = Data(base64Encoded: k2json["signature"] as! String)!
        sig[0] ^= 1
        k2json["signature"] = sig.base64EncodedString()
        try JSONSerialization.data(withJSONObject: k2json).write(to: URL(fileURLWithPath: forgedPath))
        let bad = try tipgate(["keys", "install", "--data", data.path, "--root-key", org.root, forgedPath])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad_signature"))
        let status = try tipgate(["status", "--data", data.path, "--root-key", org.root])
        #expect(status.stdout.contains("serial 2"), "\(status.stdout)")
        // A restart without --keyring keeps the installed one.
        server!.stop()
        server = try LiveServer(dataDirectory: data, publicKey: nil, workDirectory: org.dir, extraArgs: ["--root-key", org.root])
        #expect(try waitForSerial(server!, 2))
        // Both tips open: nothing lost across the rotation.
        let bundle = org.dir.appendingPathComponent("b.tipgate").path
        #expect(try tipgate(["export", "--data", data.path, "--out", bundle]).status == 0)
        let imported = try org.desk(["import", bundle])
        #expect(!imported.stderr.contains("ALARM"), "\(imported.stderr)")
        let bodies = Set(try org.desk.list().map { $0["body"] as? String ?? "" })
        #expect(bodies == ["before rotation", "after rotation"])
        // check-server catches a script whose signed hash differs…
        var hashes = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: org.hashes))) as! [String: String]
        hashes["app.js"] = "sha512-" + Data(repeating: 7, count: 64).base64EncodedString()
        let badHashes = org.dir.appendingPathComponent("bad-hashes.json")
        try JSONSerialization.data(withJSONObject: hashes).write(to: badHashes)
        let k3 = try org.sign(["renew", "--scripts", badHashes.path], "k3.json")
        #expect(try tipgate(["keys", "install", "--data", data.path, "--root-key", org.root, k3]).status == 0)
        #expect(try waitForSerial(server!, 3))
        let differs = try org.checkServer(server!)
        #expect(differs.status == 1)
        #expect(differs.stderr.contains("app.js differs from the signed hash"), "\(differs.stderr)")
        // …and a keyring that is not the one the pinned root signed.
        let other = try Org("other")
        let wrong = try other.checkServer(server!)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("wrong_root"), "\(wrong.stderr)")
        server!.stop()
    }

    @Test func expiredOrMissingKeyringStopsTheServer() throws {
        let org = try Org("expired")
        let short = try org.sign(["renew", "--days", "1"], "short.json")
        // A one-day keyring is valid now; the server refuses one that has expired, which we
        // cannot wait for here, so check the message for a missing keyring and a bad root.
        let data = org.dir.appendingPathComponent("data")
        let noKeyring = try tipgate([
            "serve", "--data", data.path, "--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent", "--tls-key", "/nonexistent", "--root-key", org.root,
        ])
        #expect(noKeyring.status == 1)
        #expect(noKeyring.stderr.contains("no keyring is installed"), "\(noKeyring.stderr)")
        let other = try Org("expired-other")
        let wrongRoot = try tipgate([
            "serve", "--data", data.path, "--listen", "127.0.0.1:0", "--tls-cert", "/x", "--tls-key", "/x", "--root-key", other.root, "--keyring", short,
        ])
        #expect(wrongRoot.status == 1)
        #expect(wrongRoot.stderr.contains("wrong_root"), "\(wrongRoot.stderr)")
    }
}

import Foundation
import Testing
import TipCore
import TipCrypto
import TipTestSupport

/// Passphrase change, backup and restore, key sharing, through the real `tipdesk` binary.
@Suite(.serialized) struct VaultCLITests {
    let bodies = ["first tip", "второй сигнал", "uchinchi xabar"]

    /// Seals `bodies` to the vault's exported key, as a server would store them, and imports
    /// them as one bundle. Returns the bundle's path so another vault can import it too.
    @discardableResult
    func importTips(_ desk: TipdeskCLI, key: String, in dir: URL) throws -> String {
        let doc = try KeyIdentity.verifiedDocument(Data(contentsOf: URL(fileURLWithPath: key)))
        let tips = try bodies.map { b in
            let s = try TipSealer.seal(TipDocument(body: b), to: doc)
            return SealedTip(id: Random.tipID(), keyID: s.keyID, day: .today, sealed: s.sealed)
        }.sorted { $0.id < $1.id }
        let bundle = dir.appendingPathComponent("tips-\(Random.hex128().prefix(6)).tipgate")
        try ExportBundle.encode(instance: Random.hex128(), created: .today, tips: tips) { BLAKE2b.hash($0) }.write(to: bundle)
        let r = try desk(["import", bundle.path])
        guard r.status == 0 else { throw TestFailure("import failed: \(r.stderr)") }
        return bundle.path
    }

    func listedBodies(_ desk: TipdeskCLI) throws -> [String] { try desk.list().map { $0["body"] as! String }.sorted() }

    @Test func passphraseChange() throws {
        let dir = scratchDirectory("cli-passphrase")
        var desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        try importTips(desk, key: try desk.initialise(in: dir), in: dir)
        #expect(try desk(["keys", "vault-key", "--kdf", "interactive", "--out", dir.appendingPathComponent("v.json").path]).status == 0)

        let wrong = try desk(["passphrase"], env: ["TIPDESK_PASSPHRASE": "not the passphrase", "TIPDESK_NEW_PASSPHRASE": "second passphrase"])
        #expect(wrong.status == 1 && wrong.stderr.contains("wrong passphrase"), "\(wrong.stderr)")
        let short = try desk(["passphrase"], env: ["TIPDESK_NEW_PASSPHRASE": "short"])
        #expect(short.status == 1 && short.stderr.contains("too short"), "\(short.stderr)")
        #expect(try listedBodies(desk) == bodies.sorted())

        let changed = try desk(["passphrase"], env: ["TIPDESK_NEW_PASSPHRASE": "second passphrase"])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.contains("re-encrypted 3 secret keys"), "\(changed.stdout)")  // with the data key (§10.1)
        let old = try desk(["list"])
        #expect(old.status == 1 && old.stderr.contains("wrong passphrase"))
        desk.passphrase = "second passphrase"
        #expect(try listedBodies(desk) == bodies.sorted())
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("vault/keys.old").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("vault/keys.new").path))

        // And back, with the new passphrase from a file (trailing newline dropped).
        let file = dir.appendingPathComponent("new-pass")
        try Data("integration passphrase\n".utf8).write(to: file)
        #expect(try desk(["passphrase", "--new-passphrase-file", file.path]).status == 0)
        desk.passphrase = "integration passphrase"
        #expect(try listedBodies(desk) == bodies.sorted())
    }

    @Test func backupAndRestore() throws {
        let dir = scratchDirectory("cli-backup")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        try importTips(desk, key: try desk.initialise(in: dir), in: dir)
        let backup = dir.appendingPathComponent("vault.backup").path
        let b = try desk(["backup", "--kdf", "interactive", "--out", backup])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("and 3 tips"), "\(b.stdout)")
        #expect(try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int == 0o600)
        #expect(try desk(["backup", "--kdf", "interactive", "--out", backup]).status == 1, "never replaces a file")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("vault/state.json"))) as! [String: Any]
        #expect(state["last_backup"] as? String == Day.today.text && state["backup_tips"] as? Int == 3)

        let data = try Data(contentsOf: URL(fileURLWithPath: backup))
        let refused: [(String, Data, String, String)] = [
            ("truncated", data.dropLast(40), "integration passphrase", "truncated"),
            (
                "one byte edited",
                {
                    var d = data
                    d[d.count - 100] ^= 0x20
                    return d
                }(), "integration passphrase", "damaged"
            ),
            ("wrong passphrase", data, "not the passphrase", "wrong passphrase"),
        ]
        for (what, bytes, passphrase, message) in refused {
            let file = dir.appendingPathComponent("bad.backup")
            try? FileManager.default.removeItem(at: file)
            try bytes.write(to: file)
            let target = dir.appendingPathComponent("restored-\(what.prefix(5))")
            let r = try TipdeskCLI(vault: target, passphrase: passphrase)(["restore", file.path])
            #expect(r.status == 1 && r.stderr.contains(message), "\(what): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target.path), "\(what): nothing written")
        }

        let restored = TipdeskCLI(vault: dir.appendingPathComponent("restored"))
        let r = try restored(["restore", backup])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try listedBodies(restored) == bodies.sorted())
        let again = try restored(["restore", backup])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again.stderr)")
    }

    @Test func shareAndReceive() throws {
        let dir = scratchDirectory("cli-share")
        let first = TipdeskCLI(vault: dir.appendingPathComponent("first"))
        let bundle = try importTips(first, key: try first.initialise(in: dir), in: dir)
        let second = TipdeskCLI(vault: dir.appendingPathComponent("second"), passphrase: "second reviewer passphrase")
        let third = TipdeskCLI(vault: dir.appendingPathComponent("third"), passphrase: "third reviewer passphrase")
        for desk in [second, third] { #expect(try desk(["init", "--kdf", "interactive"]).status == 0) }
        let secondKey = dir.appendingPathComponent("second.vault.json").path
        let thirdKey = dir.appendingPathComponent("third.vault.json").path
        let vk = try second(["keys", "vault-key", "--kdf", "interactive", "--out", secondKey])
        #expect(vk.status == 0 && vk.stdout.contains("vault fingerprint: vault:"), "\(vk.stderr)")
        #expect(try second(["keys", "vault-key", "--out", secondKey]).status == 1, "refuses to overwrite")
        #expect(try third(["keys", "vault-key", "--kdf", "interactive", "--out", thirdKey]).status == 0)

        let share = dir.appendingPathComponent("share.json").path
        let s = try first(["keys", "share", "--to", secondKey, "--out", share])
        #expect(s.status == 0 && s.stdout.contains("shared 1 intake key"), "\(s.stderr)")
        let r = try second(["keys", "receive", "--kdf", "interactive", share])
        #expect(r.status == 0 && r.stdout.contains("received 1 new intake key (0 already held)"), "\(r.stdout)\(r.stderr)")
        #expect(try second(["keys", "receive", "--kdf", "interactive", share]).stdout.contains("received 0 new intake keys (1 already held)"))
        // The vault key is not an intake key: keys list shows the two intake keys only.
        let list = try second(["keys", "list"])
        #expect(list.stdout.split(separator: "\n").filter { $0.hasPrefix("key ") }.count == 2, "\(list.stdout)")
        #expect(try second(["import", bundle]).status == 0)
        #expect(try listedBodies(second) == bodies.sorted())

        // A share for the third vault is refused by the second.
        let other = dir.appendingPathComponent("other.json").path
        #expect(try first(["keys", "share", "--to", thirdKey, "--out", other]).status == 0)
        let wrong = try second(["keys", "receive", other])
        #expect(wrong.status == 1 && wrong.stderr.contains("is addressed to vault key"), "\(wrong.stderr)")
        // An intake key document is not a vault key: nothing is sealed to it.
        let notVault = try first(["keys", "share", "--to", dir.appendingPathComponent("org.public.json").path, "--out", dir.appendingPathComponent("x").path])
        #expect(notVault.status == 1 && notVault.stderr.contains("not a valid vault key document"), "\(notVault.stderr)")
    }

    /// A share's keyring is taken only under a root the receiver names: anyone with the vault
    /// key can make a share, so the hint never offers the root the share claims.
    @Test func aSharedKeyringIsNotPinnedToTheRootItClaims() throws {
        let org = try KeyringCLITests.Org("cli-share-root")
        _ = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
        let second = TipdeskCLI(vault: org.dir.appendingPathComponent("second"), passphrase: "second reviewer passphrase")
        #expect(try second(["init", "--kdf", "interactive"]).status == 0)
        let key = org.dir.appendingPathComponent("second.vault.json").path
        #expect(try second(["keys", "vault-key", "--kdf", "interactive", "--out", key]).status == 0)
        let share = org.dir.appendingPathComponent("share.json").path
        #expect(try org.desk(["keys", "share", "--to", key, "--out", share]).status == 0)
        let r = try second(["keys", "receive", "--kdf", "interactive", share])
        #expect(r.status == 0 && r.stderr.contains("not imported") && r.stderr.contains("not from the share"), "\(r.stderr)")
        #expect(!r.stderr.contains(org.fingerprint) && !r.stdout.contains(org.fingerprint), "\(r.stderr)")
        let pinned = try second(["keys", "receive", "--kdf", "interactive", "--root-fingerprint", org.fingerprint, share])
        #expect(pinned.status == 0 && pinned.stdout.contains("keyring serial 1 imported"), "\(pinned.stdout)\(pinned.stderr)")
    }
}

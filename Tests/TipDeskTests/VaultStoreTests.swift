import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

extension DeskFixture {
    /// Seals `docs` to `key` (each on its day) into a bundle of `instance`; returns the file and
    /// the sealed tips, sorted by id as a bundle has them.
    func bundle(_ docs: [(TipDocument, Day)], to key: PublicKeyDocument, instance: String = "11111111111111111111111111111111")
        throws -> (URL, [SealedTip])
    {
        let tips = try docs.map { d, day -> SealedTip in
            let s = try TipSealer.seal(d, to: key)
            return SealedTip(id: Random.tipID(), keyID: s.keyID, day: day, sealed: s.sealed)
        }.sorted { $0.id < $1.id }
        return (try write(tips, instance: instance), tips)
    }

    func write(_ tips: [SealedTip], instance: String = "11111111111111111111111111111111") throws -> URL {
        let url = root.appendingPathComponent("bundle-\(Random.hex128().prefix(8)).tipgate")
        try ExportBundle.encode(instance: instance, created: .today, tips: tips.sorted { $0.id < $1.id }) { BLAKE2b.hash($0) }.write(to: url)
        return url
    }

    func session() throws -> VaultSession { try desk.session(passphrase) }

    /// Runs SQL on the vault's database with Python's sqlite3, outside GRDB, as an attacker
    /// with the file would.
    func sql(_ statement: String) throws {
        let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()"
        let r = try run("/usr/bin/python3", ["-c", script, vault.directory.appendingPathComponent("vault.sqlite").path, statement])
        guard r.status == 0 else { throw TestFailure("sqlite3 failed: \(r.stderr)") }
    }

    /// Flips one bit of byte `offset` of audit entry `seq`'s box, in the file.
    func flipAuditByte(seq: Int, offset: Int) throws {
        let script = """
            import sqlite3,sys
            c=sqlite3.connect(sys.argv[1])
            b=bytearray(c.execute('SELECT box FROM audit WHERE seq=?',(\(seq),)).fetchone()[0])
            b[\(offset)]^=1
            c.execute('UPDATE audit SET box=? WHERE seq=?',(bytes(b),\(seq)))
            c.commit()
            """
        let r = try run("/usr/bin/python3", ["-c", script, vault.directory.appendingPathComponent("vault.sqlite").path])
        guard r.status == 0 else { throw TestFailure("sqlite3 failed: \(r.stderr)") }
    }

    /// Every regular file under the vault directory, recursively.
    func vaultFiles() throws -> [URL] {
        let e = FileManager.default.enumerator(at: vault.directory, includingPropertiesForKeys: [.isRegularFileKey])!
        return e.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }
}

@Suite struct VaultStoreTests {
    /// A partial import followed by a re-import duplicates nothing: an import that fails part
    /// way commits nothing, and a larger bundle after a smaller one adds only the rest.
    @Test func importIsTransactionalAndIdempotent() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let docs = try (0..<6).map { (try TipDocument(body: "tip number \($0)"), Day.today) }
        let (_, tips) = try f.bundle(docs, to: key)
        // An import cut short inside its transaction (a later row breaks a constraint): nothing stays.
        let db = try f.vault.database()
        #expect(throws: (any Error).self) {
            try db.write { w in
                for (i, t) in tips.prefix(3).enumerated() {
                    try w.insert(
                        VaultRecord(
                            id: t.id, instance: String(repeating: "1", count: i == 2 ? 31 : 32), keyID: t.keyID, day: t.day, sizeClass: 1024,
                            sealedBlake2b: String(repeating: "0", count: 64), openError: "x", acked: false, box: nil))
                }
            }
        }
        #expect(try db.records().isEmpty)
        // The first half arrives, then the whole bundle (tipgate export --all after a lost one).
        let first = try f.desk.importBundle(at: try f.write(Array(tips.prefix(3))), passphrase: f.passphrase)
        #expect(first.added == 3 && first.opened == 3)
        let all = try f.write(tips)
        let second = try f.desk.importBundle(at: all, passphrase: f.passphrase)
        #expect(second.added == 3 && second.alreadyHad == 3 && second.conflicts.isEmpty)
        let third = try f.desk.importBundle(at: all, passphrase: f.passphrase)
        #expect(third.added == 0 && third.alreadyHad == 6)
        #expect(try db.records().count == 6 && db.tipCount() == 6)
        #expect(Set(try f.session().tips().map { try $0.result.get().body }) == Set(docs.map(\.0.body)))
        // Opened tips keep no sealed bytes; the hash of what arrived stays, for acks.
        #expect(try db.sealedTips().isEmpty)
        for r in try db.records() {
            let t = tips.first { $0.id == r.id }!
            #expect(r.sealedBlake2b == Hex.encode(BLAKE2b.hash(t.sealed)) && r.sizeClass == t.sealed.count - 48)
        }
        // The same id with other bytes is a conflict, kept as held.
        var changed = tips[0]
        changed = SealedTip(id: changed.id, keyID: changed.keyID, day: changed.day, sealed: try TipSealer.seal(TipDocument(body: "other"), to: key).sealed)
        #expect(try f.desk.importBundle(at: try f.write([changed]), passphrase: f.passphrase).conflicts == [changed.id])
        // Only imports that added something count for the ack's backup check.
        #expect(try db.importCount() == 2)
    }

    /// A tip whose key the vault lacks stays sealed, is listed with its error, and opens on a
    /// later import or `reopen` once the key has arrived.
    @Test func unopenedTipsAreRetried() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let other = IntakeKeyPair.generate()
        let (url, tips) = try f.bundle([(try TipDocument(body: "later"), .today)], to: other.document)
        let r = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        #expect(r.added == 1 && r.opened == 0 && r.unopened == [tips[0].id] && r.unknownKeys == [other.keyID])
        let listed = try f.session().list()
        #expect(throws: DeskError("no key matches this tip", hints: ["it is sealed to key \(other.keyID), which this vault does not hold"])) {
            try listed[0].result.get()
        }
        #expect(try f.vault.database().sealedTips().map(\.tip) == tips)
        // Still no key: a reopen keeps it sealed.
        #expect(try f.desk.reopen(passphrase: f.passphrase) == ReopenReport(opened: 0, stillSealed: [tips[0].id]))
        // The key arrives (as `keys receive` installs it); the next import opens it.
        try f.vault.write(
            try SecretKeyFile.seal(secret: other.secretKey, keyID: other.keyID.hex, kind: "x25519", passphrase: f.passphrase, cost: .interactive),
            to: f.vault.keysDirectory.appendingPathComponent("\(other.keyID).secret"))
        try f.vault.writePublic(other.document.encoded(), to: f.vault.keysDirectory.appendingPathComponent("\(other.keyID).public.json"))
        let (url2, _) = try f.bundle([(try TipDocument(body: "now"), .today)], to: key)
        let r2 = try f.desk.importBundle(at: url2, passphrase: f.passphrase)
        #expect(r2.added == 1 && r2.reopened == 1)
        #expect(Set(try f.session().tips().map { try $0.result.get().body }) == ["later", "now"])
        #expect(try f.vault.database().sealedTips().isEmpty)
    }

    /// A vault from before the data key (v2: sealed tips only, no keys/data.secret) gets its
    /// data key and records the first time it is unlocked, transparently.
    @Test func aVaultFromBeforeTheDataKeyMigrates() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let (_, tips) = try f.bundle([(try TipDocument(body: "old one"), .today), (try TipDocument(body: "old two"), .today)], to: key)
        try FileManager.default.removeItem(at: f.vault.keysDirectory.appendingPathComponent("data.secret"))
        try f.sql("DELETE FROM vault_meta;")
        _ = try f.vault.database().importTips(tips, instance: String(repeating: "a", count: 32))
        #expect(try f.vault.database().records().isEmpty && f.vault.database().tipCount() == 2)
        #expect(throws: DeskError.self) { try f.desk.session(SecureBytes(copying: Array("a wrong passphrase".utf8))) }
        #expect(!FileManager.default.fileExists(atPath: f.vault.keysDirectory.appendingPathComponent("data.secret").path))

        #expect(Set(try f.session().tips().map { try $0.result.get().body }) == ["old one", "old two"])
        let file = try Data(contentsOf: f.vault.keysDirectory.appendingPathComponent("data.secret"))
        let header = try SecretKeyFile.header(file)
        #expect(header.kind == "vault-data" && header.opslimit == SecretKeyFile.Cost.interactive.opslimit)
        #expect(try f.vault.database().sealedTips().isEmpty && f.vault.database().records().count == 2)
        #expect(try f.session().auditEntries().map(\.action) == [.reopen])
        // From now on the data key is required: losing it is an error, never a fresh key.
        try FileManager.default.removeItem(at: f.vault.keysDirectory.appendingPathComponent("data.secret"))
        #expect(throws: DeskError.self) { try f.session() }
    }

    /// The seized vault: every file under the vault directory (database, -wal, -shm, keys,
    /// state, keyring) holds no word of a tip's body, fields or triage notes.
    @Test func aSeizedVaultHoldsNoPlaintext() async throws {
        let f = DeskFixture()
        _ = try await f.populated(["warm-up tip"])
        let key = try f.vault.publicKeys().last!
        let canaries = ["ZQXCANARYBODY", "КАНАРЕЙКАТЕЛО", "QOʻRIQCHIMAYDON", "ZQXCANARYFIELD", "ZQXCANARYNOTE", "ZQXCANARYTAG", "ZQXCANARYWHO"]
        let docs = [
            (try TipDocument(body: "seen \(canaries[0]) near the market; \(canaries[1])", fields: ["where": canaries[3]], lang: "ru"), Day.today),
            (try TipDocument(body: "ikkinchi \(canaries[2]) xabar", lang: "uz"), Day.today),
        ]
        let (url, tips) = try f.bundle(docs, to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let s = try f.session()
        var change = TriageChange()
        change.note = "called back: \(canaries[4])"
        change.addTags = [canaries[5]]
        change.assignee = canaries[6]
        change.status = .reviewing
        _ = try s.triage(tips[0].id, change)
        _ = try s.show(tips[1].id)
        _ = try s.search(canaries[0])
        _ = try s.list()
        _ = try VaultBackup(vault: f.vault).backup(to: f.root.appendingPathComponent("b.backup"), passphrase: f.passphrase, cost: .interactive)
        // The scan runs while the database is open, with its -wal and -shm present.
        let files = try f.vaultFiles()
        #expect(files.contains { $0.lastPathComponent == "vault.sqlite" } && files.contains { $0.lastPathComponent == "data.secret" })
        for file in files {
            let data = try Data(contentsOf: file)
            for c in canaries {
                #expect(data.range(of: Data(c.utf8)) == nil, "\(c) found in \(file.lastPathComponent)")
                #expect(data.range(of: Data(c.lowercased().utf8)) == nil, "\(c) (lowercase) found in \(file.lastPathComponent)")
            }
        }
        // The tips are there, decryptable with the passphrase only.
        #expect(try s.tip(tips[0].id).triage?.notes.first?.text == "called back: \(canaries[4])")
    }

    /// A record's box is bound to its id: moved to another row, it does not open.
    @Test func aBoxMovedToAnotherTipDoesNotOpen() throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        let (url, tips) = try f.bundle([(try TipDocument(body: "one"), .today), (try TipDocument(body: "two"), .today)], to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        try f.sql("UPDATE record SET box = (SELECT box FROM record WHERE id = '\(tips[1].id.hex)') WHERE id = '\(tips[0].id.hex)';")
        #expect(throws: DeskError.self) { try f.session().tips() }
        #expect(try f.session().tip(tips[1].id).document != nil)
    }
}

@Suite struct ProgressTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines = [String]()
        func add(_ s: String) { lock.withLock { lines.append(s) } }
        var all: [String] { lock.withLock { lines } }
    }

    /// Nothing is drawn when stderr is not a terminal, or in the first second; after it, a
    /// count with no tip data, ended by a newline.
    @Test func progressIsQuietUnlessSlowAndOnATerminal() throws {
        let off = Lines()
        let on = Lines()
        let quiet = ProgressMeter("importing", total: 10, enabled: false) { off.add($0) }
        let slow = ProgressMeter("importing", total: 10, enabled: true) { on.add($0) }
        quiet.advance(by: 5)
        slow.advance(by: 5)
        #expect(on.all.isEmpty, "nothing within the first second")
        Thread.sleep(forTimeInterval: 1.1)
        quiet.advance(by: 5)
        slow.advance(by: 5)
        quiet.finish()
        slow.finish()
        #expect(off.all.isEmpty)
        #expect(on.all == ["\rtipdesk: importing: 10/10", "\rtipdesk: importing: 10/10\n"])
    }

    @Test func parallelMapKeepsOrderForEveryCount() {
        for n in [0, 1, 2, 31, 33, 100, 1000] {
            #expect(Parallel.map(n, threads: 2) { $0 * 2 } == (0..<n).map { $0 * 2 }, "\(n)")
        }
    }
}

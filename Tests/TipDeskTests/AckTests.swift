import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

@Suite struct AckTests {
    /// A vault with a root, and a server holding three tips for its key and one for a key the
    /// vault lacks, all exported and imported.
    func setUp() async throws -> (DeskFixture, IntakeDatabase, RootKeyDocument) {
        let f = DeskFixture()
        let key = try f.makeVault()
        let root = try KeyAdmin(vault: f.vault).initRoot(passphrase: f.passphrase, cost: .interactive)
        let db = try f.intake()
        try await f.store(["one", "two", "three"], in: db, to: key)
        try await f.store(["for a key we lack"], in: db, to: IntakeKeyPair.generate().document)
        let r = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        #expect(r.opened == 3 && r.unopened.count == 1)
        return (f, db, root)
    }

    func backup(_ f: DeskFixture) throws {
        _ = try VaultBackup(vault: f.vault).backup(
            to: f.root.appendingPathComponent("backup-\(Random.hex128().prefix(6))"), passphrase: f.passphrase, cost: .interactive)
    }

    @Test func ackRefusesWithoutABackupSinceTheNewestImport() async throws {
        let (f, db, _) = try await setUp()
        let out = f.root.appendingPathComponent("ack.json")
        #expect(throws: DeskError.self) { try f.session().ack(to: out, instance: nil, withoutBackup: false) }
        #expect(try f.session().backupProblem() == "this vault has never been backed up")
        try backup(f)
        #expect(try f.session().backupProblem() == nil)
        // A second import on the same day, after the backup: refused again.
        try await f.store(["four"], in: db, to: try f.vault.publicKeys()[0])
        _ = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        let problem = try #require(try f.session().backupProblem())
        #expect(problem.hasPrefix("tips were imported after the last backup"))
        #expect(throws: DeskError.self) { try f.session().ack(to: out, instance: nil, withoutBackup: false) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // Importing nothing new does not call for a new backup.
        try backup(f)
        _ = try f.desk.importBundle(at: try f.export(db, all: true), passphrase: f.passphrase)
        #expect(try f.session().backupProblem() == nil)
        // --without-backup overrides, and the ack and its audit entry say so.
        try await f.store(["five"], in: db, to: try f.vault.publicKeys()[0])
        _ = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        let r = try f.session().ack(to: out, instance: nil, withoutBackup: true)
        #expect(r.withoutBackup && r.tips == 5)
        #expect(try f.session().auditEntries().last?.details["without_backup"] == .bool(true))
    }

    @Test func ackListsOpenedTipsWithTheirHashesAndVerifies() async throws {
        let (f, db, root) = try await setUp()
        try backup(f)
        let held = try db.allTips()
        let out = f.root.appendingPathComponent("ack.json")
        let r = try f.session().ack(to: out, instance: nil, withoutBackup: false)
        #expect(r.tips == 3 && !r.withoutBackup)
        #expect(try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? Int == 0o600)
        let payload = try AckSigner.verify(try Data(contentsOf: out), pin: .fingerprint(root.fingerprint))
        #expect(payload.instance == (try db.instanceID()) && payload.day == .today)
        let opened = try f.session().tips().filter { $0.document != nil }
        #expect(Set(payload.tips.map(\.id)) == Set(opened.map(\.id)))
        for e in payload.tips {
            let sealed = try #require(held.first { $0.id == e.id }).sealed
            #expect(e.blake2b == Hex.encode(BLAKE2b.hash(sealed)))
        }
        #expect(payload.tips.map(\.id) == payload.tips.map(\.id).sorted())
        // The ack carries the audit head, the head of the `ack` entry, which state.json anchors.
        let entries = try f.session().auditEntries()
        #expect(entries.last?.action == .ack && entries.last?.mac == payload.auditHead)
        #expect(try f.vault.state()?.auditHead == payload.auditHead && f.session().verifyAudit(heads: [payload.auditHead]).problem == nil)
        // The tips are marked: list shows it, and the next ack has nothing to list.
        #expect(try f.session().list().filter(\.acked).count == 3)
        #expect(throws: DeskError.self) { try f.session().ack(to: f.root.appendingPathComponent("again.json"), instance: nil, withoutBackup: false) }
        // A server purges exactly the acknowledged tips: the one that did not open stays.
        let purged = try db.purge(payload)
        #expect(purged.deleted == 3 && purged.notHeld == 0 && purged.mismatched == 0)
        #expect(try db.allTips().count == 1)
        // An ack never replaces a file.
        try await f.store(["six"], in: db, to: try f.vault.publicKeys()[0])
        _ = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        #expect(throws: DeskError.self) { try f.session().ack(to: out, instance: nil, withoutBackup: true) }
        #expect(try f.session().list().filter(\.acked).count == 3)
    }

    @Test func severalInstancesNeedOneChosen() async throws {
        let f = DeskFixture()
        let key = try f.makeVault()
        _ = try KeyAdmin(vault: f.vault).initRoot(passphrase: f.passphrase, cost: .interactive)
        let a = String(repeating: "a", count: 32)
        let b = String(repeating: "b", count: 32)
        _ = try f.desk.importBundle(at: try f.bundle([(try TipDocument(body: "from a"), .today)], to: key, instance: a).0, passphrase: f.passphrase)
        _ = try f.desk.importBundle(
            at: try f.bundle([(try TipDocument(body: "from b"), .today), (try TipDocument(body: "b2"), .today)], to: key, instance: b).0,
            passphrase: f.passphrase)
        try backup(f)
        let out = f.root.appendingPathComponent("ack.json")
        do {
            _ = try f.session().ack(to: out, instance: nil, withoutBackup: false)
            Issue.record("an ack needs --instance when tips come from several")
        } catch let e as DeskError {
            #expect(e.message == "the vault holds unacknowledged tips from 2 server instances; an ack is for one")
            #expect(e.hints == ["tipdesk ack --instance \(a)   (1 tips)", "tipdesk ack --instance \(b)   (2 tips)"])
        }
        #expect(try f.session().ack(to: out, instance: b, withoutBackup: false).tips == 2)
        #expect(try AckSigner.verify(try Data(contentsOf: out), pin: .key(try KeyAdmin(vault: f.vault).rootDocument()!.publicKey)).instance == b)
        #expect(throws: DeskError.self) { try f.session().ack(to: f.root.appendingPathComponent("c"), instance: b, withoutBackup: false) }
        #expect(try f.session().ack(to: f.root.appendingPathComponent("d"), instance: nil, withoutBackup: false).instance == a)
    }
}

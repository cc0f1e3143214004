import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

extension DeskFixture {
    /// A vault with a root, a signed keyring, two intake keys (one rotated in), a vault key,
    /// and tips sealed to both intake keys, imported.
    func populated(_ bodies: [String] = ["first tip", "второй", "uchinchi xabar", "sealed to the new key"]) async throws -> [PublicKeyDocument] {
        let first = try makeVault()
        let admin = KeyAdmin(vault: vault)
        _ = try admin.initRoot(passphrase: passphrase, cost: .interactive)
        _ = try admin.renew(passphrase: passphrase)
        let (second, _) = try admin.rotate(passphrase: passphrase, overlapDays: 14, cost: .interactive)
        _ = try vault.createVaultKey(passphrase: passphrase, cost: .interactive)
        let db = try intake()
        try await store(Array(bodies.dropLast()), in: db, to: first)
        try await store([bodies.last!], in: db, to: second)
        #expect(try desk.importBundle(at: try export(db), passphrase: passphrase).added == bodies.count)
        return [first, second]
    }

    /// The bodies of every tip, opened with `passphrase` (a failure to open any is a throw).
    func openAll(_ passphrase: SecureBytes, in vault: Vault? = nil) throws -> [String] {
        let v = vault ?? self.vault
        return try Desk(vault: v).session(passphrase).tips().map { try $0.result.get().body }.sorted()
    }

    /// Every file under the vault's `keys*` directories, name → bytes.
    func keyFiles() throws -> [String: Data] {
        var out = [String: Data]()
        let fm = FileManager.default
        for dir in try fm.contentsOfDirectory(atPath: vault.directory.path) where dir.hasPrefix("keys") {
            for name in try fm.contentsOfDirectory(atPath: vault.directory.appendingPathComponent(dir).path) {
                out["\(dir)/\(name)"] = try Data(contentsOf: vault.directory.appendingPathComponent(dir).appendingPathComponent(name))
            }
        }
        return out
    }
}

@Suite struct PassphraseChangeTests {
    let newPassphrase = SecureBytes(copying: Array("a new passphrase 2".utf8))

    @Test func everyKeyFileIsReencryptedAtItsCost() async throws {
        let f = DeskFixture()
        let bodies = ["first tip", "второй", "uchinchi xabar", "sealed to the new key"]
        _ = try await f.populated(bodies)
        let before = try f.keyFiles()
        let headers = try before.filter { $0.key.hasSuffix(".secret") }.mapValues { try SecretKeyFile.header($0) }
        #expect(headers.count == 5)  // two intake keys, the root, the vault key, the data key (§10.1)
        #expect(headers["keys/data.secret"]?.kind == "vault-data")

        #expect(try f.vault.changePassphrase(from: f.passphrase, to: newPassphrase) == 5)

        let after = try f.keyFiles()
        #expect(Set(after.keys) == Set(before.keys), "no keys.new or keys.old is left, no file is lost")
        for (name, data) in after where name.hasSuffix(".secret") {
            #expect(data != before[name], "\(name) was re-encrypted")
            #expect(try SecretKeyFile.header(data) == headers[name], "\(name) keeps its id, kind and Argon2id cost")
            let mode = try FileManager.default.attributesOfItem(atPath: f.vault.directory.appendingPathComponent(name).path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
        for (name, data) in after where !name.hasSuffix(".secret") { #expect(data == before[name]) }
        #expect(try FileManager.default.attributesOfItem(atPath: f.vault.keysDirectory.path)[.posixPermissions] as? Int == 0o700)

        // The old passphrase opens nothing; the new one opens every tip, the root and the vault key.
        #expect(throws: DeskError.self) { try f.vault.unlock(f.passphrase) }
        #expect(throws: DeskError.self) { try KeyAdmin(vault: f.vault).unlockRoot(f.passphrase) }
        #expect(throws: DeskError.self) { try f.vault.unlockVaultKey(f.passphrase) }
        #expect(throws: DeskError.self) { try f.vault.unlockDataKey(f.passphrase) }
        #expect(try f.openAll(newPassphrase) == bodies.sorted())
        #expect(try KeyAdmin(vault: f.vault).unlockRoot(newPassphrase).rootDocument == KeyAdmin(vault: f.vault).rootDocument())
        _ = try f.vault.unlockVaultKey(newPassphrase)
        _ = try KeyAdmin(vault: f.vault).renew(passphrase: newPassphrase)
    }

    @Test func wrongOldPassphraseChangesNothing() async throws {
        let f = DeskFixture()
        _ = try await f.populated()
        let before = try f.keyFiles()
        #expect(throws: DeskError.self) {
            try f.vault.changePassphrase(from: SecureBytes(copying: Array("not the passphrase".utf8)), to: newPassphrase)
        }
        #expect(throws: DeskError.self) { try f.vault.changePassphrase(from: f.passphrase, to: f.passphrase) }
        #expect(try f.keyFiles() == before)
        #expect(try f.openAll(f.passphrase).count == 4)
    }

    /// Stages a change (keys.new complete) without committing it, then lets `edit` shape the
    /// directories into a crash state.
    func crashState(_ f: DeskFixture, _ edit: (URL) throws -> Void) async throws {
        _ = try await f.populated()
        _ = try f.vault.stageRekey(from: f.passphrase, to: newPassphrase)
        #expect(f.vault.isCompleteStaging())
        try edit(f.vault.directory)
    }

    func expectClean(_ f: DeskFixture) {
        let fm = FileManager.default
        #expect(!fm.fileExists(atPath: f.vault.stagingDirectory.path))
        #expect(!fm.fileExists(atPath: f.vault.retiredDirectory.path))
        #expect(!fm.fileExists(atPath: f.vault.keysDirectory.appendingPathComponent("COMPLETE").path))
    }

    @Test func crashWhileWritingKeysNewKeepsTheOldPassphrase() async throws {
        let f = DeskFixture()
        try await crashState(f) { dir in
            try FileManager.default.removeItem(at: dir.appendingPathComponent("keys.new/COMPLETE"))
        }
        #expect(!f.vault.isCompleteStaging())
        #expect(try f.openAll(f.passphrase).count == 4)  // opening the vault recovers first
        expectClean(f)
        #expect(throws: DeskError.self) { try f.vault.unlock(newPassphrase) }
    }

    @Test func crashBeforeTheCommitRenameKeepsTheOldPassphrase() async throws {
        let f = DeskFixture()
        try await crashState(f) { _ in }
        try f.vault.recover()
        expectClean(f)
        #expect(try f.openAll(f.passphrase).count == 4)
        #expect(throws: DeskError.self) { try f.vault.unlock(newPassphrase) }
    }

    @Test func crashBetweenTheRenamesFinishesTheChange() async throws {
        let f = DeskFixture()
        try await crashState(f) { dir in
            try FileManager.default.moveItem(at: dir.appendingPathComponent("keys"), to: dir.appendingPathComponent("keys.old"))
        }
        #expect(!f.vault.exists)
        #expect(try f.openAll(newPassphrase).count == 4)
        expectClean(f)
        #expect(throws: DeskError.self) { try f.vault.unlock(f.passphrase) }
        _ = try KeyAdmin(vault: f.vault).unlockRoot(newPassphrase)
    }

    @Test func crashBeforeRemovingKeysOldFinishesTheChange() async throws {
        let f = DeskFixture()
        try await crashState(f) { dir in
            let fm = FileManager.default
            try fm.moveItem(at: dir.appendingPathComponent("keys"), to: dir.appendingPathComponent("keys.old"))
            try fm.moveItem(at: dir.appendingPathComponent("keys.new"), to: dir.appendingPathComponent("keys"))
        }
        #expect(try f.vault.publicKeys().count == 2)
        expectClean(f)
        #expect(try f.openAll(newPassphrase).count == 4)
    }

    // Not a state the change makes, but recovery must never pick "no keys" when a whole key
    // set exists.
    @Test func onlyKeysOldLeftIsPutBack() async throws {
        let f = DeskFixture()
        try await crashState(f) { dir in
            let fm = FileManager.default
            try fm.moveItem(at: dir.appendingPathComponent("keys"), to: dir.appendingPathComponent("keys.old"))
            try fm.removeItem(at: dir.appendingPathComponent("keys.new/COMPLETE"))
        }
        #expect(try f.openAll(f.passphrase).count == 4)
        expectClean(f)
    }

    @Test func anIncompleteKeysNewAloneIsKept() async throws {
        let f = DeskFixture()
        try await crashState(f) { dir in
            let fm = FileManager.default
            try fm.removeItem(at: dir.appendingPathComponent("keys"))
            try fm.removeItem(at: dir.appendingPathComponent("keys.new/COMPLETE"))
        }
        #expect(throws: DeskError.self) { try f.vault.unlock(newPassphrase) }
        #expect(FileManager.default.fileExists(atPath: f.vault.stagingDirectory.path), "possibly the only copies: never deleted")
    }

    @Test func intakeKeyListingIgnoresRootAndVaultKeys() async throws {
        let f = DeskFixture()
        let keys = try await f.populated()
        let names = try FileManager.default.contentsOfDirectory(atPath: f.vault.keysDirectory.path)
        #expect(names.contains("root.public.json") && names.contains("vault.public.json") && names.contains("vault.secret"))
        #expect(try f.vault.publicKeys() == keys.sorted { $0.keyID < $1.keyID })
        #expect(try f.vault.unlock(f.passphrase).canOpen(keys[1].keyID))
    }
}

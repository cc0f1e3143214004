import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

@Suite struct BackupTests {
    /// Enough tips for the archive to span several 64 KiB chunks (the vault keeps each tip
    /// re-encrypted at its own length, §10.2, so the bodies carry the size).
    static let bodies = (0..<90).map { "tip \($0): " + String(repeating: "x", count: $0 * 60) }

    func backedUp(_ f: DeskFixture) async throws -> URL {
        _ = try await f.populated(Self.bodies)
        let out = f.root.appendingPathComponent("vault.backup")
        let r = try VaultBackup(vault: f.vault).backup(to: out, passphrase: f.passphrase, cost: .interactive, today: Day("2026-03-04")!)
        #expect(r.tips == Self.bodies.count)
        return out
    }

    @Test func restoreGivesBackEveryTipKeyAndTheKeyring() async throws {
        let f = DeskFixture()
        let out = try await backedUp(f)
        #expect(try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? Int == 0o600)
        let data = try Data(contentsOf: out)
        #expect(data.count > 3 * VaultBackup.chunkSize, "the test covers several chunks")
        #expect(data.starts(with: Data("tipdesk-backup v1\n{\"kdf\":\"argon2id13\",".utf8)))
        let state = try #require(try f.vault.state())
        #expect(state.lastBackup == Day("2026-03-04")! && state.backupTips == Self.bodies.count)
        #expect(state.backupImports == (try f.vault.database().importCount()) && state.auditHead != nil)
        // A backup never replaces a file.
        #expect(throws: DeskError.self) { try VaultBackup(vault: f.vault).backup(to: out, passphrase: f.passphrase, cost: .interactive) }

        let target = Vault(directory: f.root.appendingPathComponent("restored"))
        let r = try VaultBackup.restore(data, name: "vault.backup", passphrase: f.passphrase, to: target)
        #expect(r.tips == Self.bodies.count)
        #expect(try f.openAll(f.passphrase, in: target) == Self.bodies.sorted())
        let fm = FileManager.default
        #expect(try fm.attributesOfItem(atPath: target.directory.path)[.posixPermissions] as? Int == 0o700)
        #expect(try fm.attributesOfItem(atPath: target.keysDirectory.path)[.posixPermissions] as? Int == 0o700)
        for name in try fm.contentsOfDirectory(atPath: f.vault.keysDirectory.path) {
            let copy = target.keysDirectory.appendingPathComponent(name)
            #expect(try Data(contentsOf: copy) == Data(contentsOf: f.vault.keysDirectory.appendingPathComponent(name)), "\(name)")
            #expect(try fm.attributesOfItem(atPath: copy.path)[.posixPermissions] as? Int == 0o600)
        }
        let keyring = "keyring.json"
        #expect(try Data(contentsOf: target.directory.appendingPathComponent(keyring)) == Data(contentsOf: f.vault.directory.appendingPathComponent(keyring)))
        #expect(try KeyAdmin(vault: target).latest()?.1.serial == 2)
        #expect(try KeyAdmin(vault: target).unlockRoot(f.passphrase).publicKey == KeyAdmin(vault: f.vault).rootDocument()?.publicKey)
        #expect(try target.vaultKeyDocument() == f.vault.vaultKeyDocument())
        #expect(try target.database().listedKeys() == f.vault.database().listedKeys())
        #expect(try target.state() == f.vault.state())
        // The restored vault keeps working: it signs the next keyring.
        _ = try KeyAdmin(vault: target).renew(passphrase: f.passphrase)
        // No staging directory is left beside it, and an existing vault is never overwritten.
        #expect(try fm.contentsOfDirectory(atPath: f.root.path).filter { $0.hasPrefix(".") }.isEmpty)
        #expect(throws: DeskError.self) { try VaultBackup.restore(data, name: "b", passphrase: f.passphrase, to: target) }
        #expect(throws: DeskError.self) { try VaultBackup.restore(data, name: "b", passphrase: f.passphrase, to: f.vault) }
        // An empty directory is fine.
        let empty = f.root.appendingPathComponent("empty")
        try fm.createDirectory(at: empty, withIntermediateDirectories: false)
        #expect(try VaultBackup.restore(data, name: "b", passphrase: f.passphrase, to: Vault(directory: empty)).tips == Self.bodies.count)
    }

    @Test func damagedBackupsAndWrongPassphrasesWriteNothing() async throws {
        let f = DeskFixture()
        let good = try Data(contentsOf: try await backedUp(f))
        let headerEnd = good.firstIndex(of: 0x0a, after: good.firstIndex(of: 0x0a)!)! + 1
        let chunk = VaultBackup.chunkSize + SecretStream.overhead
        let lastChunkStart =
            headerEnd + SecretStream.headerBytes + 26 + SecretStream.overhead
            + (good.count - headerEnd - SecretStream.headerBytes - 26 - SecretStream.overhead - 1) / chunk * chunk
        func edited(_ at: Int) -> Data {
            var d = good
            d[at] ^= 0x01
            return d
        }
        let strengthened =
            Data(String(decoding: good.prefix(headerEnd), as: UTF8.self).replacingOccurrences(of: "\"opslimit\":2", with: "\"opslimit\":3").utf8)
            + good.dropFirst(headerEnd)
        #expect(strengthened.count == good.count && strengthened != good)
        let cases: [(String, Data, SecureBytes, String)] = [
            ("wrong passphrase", good, SecureBytes(copying: Array("not the passphrase".utf8)), "wrong passphrase"),
            ("truncated by one byte", good.dropLast(), f.passphrase, "damaged or truncated"),
            ("final chunk missing", good.prefix(lastChunkStart), f.passphrase, "truncated"),
            ("truncated in the middle", good.prefix(good.count / 2), f.passphrase, "damaged"),
            ("truncated in the header", good.prefix(headerEnd + 10), f.passphrase, "truncated"),
            ("the header's version edited", edited(headerEnd - 3), f.passphrase, "version 0 is not supported"),
            ("a stronger opslimit in the header", strengthened, f.passphrase, "wrong passphrase, or the backup was altered"),
            ("a byte of the stream header edited", edited(headerEnd + 1), f.passphrase, "wrong passphrase, or the backup was altered"),
            ("a byte of the first chunk edited", edited(headerEnd + 30), f.passphrase, "wrong passphrase, or the backup was altered"),
            ("a byte in the middle edited", edited(good.count / 2), f.passphrase, "damaged"),
            ("the last byte edited", edited(good.count - 1), f.passphrase, "damaged"),
            ("a byte appended", good + Data([0]), f.passphrase, "damaged"),
            ("not a backup", Data("tipdesk-secret-key v1\n".utf8), f.passphrase, "not a tipdesk backup"),
        ]
        for (what, data, pw, message) in cases {
            let target = f.root.appendingPathComponent("restore-\(Random.hex128().prefix(6))")
            do {
                _ = try VaultBackup.restore(data, name: "b", passphrase: pw, to: Vault(directory: target))
                Issue.record("\(what): restored")
            } catch let e as DeskError {
                #expect(e.message.contains(message), "\(what): \(e.message)")
            }
            #expect(!FileManager.default.fileExists(atPath: target.path), "\(what): nothing written")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.root.path).filter { $0.hasPrefix(".") || $0.hasPrefix("restore-") }.isEmpty)
    }

    @Test func backupRefusesAWrongPassphraseAndRecordsNothing() async throws {
        let f = DeskFixture()
        _ = try await f.populated()
        let out = f.root.appendingPathComponent("b")
        #expect(throws: DeskError.self) {
            try VaultBackup(vault: f.vault).backup(to: out, passphrase: SecureBytes(copying: Array("not the passphrase".utf8)), cost: .interactive)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try f.vault.state() == nil)
    }

    // The stream's edge cases: an archive that is an exact multiple of the chunk size ends
    // with a full FINAL chunk, and a stream of MESSAGE chunks only is truncated.
    @Test func streamBoundaries() throws {
        let pw = SecureBytes(copying: Array("stream passphrase".utf8))
        for size in [1, VaultBackup.chunkSize - 1, VaultBackup.chunkSize, 2 * VaultBackup.chunkSize, 2 * VaultBackup.chunkSize + 1] {
            let plain = Data(Random.bytes(size))
            let sealed = try VaultBackup.seal(plain, passphrase: pw, cost: .interactive)
            #expect(try VaultBackup.open(sealed, name: "s", passphrase: pw) == plain, "\(size)")
        }
        let plain = Data(Random.bytes(2 * VaultBackup.chunkSize))
        let sealed = try VaultBackup.seal(plain, passphrase: pw, cost: .interactive)
        #expect(throws: DeskError.self) { try VaultBackup.open(sealed.dropLast(VaultBackup.chunkSize + SecretStream.overhead), name: "s", passphrase: pw) }
    }

    @Test func archivePathsAreConfined() throws {
        for bad in ["", "/etc/passwd", "../x", "keys/../../x", "keys/.hidden", "a//b", "keys/", ".", "keys/a b", "ключ"] {
            #expect(!VaultArchive.isSafePath(bad), "\(bad)")
        }
        for good in ["keys/ba5d987fcd4768d2.secret", "keys/root.public.json", "vault.sqlite", "keyring.json"] {
            #expect(VaultArchive.isSafePath(good), "\(good)")
        }
        var evil = Data()
        for path in ["keys/a", "keys/a"] {
            withUnsafeBytes(of: UInt32(path.utf8.count).bigEndian) { evil.append(contentsOf: $0) }
            evil.append(Data(path.utf8))
            withUnsafeBytes(of: UInt64(1).bigEndian) { evil.append(contentsOf: $0) }
            evil.append(0x41)
        }
        #expect(throws: FormatError.self) { try VaultArchive.decode(evil) }
        #expect(throws: FormatError.self) { try VaultArchive.decode(evil.dropLast()) }
        #expect(try VaultArchive.decode(evil.prefix(evil.count / 2)).count == 1)
    }
}

extension Data {
    fileprivate func firstIndex(of byte: UInt8, after i: Int) -> Int? { self[(i + 1)...].firstIndex(of: byte) }
}

/// Issue 4: "a restore from backup gives back every tip and triage record".
@Suite struct BackupTriageTests {
    @Test func restoreGivesBackTriage() async throws {
        let f = DeskFixture()
        _ = try await f.populated(["a tip to triage", "another tip"])
        let session = try f.desk.session(f.passphrase)
        let first = try #require(try session.tips().first)
        var change = TriageChange()
        change.status = .reviewing
        change.urgency = .high
        change.addTags = ["kazan"]
        change.note = "call the partner"
        let set = try session.triage(first.id, change).triage
        let out = f.root.appendingPathComponent("triage.backup")
        _ = try VaultBackup(vault: f.vault).backup(to: out, passphrase: f.passphrase, cost: .interactive)
        let target = Vault(directory: f.root.appendingPathComponent("restored-triage"))
        _ = try VaultBackup.restore(try Data(contentsOf: out), name: "triage.backup", passphrase: f.passphrase, to: target)
        let restored = try Desk(vault: target).session(f.passphrase).tip(first.id)
        #expect(restored.triage == set)
        #expect(set.status == .reviewing && set.urgency == .high && set.tags == ["kazan"] && set.notes.count == 1)
    }
}

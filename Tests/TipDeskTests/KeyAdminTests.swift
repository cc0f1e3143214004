import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

/// The offline side of the keyring (SECURITY.md §2.4–2.6).
@Suite struct KeyAdminTests {
    func fixture() throws -> (DeskFixture, KeyAdmin) {
        let f = DeskFixture()
        _ = try f.makeVault()
        let admin = KeyAdmin(vault: f.vault)
        _ = try admin.initRoot(passphrase: f.passphrase, cost: .interactive)
        return (f, admin)
    }

    @Test func rotationKeepsEveryTipReadable() async throws {
        let (f, admin) = try fixture()
        let first = try admin.renew(passphrase: f.passphrase)
        let p1 = try KeyringPayload.decode(first.payload)
        #expect(p1.serial == 1 && p1.intakeKeys.count == 1)
        let oldKey = KeyIdentity.document(for: p1.intakeKeys[0].publicKey)
        let (newKey, second) = try admin.rotate(passphrase: f.passphrase, overlapDays: 14, cost: .interactive)
        let p2 = try KeyringPayload.decode(second.payload)
        #expect(p2.serial == 2)
        #expect(p2.current(on: .today)?.keyID == newKey.keyID)
        #expect(p2.status(of: oldKey.keyID, on: .today) == .retiring)
        #expect(p2.status(of: oldKey.keyID, on: Day.today.adding(days: 15)) == .retired)
        // Tips sealed to either key during the overlap both open.
        let db = try f.intake()
        try await f.store(["to the old key"], in: db, to: oldKey)
        try await f.store(["to the new key"], in: db, to: newKey)
        let r = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        #expect(r.added == 2 && r.unknownKeys.isEmpty && r.unlistedKeys.isEmpty)
        let opened = try f.desk.session(f.passphrase).tips()
        #expect(Set(opened.compactMap { try? $0.result.get().body }) == ["to the old key", "to the new key"])
        // The keyring the vault keeps is the newest, verified against its own root.
        #expect(try admin.latest()?.1.serial == 2)
    }

    @Test func retireRefusesToLeaveNoKey() throws {
        let (f, admin) = try fixture()
        let p = try KeyringPayload.decode(admin.renew(passphrase: f.passphrase).payload)
        #expect(throws: DeskError.self) { try admin.retire(p.intakeKeys[0].keyID, passphrase: f.passphrase) }
        let (_, rotated) = try admin.rotate(passphrase: f.passphrase, overlapDays: 14, cost: .interactive)
        #expect(try KeyringPayload.decode(rotated.payload).intakeKeys.count == 2)
        let retired = try KeyringPayload.decode(admin.retire(p.intakeKeys[0].keyID, passphrase: f.passphrase).payload)
        #expect(retired.serial == 3)
        #expect(retired.status(of: p.intakeKeys[0].keyID, on: .today) != .active)
        #expect(retired.status(of: p.intakeKeys[0].keyID, on: .today) != .retiring)
    }

    @Test func rotateNeedsAKeyringAndTheRightPassphrase() throws {
        let (f, admin) = try fixture()
        #expect(throws: DeskError.self) { try admin.rotate(passphrase: f.passphrase, overlapDays: 14, cost: .interactive) }
        _ = try admin.renew(passphrase: f.passphrase)
        #expect(throws: DeskError.self) {
            try admin.rotate(passphrase: SecureBytes(copying: Array("wrong passphrase".utf8)), overlapDays: 14, cost: .interactive)
        }
        #expect(throws: DeskError.self) { try admin.initRoot(passphrase: f.passphrase, cost: .interactive) }
    }

    // SECURITY.md §2.6: a tip sealed to a key no keyring of this vault ever listed is an alarm,
    // even if it arrives among good tips.
    @Test func importAlarmsOnUnlistedKey() async throws {
        let (f, admin) = try fixture()
        let p = try KeyringPayload.decode(admin.renew(passphrase: f.passphrase).payload)
        let planted = IntakeKeyPair.generate()
        let db = try f.intake()
        try await f.store(["good"], in: db, to: KeyIdentity.document(for: p.intakeKeys[0].publicKey))
        try await f.store(["to a key the server made up"], in: db, to: planted.document)
        let r = try f.desk.importBundle(at: try f.export(db), passphrase: f.passphrase)
        #expect(r.unlistedKeys == [planted.keyID])
    }
}

import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

/// The forwarding key (SECURITY.md §11.3): certified by the root in the keyring, kept through
/// renewals and rotations, and replaced only on request.
@Suite struct ForwardingKeyTests {
    @Test func certifiedKeptAndReplaced() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        let admin = KeyAdmin(vault: f.vault)
        _ = try admin.initRoot(passphrase: f.passphrase, cost: .interactive)
        // It needs a keyring to certify it in.
        #expect(throws: DeskError.self) { try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive) }
        _ = try admin.renew(passphrase: f.passphrase)
        let (doc, ring) = try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive)
        let p = try KeyringPayload.decode(ring.payload)
        #expect(p.serial == 2 && p.forwardingKey?.publicKey == doc.publicKey)
        #expect(doc.fingerprint.hasPrefix("forwarding:"))
        // Renewal and rotation keep it certified; it unlocks with the vault passphrase.
        _ = try admin.rotate(passphrase: f.passphrase, overlapDays: 1, cost: .interactive)
        let (pair, latest) = try admin.unlockForwarding(f.passphrase)
        #expect(pair.publicKey == doc.publicKey)
        #expect(try KeyringPayload.decode(latest.payload).forwardingKey?.publicKey == doc.publicKey)
        // A second key is refused unless asked for; a wrong passphrase deletes nothing.
        #expect(throws: DeskError.self) { try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive) }
        #expect(throws: DeskError.self) {
            try admin.createForwardingKey(passphrase: SecureBytes(copying: Data("not the passphrase".utf8)), cost: .interactive, replace: true)
        }
        #expect(try admin.forwardingDocument() == doc)
        let (replaced, ring2) = try admin.createForwardingKey(passphrase: f.passphrase, cost: .interactive, replace: true)
        #expect(replaced.publicKey != doc.publicKey)
        #expect(try KeyringPayload.decode(ring2.payload).forwardingKey?.publicKey == replaced.publicKey)
        #expect(try admin.unlockForwarding(f.passphrase).0.publicKey == replaced.publicKey)
    }
}

import Foundation
import Testing
import TipCore

@testable import TipDesk

/// A partner's delivery method (SECURITY.md §11.1): what `partners add --delivery` takes.
@Suite struct DeliveryTests {
    @Test func deliveryMethodsAreCheckedForWhatATerminalWouldShow() throws {
        #expect(try Delivery(parsing: "tipgate:https://c.example/") == .tipgate("https://c.example"))
        #expect(try Delivery(parsing: "outbox:/media/флешка/out") == .outbox("/media/флешка/out"))
        for bad in [
            "tipgate:https://c.example/\u{9b}31m", "tipgate:https://пример.example", "tipgate:https://c.example\u{202e}",
            "outbox:/media/a\u{202e}b", "outbox:/media/a\u{2066}b", "outbox:/media/a b", "outbox:/media/a\u{85}b", "mail:x",
        ] {
            #expect(throws: DeskError.self, "\(bad.unicodeScalars.map(\.value))") { try Delivery(parsing: bad) }
        }
        #expect(TerminalText.sanitize("a\u{202e}b\u{9b}c\u{1b}[31m") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}[31m")
    }
}

/// `tipdesk init` never makes a new data key over a vault's database (SECURITY.md §10.1).
@Suite struct VaultCreateTests {
    @Test func initRefusesADatabaseWhoseKeysAreMissing() throws {
        let f = DeskFixture()
        _ = try f.makeVault()
        #expect(throws: DeskError.self) { try f.makeVault() }
        // keys/ lost (or not restored yet): the database's tips are under the old data key.
        try FileManager.default.moveItem(at: f.vault.keysDirectory, to: f.root.appendingPathComponent("keys-aside"))
        #expect(throws: DeskError.self) { try f.makeVault() }
        #expect(!FileManager.default.fileExists(atPath: f.vault.keysDirectory.path))
        // Put back, the vault opens as before.
        try FileManager.default.moveItem(at: f.root.appendingPathComponent("keys-aside"), to: f.vault.keysDirectory)
        _ = try f.session()
    }
}

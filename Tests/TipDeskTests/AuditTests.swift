import Foundation
import Testing
import TipCore
import TipCrypto
import TipStore
import TipTestSupport

@testable import TipDesk

@Suite struct AuditTests {
    /// A vault with an import, a show and three triage changes: entries 1 to 5.
    func logged() throws -> (DeskFixture, [SealedTip]) {
        let f = DeskFixture()
        let key = try f.makeVault()
        let (url, tips) = try f.bundle([(try TipDocument(body: "a tip"), .today), (try TipDocument(body: "another"), .today)], to: key)
        _ = try f.desk.importBundle(at: url, passphrase: f.passphrase)
        let s = try f.session()
        _ = try s.show(tips[0].id)
        for status in [TriageStatus.reviewing, .forwarded, .closed] {
            var c = TriageChange()
            c.status = status
            _ = try s.triage(tips[1].id, c)
        }
        return (f, tips)
    }

    @Test func everyActionIsLoggedWithoutText() throws {
        let (f, tips) = try logged()
        let entries = try f.session().auditEntries()
        #expect(entries.map(\.action) == [.importBundle, .show, .triage, .triage, .triage])
        #expect(entries.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(entries[0].details["added"] == .int(2) && entries[0].details["opened"] == .int(2))
        #expect(entries[1].details["ids"] == .strings([tips[0].id.hex]))
        #expect(entries[2].details["changed"] == .strings(["status"]))
        #expect(entries.allSatisfy { $0.day == .today })
        let v = try f.session().verifyAudit()
        #expect(v.problem == nil && v.entries == 5 && v.head == entries.last?.mac)
        // A triage that changes nothing is not an action.
        var same = TriageChange()
        same.status = .closed
        _ = try f.session().triage(tips[1].id, same)
        #expect(try f.vault.database().auditRows().count == 5)
    }

    @Test func aOneByteEditIsFoundAndNamed() throws {
        let (f, _) = try logged()
        // One byte of entry 3's box, as someone with the file but not the key would edit it.
        try f.flipAuditByte(seq: 3, offset: 40)
        let v = try f.session().verifyAudit()
        #expect(v.problem?.seq == 3)
        #expect(v.problem?.message == "entry 3 was altered: its MAC does not match the chain")
        #expect(throws: DeskError.self) { try f.session().auditEntries() }
    }

    @Test func anEditedMACIsFound() throws {
        let (f, _) = try logged()
        try f.sql("UPDATE audit SET mac = zeroblob(32) WHERE seq = 4;")
        #expect(try f.session().verifyAudit().problem?.seq == 4)
    }

    @Test func aRemovedEntryIsFoundAndNamed() throws {
        let (f, _) = try logged()
        try f.sql("DELETE FROM audit WHERE seq = 2;")
        let v = try f.session().verifyAudit()
        #expect(v.problem == .init(seq: 2, message: "entry 2 is missing (the next entry held is 3)"))
        // Renumbering to close the gap breaks the chain at the same place.
        try f.sql("UPDATE audit SET seq = seq - 1 WHERE seq > 2;")
        #expect(try f.session().verifyAudit().problem?.seq == 2)
    }

    @Test func aTruncatedTailIsCaughtAgainstTheLastAnchor() throws {
        let (f, tips) = try logged()
        // Without an anchor, a cut-off tail is undetectable, and verify says there is no anchor.
        #expect(try f.session().verifyAudit().anchorSeq == nil)
        _ = try VaultBackup(vault: f.vault).backup(to: f.root.appendingPathComponent("b"), passphrase: f.passphrase, cost: .interactive)
        let state = try #require(try f.vault.state())
        #expect(state.auditSeq == 6)
        _ = try f.session().show(tips[0].id)  // entry 7, after the anchor
        #expect(try f.session().verifyAudit().problem == nil)
        // Cutting entry 7 alone is not caught (it came after the anchor); cutting into the
        // anchored part is, naming the first missing entry.
        try f.sql("DELETE FROM audit WHERE seq >= 5;")
        let v = try f.session().verifyAudit()
        #expect(v.problem?.seq == 5)
        #expect(v.problem?.message.hasPrefix("entries 5 to 6 are missing") == true)
    }

    @Test func aReplacedLogIsCaughtAgainstTheAnchor() throws {
        let (f, _) = try logged()
        _ = try VaultBackup(vault: f.vault).backup(to: f.root.appendingPathComponent("b"), passphrase: f.passphrase, cost: .interactive)
        var state = try #require(try f.vault.state())
        state.auditHead = String(repeating: "ab", count: 32)
        try f.vault.recordState(state)
        #expect(try f.session().verifyAudit().problem?.seq == state.auditSeq)
    }
}

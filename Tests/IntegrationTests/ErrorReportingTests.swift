import Foundation
import Testing
import TipTestSupport

/// Every failure of `tipdesk` reads `tipdesk: error: …` with a `hint:`, sanitized, and exits 1,
/// also for errors no command turned into one of its own (here SQLite's).
@Suite struct ErrorReportingTests {
    @Test func anUnexpectedErrorIsReportedLikeAnyOther() throws {
        let dir = scratchDirectory("errors")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        _ = try desk.initialise(in: dir)
        let db = dir.appendingPathComponent("vault/vault.sqlite")
        try FileManager.default.moveItem(at: db, to: dir.appendingPathComponent("aside.sqlite"))
        try FileManager.default.createDirectory(at: db, withIntermediateDirectories: false)
        let r = try desk(["list"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("tipdesk: error: ") && r.stderr.contains("\ntipdesk: hint: "), "\(r.stderr)")
        #expect(!r.stderr.contains("Error: "), "\(r.stderr)")
        // And init will not make a new data key beside that database's.
        try FileManager.default.removeItem(at: db)
        try FileManager.default.moveItem(at: dir.appendingPathComponent("aside.sqlite"), to: db)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("vault/keys"))
        let again = try desk(["init", "--kdf", "interactive"])
        #expect(again.status == 1 && again.stderr.contains("no keys/ directory"), "\(again.stderr)")
    }
}

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

    /// The passphrase prompt reads /dev/tty with echo off (here a terminal `script` makes) and
    /// takes what was typed, in locked memory, with no other copy (SECURITY.md §10.1).
    @Test func thePromptReadsThePassphraseFromTheTerminal() throws {
        let dir = scratchDirectory("prompt")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        _ = try desk.initialise(in: dir)
        let tipdesk = Repo.binaries.appendingPathComponent("tipdesk").path
        func typed(_ passphrase: String) throws -> String {
            // The prompt flushes what was typed before it turned echo off, so the typing waits.
            let command = "(sleep 1; printf '%s\\n' \"$PP\") | script -qec \"$TIPDESK list --vault $VAULT\" /dev/null"
            let r = try run(
                "/bin/sh", ["-c", command],
                env: childEnvironment(["PP": passphrase, "TIPDESK": tipdesk, "VAULT": desk.vault.path]))
            return r.stdout
        }
        #expect(try typed(desk.passphrase).contains("no tips match"))
        #expect(try typed("short").contains("the passphrase is too short"))
        #expect(try typed("a wrong passphrase").contains("wrong passphrase"))
    }
}

import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

/// `--vault`, in every subcommand: ArgumentParser does not pass a root option down.
struct VaultOptions: ParsableArguments {
    @Option(help: "The vault directory. Default: $TIPDESK_VAULT, then ~/.tipdesk.") var vault: String?

    var resolved: Vault { Vault.resolve(flag: vault, environment: ProcessInfo.processInfo.environment) }
}

/// `--socks`, in every command that goes online: a SOCKS5 proxy (Tor) for .onion servers.
struct ProxyOptions: ParsableArguments {
    @Option(help: "Go through this SOCKS5 proxy, HOST:PORT (Tor: 127.0.0.1:9050), which also resolves .onion names. Default: $TIPDESK_SOCKS.")
    var socks: String?

    var resolved: String? {
        if let socks { return socks }
        let env = ProcessInfo.processInfo.environment["TIPDESK_SOCKS"]
        return env?.isEmpty == false ? env : nil
    }
}

struct PassphraseOptions: ParsableArguments {
    @Option(help: "Read the vault passphrase from this file (else $TIPDESK_PASSPHRASE, else a prompt).")
    var passphraseFile: String?

    func read(confirm: Bool = false) throws -> SecureBytes {
        try PassphraseSource(file: passphraseFile, environment: ProcessInfo.processInfo.environment)
            .read(prompt: "vault passphrase: ", confirm: confirm)
    }
}

/// Runs `body`, turning any error into `tipdesk: error: …` with hints and exit code 1. A
/// `DeskError` says what to do; a format or crypto error that reached here says its
/// code; anything else (the file system, SQLite) its description. Every message is sanitized:
/// they can name files or ids that came from outside, and nothing raw reaches a terminal.
/// ArgumentParser's own exits pass through.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch let e as ValidationError {
        throw e
    } catch {
        let e = deskError(error)
        var text = "tipdesk: error: \(TerminalText.sanitize(e.message, multiline: false))\n"
        for h in e.hints { text += "tipdesk: hint: \(TerminalText.sanitize(h, multiline: false))\n" }
        FileHandle.standardError.write(Data(text.utf8))
        throw ExitCode(1)
    }
}

/// What `reporting` prints for an error.
private func deskError(_ error: any Error) -> DeskError {
    switch error {
    case let e as DeskError: return e
    case let e as FormatError: return DeskError("\(e.message) (\(e.code))")
    case let e as CryptoError: return DeskError("\(e.message) (\(e.code))")
    default:
        return DeskError(
            "\(error)",
            hints: [
                "tipdesk did not expect this error: if it names a file, check the file, its permissions and the free disk space; "
                    + "if a connection, the network or proxy"
            ])
    }
}

/// `reporting` for async commands.
func reportingAsync<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as ExitCode {
        throw e
    } catch {
        _ = try reporting { throw error } as Void
        throw ExitCode(1)
    }
}

func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
/// As `out` for each line, written in blocks of about 64 KiB rather than a write a line: a
/// search can print tens of thousands (issue 9).
func out(lines: some Sequence<String>) {
    var block = ""
    for l in lines {
        block += l
        block += "\n"
        if block.utf8.count >= 64 << 10 {
            FileHandle.standardOutput.write(Data(block.utf8))
            block = ""
        }
    }
    if !block.isEmpty { FileHandle.standardOutput.write(Data(block.utf8)) }
}
func note(_ s: String) { FileHandle.standardError.write(Data(("tipdesk: " + s + "\n").utf8)) }

extension SecretKeyFile.Cost: ExpressibleByArgument {}

extension TriageStatus: ExpressibleByArgument {}
extension Urgency: ExpressibleByArgument {}
extension Day: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// The filters shared by `list` and `search` (`TipFilter`).
struct FilterOptions: ParsableArguments {
    @Option(help: "Only tips with this status: new, reviewing, forwarded, closed, spam (repeatable: any of them).")
    var status: [TriageStatus] = []
    @Option(help: "Only tips in this category id (repeatable: any of them).") var category: [String] = []
    @Option(help: "Only tips with this urgency: critical, high, normal, low (repeatable: any of them).") var urgency: [Urgency] = []
    @Option(help: "Only tips with this tag (repeatable: all of them).") var tag: [String] = []
    @Option(help: "Only tips received on or after this UTC day (YYYY-MM-DD).") var since: Day?
    @Option(help: "Only tips received on or before this UTC day (YYYY-MM-DD).") var until: Day?

    var filter: TipFilter {
        var f = TipFilter()
        f.statuses = Set(status)
        f.categories = Set(category)
        f.urgencies = Set(urgency)
        f.tags = tag
        f.since = since
        f.until = until
        return f
    }
}

/// One line of `list` and `search`: short id, day, urgency, status, category, language, acked,
/// and a preview of the body, marked `[forward]` for a tip from another organization (§11.5).
/// Everything from a tip is sanitized (SECURITY.md §3.6).
/// `s` cut or padded with spaces to `n` UTF-16 units, as NSString's `padding(toLength:)` does,
/// without its cost (a third of printing 44k search results).
func col(_ s: String, _ n: Int) -> String {
    let u = s.utf16.count
    if u < n { return s + String(repeating: " ", count: n - u) }
    return u == n ? s : String(decoding: s.utf16.prefix(n), as: UTF16.self)
}

func tipLine(_ t: OpenedTip, forwarded: Bool = false) -> String {
    let head = "\(t.id.hex.prefix(12))  \(t.day)"
    switch t.result {
    case .success(let doc):
        let tr = t.triage ?? .untouched
        return "\(head)  \(col(tr.urgency?.rawValue ?? "-", 8))  \(col(tr.status.rawValue, 9))  \(col(tr.category ?? "-", 21))  "
            + "\(col(TerminalText.sanitize(doc.lang ?? "-", multiline: false), 5))  \(t.acked ? "acked  " : "       ")"
            + "\(forwarded ? "[forward] " : "")\(TerminalText.preview(doc.body))"
    case .failure(let e):
        return
            "\(head)  \(col("-", 8))  \(col("sealed", 9))  \(col("-", 21))  -      \(t.acked ? "acked  " : "       ")[\(TerminalText.sanitize(e.message, multiline: false))]"
    }
}

/// "urgency critical, category child_at_risk (rules a, b)", or nil when the rules suggest nothing.
func describe(_ s: Rules.Suggestion) -> String? {
    var parts = [String]()
    if let u = s.urgency { parts.append("urgency \(u.rawValue)") }
    if let c = s.category { parts.append("category \(c)") }
    guard !parts.isEmpty else { return nil }
    return parts.joined(separator: ", ") + " (rules: \(s.matched.joined(separator: ", ")))"
}

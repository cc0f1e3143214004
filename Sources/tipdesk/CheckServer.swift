import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct CheckServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-server",
            abstract: "Check that a server serves the keyring and page scripts your root signed (run online).",
            discussion: "Needs no vault and no passphrase: only the root fingerprint your organization published. Exits 1 on any difference."
        )

        @Argument(help: "The server's base URL, like https://example.org.") var url: String
        @Option(help: "The published root fingerprint, root:…") var rootFingerprint: String
        @Option(help: "Trust this CA certificate (PEM) instead of the system's, for a self-signed server.") var cacert: String?
        @OptionGroup var proxy: ProxyOptions

        func run() async throws {
            try await reportingAsync {
                let client = try WebClient(base: url, caFile: cacert, socks: proxy.resolved)
                let report: ServerCheck.Report
                do {
                    report = try await ServerCheck(client: client, rootFingerprint: rootFingerprint).run()
                    await client.shutdown()
                } catch {
                    await client.shutdown()
                    throw error
                }
                if let e = report.expires {
                    out("keyring: serial \(report.serial), expires \(e), current key \(report.currentKey?.hex ?? "none")")
                    out("scripts: \(report.scriptsChecked) checked")
                }
                guard report.problems.isEmpty else {
                    for p in report.problems { note("problem: \(TerminalText.sanitize(p, multiline: false))") }
                    throw DeskError(
                        "\(url) does not match what your root signed",
                        hints: ["do not send tips through it; tell your organization's admins at once"])
                }
                out("ok: the server matches what your root signed")
            }
        }
    }
}

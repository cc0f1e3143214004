import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal a tip read from stdin and print the JSON body to POST to /api/v1/tips.",
            discussion: """
                Needs no vault: anyone with the organization's public key document can seal.
                  tipdesk seal --public-key org.json < tip.txt |
                    curl --data-binary @- -H 'Content-Type: application/json' https://HOST/api/v1/tips
                """
        )

        @Option(help: "The organization's public key document.") var publicKey: String?
        @Option(help: "Fetch the key from this server's signed keyring instead (verified before sealing).") var server: String?
        @Option(help: "With --server: the published root fingerprint, root:…") var rootFingerprint: String?
        @Option(help: "With --server: trust this CA certificate (PEM), for a self-signed server.") var cacert: String?
        @Flag(help: "With --server: also post the sealed tip and print the server's answer.") var post = false
        @Option(name: .customLong("field"), help: "A field as name=value (repeatable).") var fields: [String] = []
        @Option(help: "The tip's language tag, like ru or uz-Latn.") var lang: String?
        @OptionGroup var proxy: ProxyOptions

        func validate() throws {
            guard (publicKey == nil) != (server == nil) else { throw ValidationError("give either --public-key or --server") }
            guard server == nil || rootFingerprint != nil else {
                throw ValidationError("--server needs --root-fingerprint: the key is only as good as the root it is checked against")
            }
            guard server != nil || (!post && cacert == nil && rootFingerprint == nil && proxy.socks == nil) else {
                throw ValidationError("--post, --cacert, --socks and --root-fingerprint go with --server")
            }
            for f in fields where !f.contains("=") {
                throw ValidationError("--field takes name=value, got \(TerminalText.preview(f, limit: 40))")
            }
        }

        func run() async throws {
            try await reportingAsync {
                let client = try server.map { try WebClient(base: $0, caFile: cacert, socks: proxy.resolved) }
                do {
                    try await seal(client)
                    await client?.shutdown()
                } catch {
                    // AsyncHTTPClient must be shut down before it is released, error or not.
                    await client?.shutdown()
                    throw error
                }
            }
        }

        func seal(_ client: WebClient?) async throws {
            let key: PublicKeyDocument
            if let c = client, let rootFingerprint {
                let payload = try await ServerCheck(client: c, rootFingerprint: rootFingerprint).keyring()
                guard let current = payload.current(on: .today) else { throw DeskError("the keyring has no current key") }
                key = KeyIdentity.document(for: current.publicKey)
            } else {
                guard let keyData = FileManager.default.contents(atPath: publicKey!) else {
                    throw DeskError("cannot read the public key document \(publicKey!)")
                }
                do { key = try KeyIdentity.verifiedDocument(keyData) } catch let e as FormatError {
                    throw DeskError("\(publicKey!) is not a valid public key document: \(e.message)")
                }
            }
            var map = [String: String]()
            for f in fields {
                let parts = f.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                map[String(parts[0])] = String(parts[1])
            }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard let body = String(data: input, encoding: .utf8) else {
                throw DeskError("the tip is not valid UTF-8 text")
            }
            var submission: Submission
            do {
                submission = try TipSealer.seal(TipDocument(body: body, fields: map, lang: lang), to: key)
            } catch let e as FormatError {
                throw DeskError("cannot seal this tip: \(e.message)")
            }
            guard post, let client else {
                FileHandle.standardOutput.write(submission.encoded() + Data([0x0a]))
                return
            }
            submission.pow = try await solveChallenge(client, sealed: submission.sealed)
            let r = try await client.post("/api/v1/tips", body: submission.encoded(), contentType: "application/json")
            guard r.status == 201 else {
                throw DeskError(
                    "the server did not take the tip (HTTP \(r.status)): \(TerminalText.preview(String(decoding: r.body, as: UTF8.self), limit: 200))")
            }
            out("received: the server stored the sealed tip")
        }
    }
}

import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal a tip read from stdin and print the JSON body to POST to /api/v1/tips.",
            discussion: """
                Needs no vault: anyone with the organization's public key document can seal.
                  tipdesk seal --public-key org.json < tip.txt |
                    curl --data-binary @- -H 'Content-Type: application/json' https://HOST/api/v1/tips
                """
        )

        @Option(help: "The organization's public key document.") var publicKey: String
        @Option(name: .customLong("field"), help: "A field as name=value (repeatable).") var fields: [String] = []
        @Option(help: "The tip's language tag, like ru or uz-Latn.") var lang: String?

        func validate() throws {
            for f in fields where !f.contains("=") {
                throw ValidationError("--field takes name=value, got \(TerminalText.preview(f, limit: 40))")
            }
        }

        func run() throws {
            try reporting {
                guard let keyData = FileManager.default.contents(atPath: publicKey) else {
                    throw DeskError("cannot read the public key document \(publicKey)")
                }
                let key: PublicKeyDocument
                do { key = try KeyIdentity.verifiedDocument(keyData) } catch let e as FormatError {
                    throw DeskError("\(publicKey) is not a valid public key document: \(e.message)")
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
                do {
                    let doc = try TipDocument(body: body, fields: map, lang: lang)
                    let submission = try TipSealer.seal(doc, to: key)
                    FileHandle.standardOutput.write(submission.encoded() + Data([0x0a]))
                } catch let e as FormatError {
                    throw DeskError("cannot seal this tip: \(e.message)")
                }
            }
        }
    }
}

import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct RelatedCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "related",
            abstract: "Find near-duplicates of a tip, and tips that share its contact or place.",
            discussion: """
                Near-duplicates share most of their word sequences (the same witness writing again,
                or one message passed around). Contact and place are the fields "contact" and "where",
                compared ignoring case, spaces and punctuation.
                """)

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Option(help: "How alike two texts must be to count as near-duplicates, 0 to 1.") var threshold = Related.defaultThreshold
        @Flag(help: "Print JSON: [{\"id\",\"reasons\",\"similarity\"}].") var json = false
        @Argument(help: "The tip id, or at least 6 of its first hex digits.") var id: String

        func validate() throws {
            guard (0...1).contains(threshold) else { throw ValidationError("--threshold is between 0 and 1") }
        }

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                let id = try desk.find(id)
                let found = try desk.session(passphrase.read()).related(id, threshold: threshold)
                if json {
                    struct Entry: Encodable {
                        let id: String
                        let reasons: [String]
                        let similarity: Double
                    }
                    let enc = JSONEncoder()
                    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    let entries = found.map {
                        Entry(id: $0.1.id.hex, reasons: $0.1.reasons.map(\.rawValue), similarity: ($0.1.similarity * 1000).rounded() / 1000)
                    }
                    out(String(decoding: try enc.encode(entries), as: UTF8.self))
                    return
                }
                for (t, m) in found {
                    let reasons = m.reasons.map(\.rawValue).joined(separator: ",")
                    out("\(String(format: "%.2f", m.similarity))  \(col(reasons, 40))  \(tipLine(t))")
                }
                note("\(found.count) related tip\(found.count == 1 ? "" : "s")")
            }
        }
    }
}

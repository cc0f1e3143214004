import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decrypt and show one tip.")

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Flag(help: "Print JSON instead of text.") var json = false
        @Argument(help: "The tip id, or at least 6 of its first hex digits.") var id: String

        func run() throws {
            try reporting {
                let v = vault.resolved
                let desk = Desk(vault: v)
                let tip = try desk.find(id)
                guard let t = desk.open([tip], with: try v.unlock(passphrase.read())).first else { return }
                if json {
                    out(TipJSON.encode([t]))
                    return
                }
                let doc = try t.result.get()
                out("id:    \(t.id)")
                out("day:   \(t.day)")
                out("key:   \(t.keyID)")
                out("lang:  \(TerminalText.sanitize(doc.lang ?? "-", multiline: false))")
                for k in doc.fields.keys.sorted() {
                    out("field: \(TerminalText.sanitize(k, multiline: false)): \(TerminalText.sanitize(doc.fields[k]!, multiline: false))")
                }
                out("")
                out(TerminalText.sanitize(doc.body))
            }
        }
    }
}

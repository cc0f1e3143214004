import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decrypt and list the tips in the vault.")

        @OptionGroup var vault: VaultOptions
        @OptionGroup var passphrase: PassphraseOptions
        @Flag(help: "Print JSON (stable field names) instead of a table.") var json = false

        func run() throws {
            try reporting {
                let v = vault.resolved
                let desk = Desk(vault: v)
                let tips = try desk.allTips()
                let opened = desk.open(tips, with: try v.unlock(passphrase.read()))
                if json {
                    out(TipJSON.encode(opened))
                    return
                }
                for t in opened {
                    switch t.result {
                    case .success(let doc):
                        out("\(t.id.hex.prefix(12))  \(t.day)  \((doc.lang ?? "-").padding(toLength: 5, withPad: " ", startingAt: 0))  \(TerminalText.preview(doc.body))")
                    case .failure(let e):
                        out("\(t.id.hex.prefix(12))  \(t.day)  -      [\(TerminalText.sanitize(e.message, multiline: false))]")
                    }
                }
                if opened.isEmpty { note("the vault has no tips; import a bundle with: tipdesk import BUNDLE") }
            }
        }
    }
}

import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

extension Tipdesk {
    struct Categories: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the categories tips are filed under; --init writes the seeded list to edit.",
            discussion: """
                The categories come from VAULT/taxonomy.json if it exists, else the seeded list. Ids are
                stored with each tip's triage: rename labels freely, but keep the ids in use.
                """)

        @OptionGroup var vault: VaultOptions
        @Flag(help: "Write the seeded taxonomy to VAULT/taxonomy.json (never replacing one) for editing.") var `init` = false

        func run() throws {
            try reporting {
                let desk = Desk(vault: vault.resolved)
                if `init` {
                    let url = desk.vault.directory.appendingPathComponent("taxonomy.json")
                    try desk.vault.writePrivate(Taxonomy.seeded.encoded(), to: url)
                    note("wrote \(url.path); edit it, then check it with: tipdesk categories")
                }
                for c in try desk.taxonomy().categories { out("\(col(c.id, 24))\(c.label)") }
            }
        }
    }
}

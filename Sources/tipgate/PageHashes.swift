import ArgumentParser
import Foundation
import TipServer

extension Tipgate {
    struct PageHashes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "page-hashes",
            abstract: "Print the integrity values of the scripts the witness page serves, for tipdesk keys --scripts.",
            discussion:
                "Run it on a trusted build of the release, not on a server you suspect: the keyring signs these values so tipdesk check-server can compare what a server serves."
        )

        @Option(help: "tweetnacl's nacl-fast.min.js.") var naclScript = PageResources.defaultNaclPath

        func run() throws {
            do {
                let pages = try PageResources.load(naclPath: naclScript)
                guard !pages.scripts.isEmpty else { throw fail(pages.problems.joined(separator: "; ")) }
                print(String(decoding: try JSONEncoder.sorted.encode(pages.scriptHashes), as: UTF8.self))
            } catch let e as ConfigError {
                throw fail(e.description)
            }
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

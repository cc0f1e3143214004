import ArgumentParser
import Foundation
import TipStore

extension Tipgate {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write sealed tips not yet exported to a bundle for tipdesk import.",
            discussion:
                "Tips stay on the server after export, until the reviewers acknowledge them: tipdesk ack signs an acknowledgement, and tipgate purge or tipdesk courier push-ack deletes exactly those tips."
        )

        @Option(help: "The server's data directory.") var data: String
        @Option(help: "The bundle file to create (must not exist).") var out: String
        @Flag(help: "Export every tip still held, exported or not (for a lost bundle).") var all = false

        func run() throws {
            do {
                guard FileManager.default.fileExists(atPath: data) else {
                    throw fail("no data directory at \(data)", hints: ["pass the directory tipgate serve uses, with --data"])
                }
                let db = try IntakeDatabase(directory: data)
                let n = try db.export(to: URL(fileURLWithPath: out), all: all)
                say("tipgate: exported \(n) tip\(n == 1 ? "" : "s") to \(out)")
            } catch let e as StoreError {
                throw fail(e.message)
            }
        }
    }
}

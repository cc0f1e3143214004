import ArgumentParser
import Foundation
import TipCore
import TipServer
import TipStore

extension Tipgate {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a signed keyring.", subcommands: [Install.self])

        struct Install: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Verify a keyring against the pinned root and install it; a running server picks it up within seconds.",
                discussion:
                    "Refuses a bad signature, another root, an expired keyring and a serial not newer than the installed one; the installed keyring then stays in force."
            )

            @Option(help: "The server's data directory.") var data: String
            @Option(help: "The pinned root key document.") var rootKey: String
            @Argument(help: "The signed keyring file (tipdesk keys rotate|renew|retire --out).") var file: String

            func run() throws {
                do {
                    let store = KeyringStore(dataDirectory: data, root: try KeyringStore.loadRoot(rootKey))
                    guard let bytes = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
                    switch try store.install(bytes) {
                    case .installed(let serial): say("tipgate: installed keyring serial \(serial)")
                    case .alreadyInstalled(let serial): say("tipgate: keyring serial \(serial) is already installed")
                    }
                } catch let e as FormatError {
                    throw fail("keyring refused (\(e.code)): \(e.message)", hints: ["the installed keyring stays in force"])
                } catch let e as ConfigError {
                    throw fail(e.description)
                } catch let e as StoreError {
                    throw fail(e.message)
                }
            }
        }
    }
}

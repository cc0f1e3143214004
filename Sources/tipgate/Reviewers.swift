import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipStore

extension Tipgate {
    struct Reviewers: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register the courier transport keys allowed on the admin listener.",
            subcommands: [Add.self, List.self, Remove.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Allow a courier key (tipdesk courier init prints its document).")
            @Option(help: "The server's data directory.") var data: String
            @Argument(help: "The courier's public key document.") var file: String

            func run() throws {
                do {
                    guard let bytes = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
                    let doc = try CourierKey.verifiedDocument(bytes)
                    try IntakeDatabase(directory: data).addReviewer(doc)
                    say("tipgate: courier key \(doc.keyID) may now pull and acknowledge (\(doc.fingerprint))")
                } catch let e as FormatError {
                    throw fail("\(file) is not a courier key document: \(e.message)")
                } catch let e as StoreError {
                    throw fail(e.message)
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the registered courier keys.")
            @Option(help: "The server's data directory.") var data: String

            func run() throws {
                do { for k in try IntakeDatabase(directory: data).reviewers() { print(k) } } catch let e as StoreError { throw fail(e.message) }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a courier key at once.")
            @Option(help: "The server's data directory.") var data: String
            @Argument(help: "The courier key id.") var keyID: String

            func run() throws {
                guard let id = KeyID(keyID) else { throw fail("a key id is 16 lowercase hex digits") }
                do {
                    guard try IntakeDatabase(directory: data).removeReviewer(id) else { throw fail("no courier key \(id) is registered") }
                    say("tipgate: removed courier key \(id)")
                } catch let e as StoreError { throw fail(e.message) }
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the tips a signed acknowledgement lists (the offline alternative to courier push-ack).",
            discussion:
                "Deletes exactly the rows whose id and sealed-bytes hash match, and only for this install; then checkpoints the WAL so the ciphertext is gone from every file."
        )
        @Option(help: "The server's data directory.") var data: String
        @Option(help: "The pinned root key document.") var rootKey: String
        @Option(help: "The acknowledgement (tipdesk ack --out).") var ack: String

        func run() throws {
            do {
                let root = try RootIdentity.verifiedDocument(FileManager.default.contents(atPath: rootKey) ?? Data())
                guard let bytes = FileManager.default.contents(atPath: ack) else { throw fail("cannot read \(ack)") }
                let payload = try AckSigner.verify(bytes, pin: .key(root.publicKey))
                let r = try IntakeDatabase(directory: data).purge(payload)
                say("tipgate: deleted \(r.deleted), not held \(r.notHeld), kept because the bytes differ \(r.mismatched)")
            } catch let e as FormatError {
                throw fail("the acknowledgement is refused (\(e.code)): \(e.message)", hints: ["nothing was deleted"])
            } catch let e as StoreError {
                throw fail(e.message, hints: ["nothing was deleted"])
            }
        }
    }
}

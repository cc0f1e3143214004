import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

/// `--courier`, in every courier subcommand.
struct CourierOptions: ParsableArguments {
    @Option(help: "The courier's directory. Default: $TIPDESK_COURIER, then ~/.tipdesk-courier.") var courier: String?
    var resolved: Courier { Courier.resolve(flag: courier, environment: ProcessInfo.processInfo.environment) }
}

struct ServerOptions: ParsableArguments {
    @Option(help: "The admin listener's URL, like https://ADMIN.onion.") var server: String
    @Option(help: "Trust this CA certificate (PEM) instead of the system's, for a self-signed server.") var cacert: String?
    @OptionGroup var proxy: ProxyOptions

    /// Runs `body` with a client that is always shut down, error or not.
    func with<T>(_ body: (WebClient) async throws -> T) async throws -> T {
        let client = try WebClient(base: server, caFile: cacert, socks: proxy.resolved)
        do {
            let v = try await body(client)
            await client.shutdown()
            return v
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

extension Tipdesk {
    struct CourierCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "courier",
            abstract: "Move sealed files between the server and the offline desk (run online; never unlocks a vault key).",
            subcommands: [Init.self, Key.self, Pull.self, PushAck.self, Deliver.self])
    }
}

extension Tipdesk.CourierCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create this courier's transport key and print its public document.")
        @OptionGroup var courier: CourierOptions
        @Option(help: "Also write the public document to this file (for tipgate reviewers add).") var out: String?

        func run() throws {
            try reporting {
                let doc = try courier.resolved.initialise()
                if let out { try PublicFile.write(doc.encoded(), to: out) }
                FileHandle.standardOutput.write(doc.encoded())
                note("hint: on the server: tipgate reviewers add --data DIR \(out ?? "FILE")")
            }
        }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print this courier's public document.")
        @OptionGroup var courier: CourierOptions

        func run() throws { try reporting { FileHandle.standardOutput.write(try courier.resolved.document().encoded()) } }
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch the sealed tips not yet collected into a bundle file for tipdesk import.")
        @OptionGroup var courier: CourierOptions
        @OptionGroup var server: ServerOptions
        @Option(help: "The bundle file to create (must not exist).") var out: String
        @Flag(help: "Fetch every tip the server still holds, collected or not (a lost bundle).") var all = false

        func run() async throws {
            try await reportingAsync {
                let n = try await server.with { try await courier.resolved.pull($0, all: all, to: URL(fileURLWithPath: out)) }
                note("pulled \(n) sealed tip\(n == 1 ? "" : "s") into \(out)")
            }
        }
    }

    struct PushAck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push-ack", abstract: "Send a signed acknowledgement; the server deletes exactly the tips it lists.")
        @OptionGroup var courier: CourierOptions
        @OptionGroup var server: ServerOptions
        @Argument(help: "The acknowledgement (tipdesk ack --out).") var file: String

        func run() async throws {
            try await reportingAsync {
                guard let ack = FileManager.default.contents(atPath: file) else { throw DeskError("cannot read \(file)") }
                let r = try await server.with { try await courier.resolved.pushAck($0, ack: ack) }
                out("deleted \(r.deleted); not held \(r.notHeld); kept because the bytes differ \(r.mismatched)")
            }
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post the sealed forwards in an outbox to each partner's tipgate, solving proof of work when asked.")
        @Option(help: "Trust this CA certificate (PEM) instead of the system's, for a self-signed partner server.") var cacert: String?
        @OptionGroup var proxy: ProxyOptions
        @Argument(help: "The outbox directory carried from the offline desk (tipdesk forward).") var outbox: String

        func run() async throws {
            try await reportingAsync {
                let r = try await ForwardDelivery.deliver(outbox: URL(fileURLWithPath: outbox), caFile: cacert, socks: proxy.resolved)
                for d in r.delivered { out("delivered \(TerminalText.preview(d.file, limit: 80)) to \(TerminalText.preview(d.host, limit: 80))") }
                for f in r.failed {
                    // The message can quote the parcel's own deliver_to or the server's answer.
                    note("not delivered: \(TerminalText.preview(f.file, limit: 80)): \(TerminalText.sanitize(f.message, multiline: false))")
                }
                if !r.byHand.isEmpty { note("\(r.byHand.count) forward\(r.byHand.count == 1 ? " is" : "s are") for a partner who takes files by hand") }
                out("delivered \(r.delivered.count) of \(r.delivered.count + r.failed.count)")
                if !r.failed.isEmpty {
                    throw DeskError(
                        "\(r.failed.count) forward\(r.failed.count == 1 ? "" : "s") not delivered", hints: ["they stay in the outbox; run deliver again"])
                }
            }
        }
    }
}

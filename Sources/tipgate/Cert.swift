import ArgumentParser
import Foundation
import TipServer
import TipStore

extension Tipgate {
    struct Cert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a self-signed TLS certificate and key, for an onion-only deployment.",
            discussion: "With a public domain, use a certificate from a CA instead. The key is written 0600 and neither file is ever overwritten."
        )

        @Option(help: "The certificate file to create.") var cert: String
        @Option(help: "The private key file to create (0600).") var key: String
        @Option(name: .customLong("name"), help: "A host name or IPv4 address for the certificate (repeatable), like abc….onion.")
        var names: [String] = ["localhost", "127.0.0.1"]
        @Option(help: "Days of validity.") var days = 825

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days must be from 1 to 3650") }
            guard !names.isEmpty else { throw ValidationError("give at least one --name") }
        }

        func run() async throws {
            do {
                try await SelfSignedCertificate.make(
                    names: names, days: days, certificateURL: URL(fileURLWithPath: cert), keyURL: URL(fileURLWithPath: key))
                say("tipgate: wrote \(cert) and \(key) for \(names.joined(separator: ", "))")
            } catch let e as StoreError {
                throw fail(e.message)
            }
        }
    }
}

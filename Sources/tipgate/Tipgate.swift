import ArgumentParser

/// The intake server. The root command only lists subcommands (STYLE.md).
@main
struct Tipgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tipgate",
        abstract: "Anonymous tip intake: stores sealed tips, never holds a decryption key.",
        subcommands: [Serve.self, Export.self, Keys.self, Status.self, PageHashes.self, Reviewers.self, Purge.self, Cert.self]
    )
}

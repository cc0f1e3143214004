import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TipServer
import TipStore
import UnixSignals

func announce(_ what: String, _ host: String, _ port: Int) {
    let shown = host.contains(":") ? "[\(host)]" : host
    FileHandle.standardOutput.write(Data("\(what) on https://\(shown):\(port)\n".utf8))
}

extension Tipgate {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the intake API over HTTPS.",
            discussion: """
                Every option can also come from the environment, as TIPGATE_ and its name in capitals
                (TIPGATE_DATA, TIPGATE_ADMIN_LISTEN, TIPGATE_POW_DIFFICULTY, ...), or from a JSON config file
                (--config or TIPGATE_CONFIG). Two settings have no flag: TIPGATE_MAX_CONNECTIONS (default
                1024) and TIPGATE_NO_JS_RESERVE_BYTES (default 268435456). Flags win over the environment,
                which wins over the file. SECURITY.md §7 lists every setting.
                """
        )

        @Option(help: "A JSON config file.") var config: String?
        @Option(help: "The data directory (created 0700).") var data: String?
        @Option(help: "HOST:PORT to listen on; port 0 picks a free one. Default 127.0.0.1:8443.") var listen: String?
        @Option(help: "HOST:PORT of the admin listener (courier pull and acks), or off. Default 127.0.0.1:8444.") var adminListen: String?
        @Option(help: "The TLS certificate chain (PEM).") var tlsCert: String?
        @Option(help: "The TLS private key (PEM).") var tlsKey: String?
        @Option(help: "The admin listener's own certificate chain (PEM), naming only the admin onion. Default: --tls-cert.")
        var adminTlsCert: String?
        @Option(help: "The admin listener's own private key (PEM). Default: --tls-key.") var adminTlsKey: String?
        @Option(help: "The pinned root key document (tipdesk keys init-root).") var rootKey: String?
        @Option(help: "A signed keyring to install before serving (else the one installed in --data).") var keyring: String?
        @Option(help: "Development only: one public key document instead of a signed keyring.") var publicKey: String?
        @Option(help: "The largest padded tip accepted, a power of two. Default 1048576.") var maxPaddedBytes: Int?
        @Option(help: "trace, debug, info, notice, warning, error or critical. Default info.") var logLevel: String?
        @Option(help: "Delete tips older than this many days even if never collected. Default: off.") var retentionDays: Int?
        @Option(help: "Proof-of-work bits asked for at no load; 0 (the default for now) turns it off.") var powDifficulty: Int?
        @Option(help: "The most proof-of-work bits ever asked for. Default 16.") var powMaxDifficulty: Int?
        @Option(help: "Refuse tips (503 storage_full) when the data disk has less free space than this. Default 67108864.") var minFreeBytes: UInt64?
        @Option(help: "tweetnacl's nacl-fast.min.js. Default /usr/share/nodejs/tweetnacl/nacl-fast.min.js.") var naclScript: String?

        func run() async throws {
            var flags = [String: String]()
            flags[ServerConfig.Key.data] = data
            flags[ServerConfig.Key.listen] = listen
            flags[ServerConfig.Key.adminListen] = adminListen
            flags[ServerConfig.Key.retentionDays] = retentionDays.map(String.init)
            flags[ServerConfig.Key.minFreeBytes] = minFreeBytes.map(String.init)
            flags[ServerConfig.Key.powDifficulty] = powDifficulty.map(String.init)
            flags[ServerConfig.Key.powMaxDifficulty] = powMaxDifficulty.map(String.init)
            flags[ServerConfig.Key.tlsCert] = tlsCert
            flags[ServerConfig.Key.tlsKey] = tlsKey
            flags[ServerConfig.Key.adminTlsCert] = adminTlsCert
            flags[ServerConfig.Key.adminTlsKey] = adminTlsKey
            flags[ServerConfig.Key.publicKey] = publicKey
            flags[ServerConfig.Key.rootKey] = rootKey
            flags[ServerConfig.Key.keyring] = keyring
            flags[ServerConfig.Key.maxPaddedBytes] = maxPaddedBytes.map(String.init)
            flags[ServerConfig.Key.logLevel] = logLevel
            flags[ServerConfig.Key.naclScript] = naclScript
            let env = ProcessInfo.processInfo.environment
            let settings: ServerConfig
            let deps: ServerDependencies
            do {
                settings = try await ServerConfig.resolve(flags: flags, environment: env, configFile: config ?? env["TIPGATE_CONFIG"])
                var logger = Logger(label: "tipgate") { StreamLogHandler.standardError(label: $0) }
                logger.logLevel = settings.logLevel
                deps = try ServerDependencies.open(settings, logger: logger)
                let app = try buildApplication(settings, deps) { host, port in announce("listening", host, port) }
                var services: [any Service] = [app]
                if let admin = try buildAdminApplication(settings, deps, onListening: { host, port in announce("admin listening", host, port) }) {
                    services.append(admin)
                }
                // SIGHUP's default is to exit, and operators send it by habit (`kill -HUP`,
                // log rotation): ignore it. An installed keyring is picked up by polling (§2.6).
                signal(SIGHUP, SIG_IGN)
                // One process, one database writer, both listeners (SECURITY.md §4.3, §5.1).
                let group = ServiceGroup(
                    configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: deps.logger))
                try await group.run()
            } catch let e as ConfigError {
                throw fail(e.description, hints: ["see: tipgate serve --help"])
            } catch let e as StoreError {
                throw fail(e.message, hints: ["check the --data directory: it must be yours and mode 0700"])
            }
        }
    }
}

import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// Everything `buildApplication` needs besides the config: what runs is the same in tests.
public struct ServerDependencies: Sendable {
    public var repository: any TipRepository
    public var keys: any KeyDirectory
    public var logger: Logger
    public var pages: PageResources

    public init(repository: any TipRepository, keys: any KeyDirectory, logger: Logger, pages: PageResources) {
        self.repository = repository
        self.keys = keys
        self.logger = logger
        self.pages = pages
    }

    /// Opens the SQLite store and reads the public key document named by `config`.
    public static func open(_ config: ServerConfig, logger: Logger) throws -> ServerDependencies {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: config.publicKeyPath))
        } catch {
            throw ConfigError("cannot read the public key document \(config.publicKeyPath)")
        }
        let document: PublicKeyDocument
        do {
            document = try KeyIdentity.verifiedDocument(data)
        } catch let e as FormatError {
            throw ConfigError("the public key document \(config.publicKeyPath) is not valid: \(e.message)")
        }
        let db = try IntakeDatabase(directory: config.dataDirectory)
        let pages = try PageResources.load(naclPath: config.naclScriptPath)
        for p in pages.problems { logger.warning("\(p)") }
        return ServerDependencies(
            repository: GroupCommitWriter(database: db), keys: SingleKeyDirectory(document), logger: logger, pages: pages)
    }
}

public func buildRouter(_ config: ServerConfig, _ deps: ServerDependencies) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    // Outermost first: the headers apply to every response, error responses included.
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware(logger: deps.logger))
    let tips = TipController<BasicRequestContext>(
        repository: deps.repository, keys: deps.keys, maxPaddedBytes: config.maxPaddedBytes, logger: deps.logger)
    router.addRoutes(tips.endpoints, atPath: "/api/v1")
    let pages = PageController<BasicRequestContext>(
        resources: deps.pages, repository: deps.repository, keys: deps.keys, maxPaddedBytes: config.maxPaddedBytes,
        logger: deps.logger)
    router.addRoutes(pages.endpoints)
    return router
}

/// The one place the server is assembled; `tipgate serve` and the tests both call it.
/// `onListening` gets the bound host and port once the listener is up.
public func buildApplication(
    _ config: ServerConfig, _ deps: ServerDependencies,
    onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) throws -> some ApplicationProtocol {
    let tls = try TLSSettings.server(certificatePath: config.tlsCertificatePath, keyPath: config.tlsKeyPath)
    let host = config.host
    return Application(
        router: buildRouter(config, deps),
        server: try .tls(.http1(configuration: .init(idleTimeout: .seconds(30))), tlsConfiguration: tls),
        configuration: ApplicationConfiguration(address: .hostname(host, port: config.port), serverName: nil),
        onServerRunning: { channel in
            await onListening(host, channel.localAddress?.port ?? config.port)
        },
        logger: deps.logger
    )
}

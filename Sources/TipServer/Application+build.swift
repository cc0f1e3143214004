import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TipCore
import TipCrypto
import TipStore

/// Everything `buildApplication` needs besides the config: what runs is the same in tests.
public struct ServerDependencies: Sendable {
    public var repository: any TipRepository
    public var keys: any KeyDirectory
    public var logger: Logger
    public var pages: PageResources
    /// Where the no-JS path stores (a higher disk floor); nil: the same as `repository`.
    public var formRepository: (any TipRepository)?
    /// Counters and histograms without client data (§4.7), shown on the admin listener.
    public var metrics = ServerMetrics()
    /// The store as the admin listener sees it (pull, purge, registered couriers).
    public var admin: (any IntakeAdministration)?
    /// Failures met while handling requests, logged as hourly counts (§4.7).
    public var failures = FailureLog()

    public init(repository: any TipRepository, keys: any KeyDirectory, logger: Logger, pages: PageResources) {
        self.repository = repository
        self.keys = keys
        self.logger = logger
        self.pages = pages
    }

    /// Services that run beside the server (the keyring watcher).
    public var services: [any Service] = []

    /// Opens the SQLite store and the keys named by `config` (SECURITY.md §2.6): refuses to
    /// start on a keyring that fails verification or has expired.
    public static func open(_ config: ServerConfig, logger: Logger) throws -> ServerDependencies {
        let db = try IntakeDatabase(directory: config.dataDirectory)
        // The reserve of free pages new tips take (§4.2) is filled before the first tip, not
        // after the first idle second. A failure only leaves the file as it was: the writer
        // tries again when idle.
        do { try db.refillFreePagesBeforeServing() } catch { logger.warning("could not refill the store's reserve of free pages: \(error)") }
        let pages = try PageResources.load(naclPath: config.naclScriptPath)
        for p in pages.problems { logger.warning("\(p)") }
        let keys: any KeyDirectory
        var services = [any Service]()
        switch config.keys {
        case .single(let path):
            keys = SingleKeyDirectory(try loadPublicKey(path))
        case .keyring(let rootPath, let install):
            let store = KeyringStore(dataDirectory: config.dataDirectory, root: try KeyringStore.loadRoot(rootPath))
            do {
                if let install {
                    guard let file = FileManager.default.contents(atPath: install) else {
                        throw ConfigError("cannot read the keyring \(install)")
                    }
                    try store.install(file)
                }
                guard let (file, payload) = try store.load() else {
                    throw ConfigError("no keyring is installed in \(config.dataDirectory): pass --keyring FILE")
                }
                let directory = KeyringDirectory(file: file, payload: payload, root: store.root)
                keys = directory
                services.append(KeyringWatcher(store: store, directory: directory, logger: logger))
            } catch let e as FormatError {
                throw ConfigError("the keyring is not usable (\(e.code)): \(e.message)")
            }
        }
        let metrics = ServerMetrics()
        let writer = GroupCommitWriter(database: db, onBatch: { metrics.batch($0) }, onIdle: ProcessMemory.trim)
        let repository = DiskFloorRepository(base: writer, directory: config.dataDirectory, minimumFreeBytes: config.minFreeBytes)
        var deps = ServerDependencies(repository: repository, keys: keys, logger: logger, pages: pages)
        deps.metrics = metrics
        // The no-JS path stops `noJSReserveBytes` earlier, so a flood there cannot take the
        // disk the sealed path needs (§4.3).
        deps.formRepository = DiskFloorRepository(
            base: writer, directory: config.dataDirectory, minimumFreeBytes: config.minFreeBytes + config.noJSReserveBytes)
        deps.services = services
        deps.services.append(FailureLogService(failures: deps.failures, logger: logger))
        deps.admin = db
        if let days = config.retentionDays { deps.services.append(RetentionService(database: db, days: days, logger: logger)) }
        return deps
    }

    static func loadPublicKey(_ path: String) throws -> PublicKeyDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read the public key document \(path)")
        }
        do {
            return try KeyIdentity.verifiedDocument(data)
        } catch let e as FormatError {
            throw ConfigError("the public key document \(path) is not valid: \(e.message)")
        }
    }
}

public func buildRouter(_ config: ServerConfig, _ deps: ServerDependencies) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    // Outermost first: the headers apply to every response, error responses included.
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: RouteMetricsMiddleware(metrics: deps.metrics))
    router.add(middleware: ErrorMiddleware(failures: deps.failures, metrics: deps.metrics))
    let pow = ProofOfWorkGuard(
        settings: .init(base: config.powDifficulty, cap: config.powMaxDifficulty, perBit: config.powPerBit))
    let tips = TipController<BasicRequestContext>(
        repository: deps.repository, keys: deps.keys, maxPaddedBytes: config.maxPaddedBytes, failures: deps.failures, pow: pow,
        metrics: deps.metrics)
    router.addRoutes(tips.endpoints, atPath: "/api/v1")
    let pages = PageController<BasicRequestContext>(
        resources: deps.pages, repository: deps.formRepository ?? deps.repository, keys: deps.keys,
        maxPaddedBytes: config.maxPaddedBytes, failures: deps.failures, metrics: deps.metrics,
        limiter: NoJSLimiter(ratePerSecond: config.noJSRatePerSecond, burst: config.noJSBurst, maxInFlight: config.noJSMaxInFlight))
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
        server: try listenerServer(tls: tls, headerTimeoutSeconds: config.headerTimeoutSeconds),
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: config.port), serverName: nil,
            availableConnectionsDelegate: .maximum(config.maxConnections, logger: deps.logger)),
        services: deps.services,
        onServerRunning: { channel in
            await onListening(host, channel.localAddress?.port ?? config.port)
        },
        logger: deps.logger
    )
}

/// Connections the admin listener takes at once (SECURITY.md §5.1).
public let adminMaxConnections = 32

/// The admin listener (SECURITY.md §5.1): its own TLS server, its own router, every route
/// behind signed-request authentication. Nothing here is reachable from the public listener.
public func buildAdminApplication(
    _ config: ServerConfig, _ deps: ServerDependencies, now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) },
    onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) throws -> (some ApplicationProtocol)? {
    guard let (host, port) = config.admin, let store = deps.admin else { return Application<RouterResponder<BasicRequestContext>>?.none }
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware(failures: deps.failures, metrics: deps.metrics))
    // Unauthenticated, for a Prometheus scraper: the listener itself is behind onion client
    // authorization, and the snapshot holds no client data (§4.7).
    let metrics = deps.metrics
    let dataDirectory = config.dataDirectory
    router.get("metrics") { _, _ -> Response in
        var size = 0
        for suffix in ["", "-wal"] {
            let path = (dataDirectory as NSString).appendingPathComponent(IntakeDatabase.fileName + suffix)
            size += ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
        }
        metrics.gauge("tipgate_store_bytes", Double(size))
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
    let admin = router.group("admin/v1")
    admin.add(middleware: AdminAuthMiddleware(store: store, nonces: NonceCache(), now: now))
    admin.addRoutes(AdminController<BasicRequestContext>(store: store, keys: deps.keys, logger: deps.logger).endpoints)
    let tls = try TLSSettings.server(
        certificatePath: config.adminTLS?.certificatePath ?? config.tlsCertificatePath, keyPath: config.adminTLS?.keyPath ?? config.tlsKeyPath)
    // The same server as the public listener's, and few connections: couriers and a scraper
    // need a handful, and this listener shares the process's file descriptors with the
    // witnesses' (a flood of slow connections here must not starve that one).
    return Application(
        router: router,
        server: try listenerServer(tls: tls, headerTimeoutSeconds: config.headerTimeoutSeconds),
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: nil,
            availableConnectionsDelegate: .maximum(adminMaxConnections, logger: deps.logger)),
        onServerRunning: { channel in await onListening(host, channel.localAddress?.port ?? port) },
        logger: deps.logger
    )
}

/// Both listeners' HTTP/1.1 over TLS: the request-head deadline (SECURITY.md §4.3), §4.4's
/// headers on the framework's own answers, and the 30 s idle timeout (§4.4).
func listenerServer(tls: TLSConfiguration, headerTimeoutSeconds: Int) throws -> HTTPServerBuilder {
    try .tls(
        .http1(
            configuration: .init(
                additionalChannelHandlers: [HeaderDeadlineHandler(timeout: .seconds(Int64(headerTimeoutSeconds))), SecurityHeadersHandler()],
                idleTimeout: .seconds(30))),
        tlsConfiguration: tls)
}

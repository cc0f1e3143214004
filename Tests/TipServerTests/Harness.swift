import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

/// A real server from `buildApplication` on 127.0.0.1 port 0, over real TLS, with a real
/// SQLite file; the client is AsyncHTTPClient over HTTPS.
struct Harness {
    let directory: URL
    var config: ServerConfig
    let database: IntakeDatabase
    let writer: GroupCommitWriter
    let key: PublicKeyDocument

    init(maxPaddedBytes: Int = PaddedSize.defaultMaximum) throws {
        directory = scratchDirectory("server")
        let (cert, tlsKey) = try makeCertificate(in: directory)
        config = ServerConfig(
            dataDirectory: directory.appendingPathComponent("data").path, host: "127.0.0.1", port: 0,
            tlsCertificatePath: cert, tlsKeyPath: tlsKey, keys: .single(publicKeyPath: TestKey.documentPath), maxPaddedBytes: maxPaddedBytes)
        database = try IntakeDatabase(directory: config.dataDirectory)
        writer = GroupCommitWriter(database: database)
        key = TestKey.pair().document
    }

    @discardableResult
    func run<T: Sendable>(
        keys: (any KeyDirectory)? = nil, services: [any Service] = [],
        _ test: @escaping @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        var deps = ServerDependencies(
            repository: writer, keys: keys ?? SingleKeyDirectory(key), logger: Logger(label: "test"),
            pages: try PageResources.load(naclPath: PageResources.defaultNaclPath))
        deps.services = services
        let app = try buildApplication(config, deps)
        return try await app.test(.ahc(.https)) { client in try await test(client) }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The stable error code of a JSON error body, or nil.
    var errorCode: String? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])?["error"]
    }
}

extension TestClientProtocol {
    func postTip(_ body: Data, contentType: String? = "application/json") async throws -> TestResponse {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: "/api/v1/tips", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}

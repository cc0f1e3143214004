import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// HTTPS to a tipgate server, for the commands that run on an online machine (check-server,
/// seal --server, and later the courier). They never load a secret key.
public struct WebClient: Sendable {
    public let base: String
    let client: HTTPClient

    /// - Parameter caFile: a PEM bundle to trust instead of the system's (a self-signed or
    ///   onion-only server).
    /// - Parameter socks: `HOST:PORT` of a SOCKS5 proxy (Tor's SocksPort, 127.0.0.1:9050) to
    ///   reach the server through; names, .onion ones included, are resolved by the proxy.
    public init(base: String, caFile: String?, socks: String? = nil) throws {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        guard b.hasPrefix("https://") else {
            throw DeskError("\(base) is not an https:// URL", hints: ["tipgate only speaks HTTPS"])
        }
        self.base = b
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) } catch {
                throw DeskError("cannot read the CA certificate \(caFile) (PEM expected)")
            }
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        if let socks {
            guard let colon = socks.lastIndex(of: ":"), let port = Int(socks[socks.index(after: colon)...]), (1...65535).contains(port),
                colon > socks.startIndex
            else {
                throw DeskError(
                    "\(TerminalText.preview(socks, limit: 60)) is not a SOCKS proxy address", hints: ["give HOST:PORT, like 127.0.0.1:9050 for Tor"])
            }
            config.proxy = .socksServer(host: String(socks[..<colon]), port: port)
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public struct Reply: Sendable {
        public let status: Int
        public let body: Data
    }

    public func get(_ path: String, limit: Int = 4 << 20) async throws -> Reply {
        try await send(HTTPClientRequest(url: base + path), limit: limit)
    }

    public func post(_ path: String, body: Data, contentType: String, headers: [(String, String)] = []) async throws -> Reply {
        var r = HTTPClientRequest(url: base + path)
        r.method = .POST
        r.headers.add(name: "Content-Type", value: contentType)
        for (name, value) in headers { r.headers.add(name: name, value: value) }
        r.body = .bytes(ByteBuffer(bytes: body))
        return try await send(r, limit: 1 << 30)
    }

    private func send(_ request: HTTPClientRequest, limit: Int) async throws -> Reply {
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: limit)
            return Reply(status: Int(response.status.code), body: Data(body.readableBytesView))
        } catch let e as DeskError {
            throw e
        } catch {
            throw DeskError("cannot reach \(base): \(error)", hints: ["check the URL, the network (or Tor), and --cacert for a self-signed server"])
        }
    }

    public func shutdown() async { try? await client.shutdown() }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TipCore
import TipCrypto
import TipServer
import TipStore
import TipTestSupport

@Suite struct HeaderTests {
    static let required: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Strict-Transport-Security", "max-age=63072000"),
    ]

    // SECURITY.md §4.4: the header set on every response, success or error; no banner, ETag
    // or cookie on any.
    @Test func everyResponseCarriesTheHeaderSet() async throws {
        let h = try Harness()
        let good = try TipSealer.seal(TipDocument(body: "x"), to: TestKey.pair().document).encoded()
        try await h.run { client in
            let responses = [
                try await client.postTip(good),
                try await client.postTip(Data("{}".utf8)),
                try await client.postTip(good, contentType: "text/plain"),
                try await client.execute(uri: "/api/v1/key", method: .get),
                try await client.execute(uri: "/missing", method: .get),
            ]
            #expect(responses.map(\.status.code) == [201, 400, 415, 200, 404])
            for r in responses {
                for (name, value) in Self.required {
                    #expect(r.headers[HTTPField.Name(name)!] == value, "\(name) on \(r.status)")
                }
                for banned in ["Server", "ETag", "Last-Modified", "Set-Cookie"] {
                    #expect(r.headers[HTTPField.Name(banned)!] == nil, "\(banned) on \(r.status)")
                }
            }
        }
    }

    @Test func keyEndpointServesTheVerifiedDocument() async throws {
        let h = try Harness()
        try await h.run { client in
            let r = try await client.execute(uri: "/api/v1/key", method: .get)
            #expect(r.status == .ok)
            let doc = try KeyIdentity.verifiedDocument(Data(r.text.utf8))
            #expect(doc == TestKey.pair().document)
        }
    }
}

@Suite struct DurabilityTests {
    // SECURITY.md §4.1: the live writer connection runs with synchronous=FULL.
    @Test func synchronousIsFullAtRunTime() async throws {
        let h = try Harness()
        #expect(try await h.database.synchronousSetting() == 2)
        #expect(FileManager.default.fileExists(atPath: h.database.path + "-wal"))
    }

    // Group commit: concurrent submissions all get 201 and all are stored; the batches add up.
    @Test func concurrentSubmissionsAreAllCommitted() async throws {
        let h = try Harness()
        let key = TestKey.pair().document
        let bodies = try (0..<40).map { try TipSealer.seal(TipDocument(body: "tip \($0)"), to: key).encoded() }
        try await h.run { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for b in bodies { group.addTask { try await client.postTip(b).status } }
                for try await s in group { #expect(s == .created) }
            }
        }
        #expect(try h.database.counts().total == 40)
        #expect(await h.writer.recentBatchSizes.reduce(0, +) == 40)
    }
}

@Suite struct TLSTests {
    static func handshake(port: Int, _ args: [String]) throws -> Bool {
        let r = try run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + args)
        return r.status == 0 && r.stdout.contains("BEGIN CERTIFICATE") && !r.stdout.contains("Cipher is (NONE)")
    }

    // SECURITY.md §4.4: TLS 1.2 minimum; ECDHE with AEAD only. The client side is opened wide
    // (SECLEVEL=0) so a refusal can only come from the server.
    @Test func onlyModernProtocolsAndSuites() async throws {
        let h = try Harness()
        let accepted: [[String]] = [
            ["-tls1_3"],
            ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
            ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
        ]
        let refused: [[String]] = [
            ["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"],
            ["-tls1", "-cipher", "ALL:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:@SECLEVEL=0"],
        ]
        let results = try await h.run { client in
            try (accepted + refused).map { try Self.handshake(port: client.port!, $0) }
        }
        #expect(results == accepted.map { _ in true } + refused.map { _ in false })
    }
}

@Suite struct ConfigTests {
    // Flags win over the environment, which wins over the config file (SECURITY.md §7).
    @Test func precedence() async throws {
        let dir = scratchDirectory("config")
        let file = dir.appendingPathComponent("tipgate.json")
        try Data(
            #"{"data":"/file/data","listen":"127.0.0.1:1111","tls":{"cert":"/file/cert","key":"/file/key"},"publicKey":"/file/pk","maxPaddedBytes":"2048"}"#
                .utf8
        ).write(to: file)
        let fromFile = try await ServerConfig.resolve(flags: [:], environment: [:], configFile: file.path)
        #expect(fromFile.dataDirectory == "/file/data")
        #expect(fromFile.port == 1111)
        #expect(fromFile.tlsCertificatePath == "/file/cert")
        #expect(fromFile.keys == .single(publicKeyPath: "/file/pk"))
        #expect(fromFile.maxPaddedBytes == 2048)
        let env = ["TIPGATE_DATA": "/env/data", "TIPGATE_TLS_KEY": "/env/key", "TIPGATE_PUBLIC_KEY": "/env/pk", "TIPGATE_LISTEN": "[::1]:2222"]
        let fromEnv = try await ServerConfig.resolve(flags: [:], environment: env, configFile: file.path)
        #expect(fromEnv.dataDirectory == "/env/data")
        #expect(fromEnv.tlsKeyPath == "/env/key")
        #expect(fromEnv.tlsCertificatePath == "/file/cert")
        #expect(fromEnv.keys == .single(publicKeyPath: "/env/pk"))
        #expect(fromEnv.host == "::1" && fromEnv.port == 2222)
        let fromFlags = try await ServerConfig.resolve(flags: ["data": "/flag/data"], environment: env, configFile: file.path)
        #expect(fromFlags.dataDirectory == "/flag/data")
    }

    @Test func numbersInTheConfigFile() async throws {
        let file = scratchDirectory("config").appendingPathComponent("n.json")
        try Data(#"{"data":"/d","tls":{"cert":"/c","key":"/k"},"publicKey":"/p","maxPaddedBytes":4096}"#.utf8).write(to: file)
        #expect(try await ServerConfig.resolve(flags: [:], environment: [:], configFile: file.path).maxPaddedBytes == 4096)
    }

    @Test func missingAndBadSettingsAreClear() async throws {
        await #expect(throws: ConfigError.self) { try await ServerConfig.resolve(flags: [:], environment: [:], configFile: nil) }
        let base = ["data": "/d", "tls.cert": "/c", "tls.key": "/k", "publicKey": "/p"]
        var bad = base
        bad["listen"] = "nonsense"
        await #expect(throws: ConfigError.self) { try await ServerConfig.resolve(flags: bad, environment: [:], configFile: nil) }
        bad = base
        bad["maxPaddedBytes"] = "3000"
        await #expect(throws: ConfigError.self) { try await ServerConfig.resolve(flags: bad, environment: [:], configFile: nil) }
        _ = try await ServerConfig.resolve(flags: base, environment: [:], configFile: nil)
        // The admin listener's own certificate: both or neither, from any source.
        bad = base
        bad["adminTls.cert"] = "/admin-cert"
        await #expect(throws: ConfigError.self) { try await ServerConfig.resolve(flags: bad, environment: [:], configFile: nil) }
        #expect(try await ServerConfig.resolve(flags: base, environment: [:], configFile: nil).adminTLS == nil)
        let env = ["TIPGATE_ADMIN_TLS_CERT": "/ac", "TIPGATE_ADMIN_TLS_KEY": "/ak"]
        let own = try await ServerConfig.resolve(flags: base, environment: env, configFile: nil).adminTLS
        #expect(own?.certificatePath == "/ac" && own?.keyPath == "/ak")
        let file = scratchDirectory("config").appendingPathComponent("a.json")
        try Data(#"{"adminTls":{"cert":"/fc","key":"/fk"}}"#.utf8).write(to: file)
        #expect(try await ServerConfig.resolve(flags: base, environment: [:], configFile: file.path).adminTLS?.keyPath == "/fk")
    }

    // A key document whose key_id is not derived from its key must stop the server at start.
    @Test func refusesAForgedKeyDocument() throws {
        let h = try Harness()
        let doc = String(decoding: try Data(contentsOf: URL(fileURLWithPath: TestKey.documentPath)), as: UTF8.self)
        let forged = h.directory.appendingPathComponent("forged.json")
        try Data(doc.replacingOccurrences(of: "ba5d987fcd4768d2", with: "0000000000000000").utf8).write(to: forged)
        var config = h.config
        config.keys = .single(publicKeyPath: forged.path)
        #expect(throws: ConfigError.self) { try ServerDependencies.open(config, logger: .init(label: "t")) }
    }
}

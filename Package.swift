// swift-tools-version: 6.1
// The module graph is the design (DEVELOPERS.md, "Architecture"):
//   CSodium   libsodium, a system library; imported by TipCrypto only.
//   TipCore   wire formats, domain types, validation. No I/O, no C.
//   TipCrypto sealed box, padding, keys, Argon2id key files, zeroing.
//   TipStore  GRDB/SQLite: the server's intake store and the reviewer's vault store.
//   TipServer Hummingbird 2 + TLS. Must never link TipDesk (it holds no secret key).
//   TipDesk   the reviewer library. Must never link Hummingbird (it runs offline).
//   tipgate, tipdesk: thin executables.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tipgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tipgate", targets: ["tipgate"]),
        .executable(name: "tipdesk", targets: ["tipdesk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", exact: "1.4.0"),
        // Transitive through Hummingbird; named because TipServer configures TLS and reads the
        // bound port itself.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        // For `tipgate cert` only: a self-signed certificate for onion-only deployments.
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "TipCore", swiftSettings: swiftSettings),
        .target(
            name: "TipCrypto",
            dependencies: ["CSodium", "TipCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipStore",
            dependencies: [
                "TipCore", "TipCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipServer",
            dependencies: [
                "TipCore", "TipCrypto", "TipStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // Pages, string catalogs (one JSON file per language) and the page scripts.
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TipDesk",
            dependencies: [
                "TipCore", "TipCrypto", "TipStore",
                // For the online courier side only (check-server, seal --server): HTTPS out.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tipgate",
            dependencies: [
                "TipServer", "TipStore", "TipCore", "TipCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tipdesk",
            dependencies: [
                "TipCore", "TipCrypto", "TipDesk",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Not a test: imports and searches N generated tips and prints the times
        // (Benchmarks/vault-bench.sh). Not a product, so it is never installed.
        .executableTarget(
            name: "tipdesk-bench",
            dependencies: ["TipCore", "TipCrypto", "TipStore", "TipDesk"],
            swiftSettings: swiftSettings
        ),
        // Not a test: tipgate's intake with tipgate's own work taken out (no checks, no
        // middleware), the floor `make bench` reads the intake goals against. Not a product.
        .executableTarget(
            name: "tipgate-floor",
            dependencies: [
                "TipCore", "TipCrypto", "TipStore", "TipServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets only: vectors, the test-only key, process and server helpers.
        .target(
            name: "TipTestSupport",
            dependencies: ["TipCore", "TipCrypto"],
            path: "Tests/TipTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipCoreTests",
            dependencies: ["TipCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipCryptoTests",
            dependencies: ["TipCore", "TipCrypto", "TipTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipServerTests",
            dependencies: [
                "TipCore", "TipCrypto", "TipStore", "TipServer", "TipTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TipDeskTests",
            dependencies: ["TipCore", "TipCrypto", "TipStore", "TipDesk", "TipTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["TipCore", "TipCrypto", "TipTestSupport", "tipgate", "tipdesk"],
            swiftSettings: swiftSettings
        ),
    ]
)

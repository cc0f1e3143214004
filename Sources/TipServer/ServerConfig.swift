import Configuration
import Foundation
import Logging
import TipCore

/// Settings for `tipgate serve` (SECURITY.md §7 lists every key).
///
/// Each setting can come from a flag, an environment variable (`TIPGATE_` + the key in
/// upper snake case) or a JSON config file, in that order of precedence.
public struct ServerConfig: Sendable {
    public var dataDirectory: String
    public var host: String
    public var port: Int
    /// The admin listener (SECURITY.md §5.1), nil when turned off (`adminListen` = `off`).
    public var admin: (host: String, port: Int)?
    /// The hard retention limit in days; nil (the default) keeps tips until acknowledged.
    public var retentionDays: Int?
    /// The free-space floor of the data directory's file system (SECURITY.md §4.3).
    public var minFreeBytes: UInt64 = 64 << 20
    /// Proof of work (SECURITY.md §4.6): leading zero bits at no load (0: off), the cap, and
    /// the accepted tips per minute that add a bit.
    public var powDifficulty = 0
    public var powMaxDifficulty = 16
    public var powPerBit = 30
    /// Connection limits (§4.3): the most open connections, and how long a request head may
    /// take to arrive (slowloris).
    public var maxConnections = 1024
    public var headerTimeoutSeconds = 10
    /// The no-JS path's own limits (§4.3): a global token bucket, a concurrency cap, and the
    /// disk it may not use (kept for sealed tips), above `minFreeBytes`.
    public var noJSRatePerSecond = 2.0
    public var noJSBurst = 20
    public var noJSMaxInFlight = 4
    public var noJSReserveBytes: UInt64 = 256 << 20
    public var tlsCertificatePath: String
    public var tlsKeyPath: String
    /// The admin listener's own certificate and key (§5.1), so the certificate every witness is
    /// shown need not name the admin onion; nil: the public listener's.
    public var adminTLS: (certificatePath: String, keyPath: String)?
    /// Where the keys come from: the pinned root and the installed (or given) keyring, or,
    /// as a dev shortcut, one public key document.
    public var keys: KeySource
    /// The largest padded plaintext accepted (SECURITY.md §3.5). A power of two ≥ 1024.
    public var maxPaddedBytes: Int
    public var logLevel: Logger.Level
    /// tweetnacl as installed by Debian's node-tweetnacl; served to the page if its hash matches.
    public var naclScriptPath: String

    public init(
        dataDirectory: String, host: String = "127.0.0.1", port: Int = 8443, tlsCertificatePath: String,
        tlsKeyPath: String, keys: KeySource, maxPaddedBytes: Int = PaddedSize.defaultMaximum,
        logLevel: Logger.Level = .info, naclScriptPath: String = PageResources.defaultNaclPath
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.admin = ("127.0.0.1", 0)
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.keys = keys
        self.maxPaddedBytes = maxPaddedBytes
        self.logLevel = logLevel
        self.naclScriptPath = naclScriptPath
    }

    /// The config keys, as written in a JSON file. The environment variable of `tls.cert` is
    /// `TIPGATE_TLS_CERT`; of `publicKey`, `TIPGATE_PUBLIC_KEY`.
    public enum Key {
        public static let data = "data"
        public static let listen = "listen"
        public static let adminListen = "adminListen"
        public static let retentionDays = "retentionDays"
        public static let minFreeBytes = "minFreeBytes"
        public static let powDifficulty = "powDifficulty"
        public static let powMaxDifficulty = "powMaxDifficulty"
        public static let maxConnections = "maxConnections"
        public static let noJSReserveBytes = "noJsReserveBytes"
        public static let tlsCert = "tls.cert"
        public static let tlsKey = "tls.key"
        public static let adminTlsCert = "adminTls.cert"
        public static let adminTlsKey = "adminTls.key"
        public static let publicKey = "publicKey"
        public static let rootKey = "rootKey"
        public static let keyring = "keyring"
        public static let maxPaddedBytes = "maxPaddedBytes"
        public static let logLevel = "logLevel"
        public static let naclScript = "naclScript"
    }

    /// Resolves the settings from flags (highest), environment, then `configFile`.
    public static func resolve(
        flags: [String: String], environment: [String: String], configFile: String?
    ) async throws -> ServerConfig {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "flags",
                values: Dictionary(uniqueKeysWithValues: flags.map { (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue(.string($0.value), isSecret: false)) })),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "tipgate"),
        ]
        if let configFile {
            guard FileManager.default.isReadableFile(atPath: configFile) else {
                throw ConfigError("cannot read the config file \(configFile)")
            }
            let pathReader = ConfigReader(
                provider: InMemoryProvider(values: ["filePath": ConfigValue(.string(configFile), isSecret: false)]))
            do {
                providers.append(try await FileProvider<JSONSnapshot>(config: pathReader))
            } catch {
                throw ConfigError("the config file \(configFile) is not valid JSON")
            }
        }
        let r = ConfigReader(providers: providers)
        func required(_ key: String, _ flag: String) throws -> String {
            guard let v = r.string(forKey: ConfigKey(key)), !v.isEmpty else {
                throw ConfigError("missing setting \(key): pass --\(flag), set \(envName(key)), or put it in the config file")
            }
            return v
        }
        let (host, port) = try parseListen(r.string(forKey: ConfigKey(Key.listen)) ?? "127.0.0.1:8443")
        let maxPaddedText = r.string(forKey: ConfigKey(Key.maxPaddedBytes)) ?? r.int(forKey: ConfigKey(Key.maxPaddedBytes)).map(String.init)
        let maxPadded =
            try maxPaddedText.map { s in
                guard let n = Int(s), PaddedSize.isValid(n, maximum: PaddedSize.bundleMaximum) else {
                    throw ConfigError("maxPaddedBytes must be a power of two from 1024 to 67108864")
                }
                return n
            } ?? PaddedSize.defaultMaximum
        let level =
            try r.string(forKey: ConfigKey(Key.logLevel)).map { s in
                guard let l = Logger.Level(rawValue: s) else {
                    throw ConfigError("logLevel must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return l
            } ?? .info
        var config = ServerConfig(
            dataDirectory: try required(Key.data, "data"), host: host, port: port,
            tlsCertificatePath: try required(Key.tlsCert, "tls-cert"), tlsKeyPath: try required(Key.tlsKey, "tls-key"),
            keys: try keySource(r), maxPaddedBytes: maxPadded, logLevel: level,
            naclScriptPath: r.string(forKey: ConfigKey(Key.naclScript)) ?? PageResources.defaultNaclPath)
        let admin = r.string(forKey: ConfigKey(Key.adminListen)) ?? "127.0.0.1:8444"
        config.admin = admin == "off" ? nil : try parseListen(admin)
        let adminCert = r.string(forKey: ConfigKey(Key.adminTlsCert)).flatMap { $0.isEmpty ? nil : $0 }
        let adminKey = r.string(forKey: ConfigKey(Key.adminTlsKey)).flatMap { $0.isEmpty ? nil : $0 }
        switch (adminCert, adminKey) {
        case (nil, nil): break
        case (let c?, let k?): config.adminTLS = (c, k)
        default: throw ConfigError("give the admin listener's certificate and key together: adminTls.cert and adminTls.key")
        }
        if let m = r.string(forKey: ConfigKey(Key.minFreeBytes)) ?? r.int(forKey: ConfigKey(Key.minFreeBytes)).map(String.init), !m.isEmpty {
            guard let n = UInt64(m) else { throw ConfigError("minFreeBytes must be a number of bytes") }
            config.minFreeBytes = n
        }
        func number(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let s = r.string(forKey: ConfigKey(key)) ?? r.int(forKey: ConfigKey(key)).map(String.init), !s.isEmpty else { return nil }
            guard let n = Int(s), range.contains(n) else { throw ConfigError("\(key) must be from \(range.lowerBound) to \(range.upperBound)") }
            return n
        }
        if let d = try number(Key.powDifficulty, 0...32) { config.powDifficulty = d }
        if let d = try number(Key.powMaxDifficulty, 0...32) { config.powMaxDifficulty = d }
        if let n = try number(Key.maxConnections, 16...1_000_000) { config.maxConnections = n }
        if let n = try number(Key.noJSReserveBytes, 0...Int.max) { config.noJSReserveBytes = UInt64(n) }
        guard config.powMaxDifficulty >= config.powDifficulty else { throw ConfigError("powMaxDifficulty must be at least powDifficulty") }
        let retention = r.string(forKey: ConfigKey(Key.retentionDays)) ?? r.int(forKey: ConfigKey(Key.retentionDays)).map(String.init)
        if let r = retention, !r.isEmpty {
            guard let n = Int(r), (1...3650).contains(n) else { throw ConfigError("retentionDays must be from 1 to 3650") }
            config.retentionDays = n
        }
        return config
    }

    static func keySource(_ r: ConfigReader) throws -> KeySource {
        let root = r.string(forKey: ConfigKey(Key.rootKey)).flatMap { $0.isEmpty ? nil : $0 }
        let keyring = r.string(forKey: ConfigKey(Key.keyring)).flatMap { $0.isEmpty ? nil : $0 }
        let single = r.string(forKey: ConfigKey(Key.publicKey)).flatMap { $0.isEmpty ? nil : $0 }
        if let root {
            guard single == nil else { throw ConfigError("give either rootKey (with a keyring) or publicKey (dev only), not both") }
            return .keyring(rootKeyPath: root, install: keyring)
        }
        guard keyring == nil else { throw ConfigError("a keyring needs the pinned root: pass --root-key ROOT.json") }
        guard let single else {
            throw ConfigError("missing setting rootKey: pass --root-key ROOT.json (and --keyring FILE), or --public-key for development")
        }
        return .single(publicKeyPath: single)
    }

    static func envName(_ key: String) -> String {
        "TIPGATE_"
            + key.replacingOccurrences(of: ".", with: "_")
            .replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression).uppercased()
    }

    /// `HOST:PORT` or `[V6]:PORT`; port 0 picks a free port.
    public static func parseListen(_ s: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigError("listen must be HOST:PORT, like 127.0.0.1:8443")
        }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigError("listen must be HOST:PORT, like 127.0.0.1:8443") }
        return (host, port)
    }
}

public enum KeySource: Sendable, Equatable {
    /// The pinned root's public document, and a keyring file to install at start (optional:
    /// the one installed in the data directory is used otherwise).
    case keyring(rootKeyPath: String, install: String?)
    /// One public key document; no keyring, no rotation. For development only.
    case single(publicKeyPath: String)
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

import Foundation
import TipCore
import TipCrypto
import TipStore

/// The installed keyring, `DATA/keyring.json`, and the rules for replacing it
/// (SECURITY.md §2.6): verified against the pinned root, never expired, never rolled back,
/// and switched atomically.
public struct KeyringStore: Sendable {
    public static let fileName = "keyring.json"
    public let url: URL
    public let root: RootKeyDocument

    public init(dataDirectory: String, root: RootKeyDocument) {
        url = URL(fileURLWithPath: dataDirectory).appendingPathComponent(Self.fileName)
        self.root = root
    }

    /// Reads the pinned root's public document.
    public static func loadRoot(_ path: String) throws -> RootKeyDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("cannot read the root key document \(path)")
        }
        do { return try RootIdentity.verifiedDocument(data) } catch let e as FormatError {
            throw ConfigError("the root key document \(path) is not valid: \(e.message)")
        }
    }

    /// The installed keyring, verified; nil if none is installed.
    public func load(today: Day = .today) throws -> (file: Data, payload: KeyringPayload)? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let (_, payload) = try KeyringSigner.verify(data, pin: .key(root.publicKey), today: today)
        return (data, payload)
    }

    /// The installed keyring, with its signature checked but not its expiry (for status).
    public func inspect() throws -> KeyringPayload? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try KeyringSigner.verify(data, pin: .key(root.publicKey)).1
    }

    public enum InstallResult: Equatable, Sendable {
        case installed(serial: Int)
        case alreadyInstalled(serial: Int)
    }

    /// Verifies `file` and makes it the installed keyring. A serial at or below the installed
    /// one is refused (`rollback`), unless it is the very same file. An installed keyring that
    /// this root did not sign (another root given by mistake, or a file put there by hand) is
    /// never replaced (`installed_not_this_root`): the server pinned to the other root would
    /// not start again, and a forged high serial there must not pose as the bound.
    @discardableResult
    public func install(_ file: Data, today: Day = .today) throws -> InstallResult {
        let (_, payload) = try KeyringSigner.verify(file, pin: .key(root.publicKey), today: today)
        if let installed = FileManager.default.contents(atPath: url.path) {
            if installed == file { return .alreadyInstalled(serial: payload.serial) }
            // Its signature is checked, its age is not: an expired one still bounds the serial.
            guard let (_, current) = try? KeyringSigner.verify(installed, pin: .key(root.publicKey)) else {
                throw FormatError(
                    "installed_not_this_root",
                    "the installed keyring \(url.path) is not one this root signed; if the organization's root really changed, move that file aside first")
            }
            guard payload.serial > current.serial else {
                throw FormatError("rollback", "serial \(payload.serial) is not newer than the installed serial \(current.serial)")
            }
        }
        try DurableFile.replace(file, at: url, mode: 0o644)
        return .installed(serial: payload.serial)
    }
}

/// The keys a keyring-mode server accepts, swapped atomically on reload.
public final class KeyringDirectory: KeyDirectory, @unchecked Sendable {
    private let lock = NSLock()
    private var file: Data
    private var payload: KeyringPayload
    public let root: RootKeyDocument
    /// Today's UTC day; tests move it to cross an overlap.
    let today: @Sendable () -> Day

    public init(file: Data, payload: KeyringPayload, root: RootKeyDocument, today: @escaping @Sendable () -> Day = { .today }) {
        self.file = file
        self.payload = payload
        self.root = root
        self.today = today
    }

    public var serial: Int { lock.withLock { payload.serial } }
    public var keyringFile: Data? { lock.withLock { file } }
    public var rootPublicKey: [UInt8]? { root.publicKey }

    public var current: PublicKeyDocument {
        let p = lock.withLock { payload }
        // A keyring with no key in its window (all pending or past) still names one: the
        // newest. Tips sealed to it are then refused as retired, and status warns.
        let k = p.current(on: today()) ?? p.intakeKeys.max { $0.notBefore < $1.notBefore }!
        return KeyIdentity.document(for: k.publicKey)
    }

    public func acceptance(of keyID: KeyID) -> KeyAcceptance {
        switch lock.withLock({ payload }).status(of: keyID, on: today()) {
        case .active, .retiring: .accepted
        case .retired, .pending: .retired
        case nil: .unknown
        }
    }

    /// Swaps in a newer keyring. Returns false (and keeps the old one) for an older serial.
    @discardableResult
    public func replace(file: Data, payload: KeyringPayload) -> Bool {
        lock.withLock {
            guard payload.serial > self.payload.serial || (payload.serial == self.payload.serial && file == self.file) else {
                return false
            }
            self.file = file
            self.payload = payload
            return true
        }
    }
}

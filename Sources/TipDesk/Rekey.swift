import Foundation
import Synchronization
import TipCore
import TipCrypto
import TipStore

#if canImport(Glibc)
    import Glibc
#endif

/// Changing the vault passphrase (`tipdesk passphrase`) without ever losing a key file, and the
/// recovery that finishes or undoes a change a crash interrupted.
///
/// Every `*.secret` in `keys/` is re-encrypted under the new passphrase with the Argon2id limits
/// it had (§2.3); the other files are copied. The steps:
///
/// 1. Under the vault's exclusive lock, decrypt every secret with the old passphrase. A wrong
///    passphrase or a damaged file fails here, before anything is written.
/// 2. Write the new files into `keys.new/` (0700; each file O_EXCL, 0600 for secrets, fsynced),
///    then the marker `keys.new/COMPLETE` listing them, then fsync `keys.new/` and the vault.
/// 3. Rename `keys` to `keys.old`: the commit point. Rename `keys.new` to `keys`, fsync the
///    vault directory, remove `keys/COMPLETE` and `keys.old`.
///
/// `recover()` maps every state a crash can leave to the old or the new key set, never to none:
///
/// | `keys` | `keys.new`        | `keys.old` | action                                         |
/// |--------|-------------------|------------|------------------------------------------------|
/// | yes    | any               | —          | remove `keys.new` (the change did not commit)  |
/// | yes    | —                 | yes        | remove `keys.old` (it committed)               |
/// | no     | complete          | any        | rename `keys.new` → `keys`, remove `keys.old`  |
/// | no     | absent/incomplete | yes        | rename `keys.old` → `keys` (not made by step 3, but safe) |
/// | no     | incomplete        | no         | nothing: no vault (its only copies, if any, are kept) |
extension Vault {
    static let completeMarker = "COMPLETE"
    var stagingDirectory: URL { directory.appendingPathComponent("keys.new") }
    var retiredDirectory: URL { directory.appendingPathComponent("keys.old") }

    /// Re-encrypts every key file under `new`. Returns how many secret keys were re-encrypted.
    @discardableResult
    public func changePassphrase(from old: SecureBytes, to new: SecureBytes) throws -> Int {
        guard !old.constantTimeEquals(new) else { throw DeskError("the new passphrase is the same as the old one") }
        try requireExists()
        return try withLock(exclusive: true) {
            try recoverLocked()
            let count = try stageRekey(from: old, to: new)
            try commitRekey()
            return count
        }
    }

    /// Steps 1 and 2; the caller holds the exclusive lock. Internal so tests can stop here.
    func stageRekey(from old: SecureBytes, to new: SecureBytes) throws -> Int {
        let fm = FileManager.default
        enum Item {
            case secret(String, SecretKeyFile.Header, SecureBytes)
            case copy(String, Data, Int)
        }
        var items = [Item]()
        for name in try fm.contentsOfDirectory(atPath: keysDirectory.path).sorted() where name != Self.completeMarker {
            let url = keysDirectory.appendingPathComponent(name)
            let attrs = try fm.attributesOfItem(atPath: url.path)
            guard attrs[.type] as? FileAttributeType == .typeRegular, let data = fm.contents(atPath: url.path) else {
                throw DeskError("keys/\(name) is not a regular file", hints: ["move it out of the vault's keys directory and try again"])
            }
            guard name.hasSuffix(".secret") else {
                items.append(.copy(name, data, (attrs[.posixPermissions] as? Int ?? 0o600) & 0o644))
                continue
            }
            do {
                let (header, secret) = try SecretKeyFile.open(data, passphrase: old)
                items.append(.secret(name, header, secret))
            } catch let e as CryptoError where e == .wrongPassphrase {
                throw DeskError("wrong passphrase", hints: ["nothing was changed; keys/\(name) did not open with it"])
            } catch let e as CryptoError {
                throw DeskError("cannot open keys/\(name): \(e.message)", hints: ["nothing was changed"])
            }
        }
        let secrets = items.filter { if case .secret = $0 { true } else { false } }.count
        guard secrets > 0 else { throw DeskError("the vault holds no secret key") }

        try fm.createDirectory(at: stagingDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        do {
            var names = [String]()
            for item in items {
                switch item {
                case .secret(let name, let h, let secret):
                    let file = try SecretKeyFile.seal(
                        secret: secret, keyID: h.keyID, kind: h.kind, passphrase: new, opslimit: h.opslimit, memlimit: h.memlimit)
                    try DurableFile.writeNew(file, to: stagingDirectory.appendingPathComponent(name))
                    names.append(name)
                case .copy(let name, let data, let mode):
                    try DurableFile.writeNew(data, to: stagingDirectory.appendingPathComponent(name), mode: mode_t(mode))
                    names.append(name)
                }
            }
            // Written last: its presence says every file above is complete and synced.
            try DurableFile.writeNew(
                Data(names.map { $0 + "\n" }.joined().utf8), to: stagingDirectory.appendingPathComponent(Self.completeMarker))
            try Self.syncDirectory(directory)
        } catch {
            try? fm.removeItem(at: stagingDirectory)
            if let e = error as? StoreError { throw DeskError("cannot write the new key files: \(e.message)", hints: ["nothing was changed"]) }
            throw error
        }
        return secrets
    }

    /// Step 3; the caller holds the exclusive lock.
    func commitRekey() throws {
        guard rename(keysDirectory.path, retiredDirectory.path) == 0 else {
            try? FileManager.default.removeItem(at: stagingDirectory)
            throw DeskError("cannot rename the keys directory: \(String(cString: strerror(errno)))", hints: ["nothing was changed"])
        }
        // From here on the new passphrase is in force: recover() finishes the rest after a crash.
        guard rename(stagingDirectory.path, keysDirectory.path) == 0 else {
            throw DeskError(
                "cannot move the new keys into place: \(String(cString: strerror(errno)))",
                hints: ["run any tipdesk command on this vault to finish the change (the new passphrase is in force)"])
        }
        try Self.syncDirectory(directory)
        try recoverLocked()
    }

    /// Finishes or undoes an interrupted passphrase change (the table above). Cheap when there
    /// is nothing to do; otherwise takes the exclusive lock, so it waits for a change that is
    /// still running rather than mistaking it for a crash.
    public func recover() throws {
        let fm = FileManager.default
        let clean =
            fm.fileExists(atPath: keysDirectory.path) && !fm.fileExists(atPath: stagingDirectory.path)
            && !fm.fileExists(atPath: retiredDirectory.path)
            && !fm.fileExists(atPath: keysDirectory.appendingPathComponent(Self.completeMarker).path)
        guard !clean, fm.fileExists(atPath: directory.path) else { return }
        // This process already holds the vault's lock (a nested call): a change cannot be half
        // done under it, and waiting for the exclusive lock here would wait for ourselves.
        guard VaultLock.depth(directory) == 0 else { return }
        try withLock(exclusive: true) { try recoverLocked() }
    }

    func recoverLocked() throws {
        let fm = FileManager.default
        let keys = keysDirectory.path
        let staging = stagingDirectory.path
        let retired = retiredDirectory.path
        if !fm.fileExists(atPath: keys) {
            if isCompleteStaging() {
                guard rename(staging, keys) == 0 else {
                    throw DeskError("cannot finish the interrupted passphrase change: \(String(cString: strerror(errno)))")
                }
            } else if fm.fileExists(atPath: retired) {
                // keys.old is a whole key set: the one before a change.
                guard rename(retired, keys) == 0 else { throw DeskError("cannot undo the interrupted passphrase change: \(String(cString: strerror(errno)))") }
            } else {
                return
            }
            try Self.syncDirectory(directory)
        }
        var changed = false
        for leftover in [staging, retired] where fm.fileExists(atPath: leftover) {
            try fm.removeItem(atPath: leftover)
            changed = true
        }
        let marker = keysDirectory.appendingPathComponent(Self.completeMarker).path
        if fm.fileExists(atPath: marker) {
            try fm.removeItem(atPath: marker)
            try Self.syncDirectory(keysDirectory)
        }
        if changed { try Self.syncDirectory(directory) }
    }

    /// `keys.new/COMPLETE` exists and every file it lists is there.
    func isCompleteStaging() -> Bool {
        guard let list = FileManager.default.contents(atPath: stagingDirectory.appendingPathComponent(Self.completeMarker).path) else { return false }
        let names = String(decoding: list, as: UTF8.self).split(separator: "\n").map(String.init)
        return !names.isEmpty && names.allSatisfy { FileManager.default.fileExists(atPath: stagingDirectory.appendingPathComponent($0).path) }
    }

    static func syncDirectory(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DeskError("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw DeskError("cannot sync \(url.path): \(String(cString: strerror(errno)))") }
    }

    /// Runs `body` holding `flock` on the vault directory: shared for readers and writers of
    /// single key files, exclusive for a passphrase change and recovery.
    func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DeskError("cannot open the vault \(directory.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw DeskError("cannot lock the vault: \(String(cString: strerror(errno)))") }
        }
        VaultLock.enter(directory)
        defer { VaultLock.leave(directory) }
        return try body()
    }
}

/// How many vault locks this process holds, per vault directory, so recovery never waits for
/// a lock its own caller holds.
enum VaultLock {
    private static let held = Mutex<[String: Int]>([:])

    static func enter(_ dir: URL) { held.withLock { $0[dir.standardizedFileURL.path, default: 0] += 1 } }
    static func leave(_ dir: URL) { held.withLock { $0[dir.standardizedFileURL.path, default: 1] -= 1 } }
    static func depth(_ dir: URL) -> Int { held.withLock { $0[dir.standardizedFileURL.path] ?? 0 } }
}

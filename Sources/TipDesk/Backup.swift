import Foundation
import TipCore
import TipCrypto
import TipStore

#if canImport(Glibc)
    import Glibc
#endif

/// An encrypted backup of the whole vault (`tipdesk backup`, `tipdesk restore`).
///
///     tipdesk-backup v1\n
///     {"kdf":"argon2id13","memlimit":M,"opslimit":T,"salt":"<base64 of 16 bytes>","v":1}\n
///     secretstream header (24 bytes) ‖ chunk 0 ‖ chunk 1 ‖ … ‖ chunk n
///
/// - The key is derived as in §2.3 (`PassphraseKey`): `S = Argon2id13(passphrase, salt, T, M)`,
///   `K = BLAKE2b-256(key = S, message = line 1 ‖ LF ‖ line 2 ‖ LF)`, so an edited header fails
///   like a wrong passphrase. T and M are within the bounds of §2.3, checked before Argon2id.
/// - The rest is `crypto_secretstream_xchacha20poly1305` under K. Chunk 0 is the 26 bytes
///   `tipdesk-backup-archive v1\n`, tagged MESSAGE: it tells a wrong passphrase from later
///   damage. Then the archive (`VaultArchive`), in chunks of 64 KiB of plaintext (65553 bytes
///   each on disk) tagged MESSAGE, the last one (1 byte to 64 KiB) tagged FINAL. A reader
///   refuses a stream that ends without FINAL (truncated), has bytes after it, or has a chunk
///   that does not authenticate; it writes nothing until the whole file has verified.
/// - The archive holds every file of `keys/` (the data key of §10.1 among them),
///   `keyring.json`, `taxonomy.json` and `rules.json` if present, a `VACUUM INTO` snapshot of
///   `vault.sqlite`, and the `state.json` the backup records. The key files stay
///   Argon2id-encrypted inside; the encryption of the whole hides the tip metadata (ids, days,
///   counts) and makes any change to the backup detectable.
/// - Before the snapshot a `backup` entry is appended to the audit log, so the backup holds its
///   own entry; its state.json records the log's head in the snapshot (the anchor of §10.3) and
///   the import counter in it (the ack's check, §10.4).
///
/// A backup opens with the passphrase the vault had when it was made: after `tipdesk
/// passphrase`, older backups still open with the old one.
public struct VaultBackup {
    public let vault: Vault
    public static let chunkSize = 64 * 1024
    static let streamMagic = Data("tipdesk-backup-archive v1\n".utf8)

    public init(vault: Vault) { self.vault = vault }

    public struct Report: Equatable, Sendable {
        public let files: Int
        public let tips: Int
        public let bytes: Int
    }

    /// Writes a backup to `url` (O_EXCL, 0600, fsynced) and then records it in `state.json`.
    /// The passphrase must open the vault's intake keys: a backup under a mistyped passphrase
    /// would restore keys that no longer open.
    @discardableResult
    public func backup(to url: URL, passphrase: SecureBytes, cost: SecretKeyFile.Cost, today: Day = .today) throws -> Report {
        _ = try vault.unlock(passphrase)
        let session = try Desk(vault: vault, today: today).session(passphrase)
        let held = try session.db.tipCount()
        _ = try session.db.write { w in try AuditLog.append(.backup, ["tips": .int(held)], day: today, key: session.dataKey, in: w) }
        let (entries, state) = try vault.withLock(exclusive: false) { try collect(today: today) }
        let file = try Self.seal(VaultArchive.encode(entries), passphrase: passphrase, cost: cost)
        do { try DurableFile.writeNew(file, to: url) } catch let e as StoreError {
            throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out; a backup never replaces a file"] : [])
        }
        try vault.recordState(state, what: "the backup was written, but recording it failed")
        return Report(files: entries.count, tips: state.backupTips, bytes: file.count)
    }

    private func collect(today: Day) throws -> ([VaultArchive.Entry], VaultState) {
        let fm = FileManager.default
        var entries = [VaultArchive.Entry]()
        for name in try fm.contentsOfDirectory(atPath: vault.keysDirectory.path).sorted() {
            let path = "keys/\(name)"
            let url = vault.keysDirectory.appendingPathComponent(name)
            guard VaultArchive.isSafePath(path), (try fm.attributesOfItem(atPath: url.path))[.type] as? FileAttributeType == .typeRegular,
                let data = fm.contents(atPath: url.path)
            else { throw DeskError("cannot back up keys/\(name): not a key file", hints: ["move it out of the vault's keys directory"]) }
            entries.append(.init(path: path, data: data))
        }
        for name in Self.optionalFiles {
            if let data = fm.contents(atPath: vault.directory.appendingPathComponent(name).path) { entries.append(.init(path: name, data: data)) }
        }
        // A snapshot beside the live database, in the 0700 vault directory; it holds only what
        // vault.sqlite holds (sealed tips) and is removed at once.
        let snap = vault.directory.appendingPathComponent(".backup-\(Random.hex128()).sqlite")
        defer { try? fm.removeItem(at: snap) }
        let copy: VaultDatabase.Snapshot
        do { copy = try vault.database().snapshot(to: snap) } catch let e as DeskError { throw e } catch {
            throw DeskError("cannot take a snapshot of the vault database", hints: ["is the disk full?"])
        }
        guard let db = fm.contents(atPath: snap.path) else { throw DeskError("cannot read the database snapshot") }
        entries.append(.init(path: VaultDatabase.fileName, data: db))
        let state = VaultState(
            lastBackup: today, backupTips: copy.tips, backupImports: copy.imports, auditSeq: copy.auditHead == nil ? nil : copy.auditSeq,
            auditHead: copy.auditHead.map(Hex.encode))
        entries.append(.init(path: Vault.stateFileName, data: state.encoded()))
        return (entries, state)
    }

    static func seal(_ plain: Data, passphrase: SecureBytes, cost: SecretKeyFile.Cost) throws -> Data {
        let salt = Random.bytes(PassphraseKey.saltBytes)
        let header = BackupHeader(opslimit: cost.opslimit, memlimit: cost.memlimit, salt: salt).encoded()
        let key = try PassphraseKey.derive(passphrase: passphrase, salt: salt, opslimit: cost.opslimit, memlimit: cost.memlimit, context: header)
        let stream = SecretStream.Writer(key: key)
        var out = header + Data(stream.header)
        out += streamMagic.withUnsafeBytes { stream.push($0, final: false) }
        var offset = 0
        repeat {
            let n = min(chunkSize, plain.count - offset)
            out += plain.withUnsafeBytes { stream.push(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n]), final: offset + n == plain.count) }
            offset += n
        } while offset < plain.count
        return out
    }

    /// Verifies and decrypts a whole backup; throws before returning anything on any defect.
    static func open(_ file: Data, name: String, passphrase: SecureBytes) throws -> Data {
        let header: BackupHeader
        let headerBytes: Data
        let start: Int
        do { (header, headerBytes, start) = try BackupHeader.decode(file) } catch let e as FormatError {
            throw DeskError("\(name) is not a tipdesk backup: \(e.message)")
        }
        guard PassphraseKey.limitsAllowed(opslimit: header.opslimit, memlimit: header.memlimit), header.salt.count == PassphraseKey.saltBytes else {
            throw DeskError("\(name) is not a tipdesk backup: its parameters are out of range")
        }
        let key = try PassphraseKey.derive(
            passphrase: passphrase, salt: header.salt, opslimit: header.opslimit, memlimit: header.memlimit, context: headerBytes)
        let body = [UInt8](file.dropFirst(start))
        let first = SecretStream.headerBytes
        let magicChunk = streamMagic.count + SecretStream.overhead
        guard body.count > first + magicChunk else { throw DeskError("\(name) is truncated", hints: ["nothing was written; use another copy of the backup"]) }
        let wrong = DeskError("wrong passphrase, or the backup was altered", hints: ["nothing was written"])
        let reader: SecretStream.Reader
        do {
            reader = try SecretStream.Reader(key: key, header: Array(body[0..<first]))
            let magic = try body.withUnsafeBytes { try reader.pull(UnsafeRawBufferPointer(rebasing: $0[first..<first + magicChunk])) }
            guard Data(magic.message) == streamMagic, !magic.final else { throw wrong }
        } catch { throw wrong }
        var plain = Data()
        var offset = first + magicChunk
        var part = 1
        while offset < body.count {
            let n = min(chunkSize + SecretStream.overhead, body.count - offset)
            do {
                let (m, _) = try body.withUnsafeBytes { try reader.pull(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
                plain += m
            } catch {
                throw DeskError(
                    "\(name) is damaged\(n < chunkSize + SecretStream.overhead ? " or truncated" : ""): part \(part) does not authenticate",
                    hints: ["nothing was written; use another copy of the backup"])
            }
            offset += n
            part += 1
            if reader.finished, offset < body.count {
                throw DeskError("\(name) is damaged: there is data after its end", hints: ["nothing was written"])
            }
        }
        guard reader.finished else {
            throw DeskError("\(name) is truncated: its final part is missing", hints: ["nothing was written; use another copy of the backup"])
        }
        return plain
    }

    /// Restores a backup into `vault`, which must not exist (an empty directory is allowed).
    /// Everything is verified first; the files are written into a temporary directory beside
    /// it (dir 0700, files 0600, fsynced) that is renamed into place only when complete.
    public static func restore(_ file: Data, name: String, passphrase: SecureBytes, to vault: Vault) throws -> Report {
        let fm = FileManager.default
        let target = vault.directory.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        func refuseExisting() throws {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: target.path, isDirectory: &isDir) {
                guard isDir.boolValue, (try fm.contentsOfDirectory(atPath: target.path)).isEmpty else {
                    throw DeskError(
                        "\(target.path) already exists and is not empty", hints: ["restore into a new directory: tipdesk restore FILE --vault NEW_DIR"])
                }
            }
            guard fm.fileExists(atPath: parent.path) else { throw DeskError("the directory \(parent.path) does not exist") }
        }
        try refuseExisting()
        let entries: [VaultArchive.Entry]
        do { entries = try VaultArchive.decode(try open(file, name: name, passphrase: passphrase)) } catch let e as FormatError {
            throw DeskError("\(name) is damaged: \(e.message)", hints: ["nothing was written"])
        }
        try check(entries, name: name)

        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).restore-\(Random.hex128().prefix(8))")
        do {
            try fm.createDirectory(at: staging.appendingPathComponent("keys"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: staging.path)
            for e in entries { try DurableFile.writeNew(e.data, to: staging.appendingPathComponent(e.path)) }
            try Vault.syncDirectory(staging)
            try refuseExisting()
            guard rename(staging.path, target.path) == 0 else {
                throw DeskError("cannot move the restored vault into place: \(String(cString: strerror(errno)))", hints: ["nothing was written"])
            }
            try Vault.syncDirectory(parent)
        } catch {
            try? fm.removeItem(at: staging)
            if let e = error as? StoreError { throw DeskError("cannot write the restored vault: \(e.message)", hints: ["nothing was written"]) }
            throw error
        }
        let tips = try Vault(directory: target).database().tipCount()
        return Report(files: entries.count, tips: tips, bytes: file.count)
    }

    /// Files at the top of a vault that a backup carries when they exist.
    static let optionalFiles = ["keyring.json", "taxonomy.json", "rules.json"]

    /// The paths a vault may hold, and the files it must.
    private static func check(_ entries: [VaultArchive.Entry], name: String) throws {
        let top = Set(optionalFiles + [VaultDatabase.fileName, Vault.stateFileName])
        for e in entries {
            let parts = e.path.split(separator: "/")
            guard top.contains(e.path) || (parts.count == 2 && parts[0] == "keys") else {
                throw DeskError("\(name) holds a file a vault does not: \(e.path)", hints: ["nothing was written"])
            }
        }
        let paths = Set(entries.map(\.path))
        guard let db = entries.first(where: { $0.path == VaultDatabase.fileName }), db.data.starts(with: Data("SQLite format 3\0".utf8)),
            paths.contains(where: { $0.hasPrefix("keys/") && Vault.isIntakeKeyFile(String($0.dropFirst(5)), suffix: ".secret") })
        else { throw DeskError("\(name) is not a whole vault: its database or intake keys are missing", hints: ["nothing was written"]) }
    }
}

extension Vault {
    static let stateFileName = "state.json"

    /// The vault's state, if a backup was ever recorded.
    public func state() throws -> VaultState? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.stateFileName).path) else { return nil }
        do { return try VaultState.decode(data) } catch let e as FormatError { throw DeskError("the vault's \(Self.stateFileName) is damaged: \(e.message)") }
    }

    func recordState(_ state: VaultState, what: String = "cannot record the vault's state") throws {
        do { try DurableFile.replace(state.encoded(), at: directory.appendingPathComponent(Self.stateFileName)) } catch let e as StoreError {
            throw DeskError("\(what): \(e.message)")
        }
    }
}

import Foundation

/// A key share file (`tipdesk keys share`), one line ending in LF:
///
///     {"format":"tipdesk-key-share","sealed":"<base64>","to":"<16 hex>","v":1}
///
/// `to` is the recipient vault key's id; it is not authenticated and serves only to say
/// "not addressed to this vault" before trying to open. `sealed` is
/// `crypto_box_seal(pad(document), vault public key)` with §3.3 padding; the document is
/// described at `KeyShare` (TipCrypto).
public struct KeyShareEnvelope: Equatable, Sendable {
    public static let version = 1
    public static let format = "tipdesk-key-share"
    /// A share carries at most a few hundred keys and one keyring; anything larger is refused
    /// before it is decoded.
    public static let maxFileBytes = 16 << 20
    public let to: KeyID
    public let sealed: [UInt8]

    public init(to: KeyID, sealed: [UInt8]) {
        self.to = to
        self.sealed = sealed
    }

    public func encoded() -> Data {
        var d = StrictJSON.encode(Wire(v: Self.version, format: Self.format, to: to.hex, sealed: Data(sealed).base64EncodedString()))
        d.append(0x0a)
        return d
    }

    public static func decode(_ data: Data) throws -> KeyShareEnvelope {
        guard data.count <= maxFileBytes, data.last == 0x0a else { throw FormatError("bad_share", "not a v1 key share file") }
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data.dropLast()) } catch { throw FormatError("bad_share", "not a v1 key share file") }
        guard w.format == format else { throw FormatError("bad_share", "not a v1 key share file") }
        guard w.v == version else { throw FormatError("unsupported_version", "key share version \(w.v) is not supported") }
        guard let to = KeyID(w.to), let sealed = StrictBase64.decode(w.sealed) else {
            throw FormatError("bad_share", "the key share file is damaged")
        }
        return KeyShareEnvelope(to: to, sealed: Array(sealed))
    }

    struct Wire: Codable {
        var v: Int
        var format: String
        var to: String
        var sealed: String

        init(v: Int, format: String, to: String, sealed: String) { (self.v, self.format, self.to, self.sealed) = (v, format, to, sealed) }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "format", "to", "sealed"])
            v = try c.require(Int.self, "v")
            format = try c.require(String.self, "format")
            to = try c.require(String.self, "to")
            sealed = try c.require(String.self, "sealed")
        }
    }
}

/// The second line of a backup file (`tipdesk backup`; the whole format is described at
/// `VaultBackup` in TipDesk):
///
///     {"kdf":"argon2id13","memlimit":M,"opslimit":T,"salt":"<base64 of 16 bytes>","v":1}
public struct BackupHeader: Equatable, Sendable {
    public static let version = 1
    public static let magic = "tipdesk-backup v1\n"
    public let opslimit: Int
    public let memlimit: Int
    public let salt: [UInt8]

    public init(opslimit: Int, memlimit: Int, salt: [UInt8]) {
        self.opslimit = opslimit
        self.memlimit = memlimit
        self.salt = salt
    }

    /// The magic line and the header line, each ending in LF: the exact bytes the key covers.
    public func encoded() -> Data {
        Data(Self.magic.utf8)
            + StrictJSON.encode(Wire(v: Self.version, kdf: "argon2id13", opslimit: opslimit, memlimit: memlimit, salt: Data(salt).base64EncodedString()))
            + Data([0x0a])
    }

    /// Parses the two header lines at the start of `file`; returns the header, its exact bytes
    /// and the offset where the encrypted stream starts.
    public static func decode(_ file: Data) throws -> (BackupHeader, Data, Int) {
        let magic = Data(Self.magic.utf8)
        guard file.count > magic.count, file.prefix(magic.count) == magic else {
            throw FormatError("bad_backup", "not a tipdesk backup (v1)")
        }
        let start = file.startIndex + magic.count
        // The header is short; do not scan a huge file for a newline.
        guard let lf = file[start..<min(file.endIndex, start + 1024)].firstIndex(of: 0x0a) else {
            throw FormatError("bad_backup", "the backup's header is damaged")
        }
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: file[start..<lf]) } catch { throw FormatError("bad_backup", "the backup's header is damaged") }
        guard w.v == version else { throw FormatError("unsupported_version", "backup version \(w.v) is not supported") }
        guard w.kdf == "argon2id13", let salt = StrictBase64.decode(w.salt) else {
            throw FormatError("bad_backup", "the backup's header is damaged")
        }
        let end = lf + 1
        return (BackupHeader(opslimit: w.opslimit, memlimit: w.memlimit, salt: Array(salt)), Data(file[file.startIndex..<end]), end - file.startIndex)
    }

    struct Wire: Codable {
        var v: Int
        var kdf: String
        var opslimit: Int
        var memlimit: Int
        var salt: String

        init(v: Int, kdf: String, opslimit: Int, memlimit: Int, salt: String) {
            (self.v, self.kdf, self.opslimit, self.memlimit, self.salt) = (v, kdf, opslimit, memlimit, salt)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "kdf", "opslimit", "memlimit", "salt"])
            v = try c.require(Int.self, "v")
            kdf = try c.require(String.self, "kdf")
            opslimit = try c.require(Int.self, "opslimit")
            memlimit = try c.require(Int.self, "memlimit")
            salt = try c.require(String.self, "salt")
        }
    }
}

/// The plaintext of a backup: a sequence of entries, nothing before or after,
///
///     u32 big-endian path length ‖ path (UTF-8) ‖ u64 big-endian data length ‖ data
///
/// A path is relative to the vault: 1 to 255 bytes, components of `[A-Za-z0-9._-]` separated
/// by `/`, none empty, none starting with `.` (so no `.`, `..` or hidden file), no leading
/// `/`. A path appears at most once. Which paths a vault may hold is the restorer's rule.
public enum VaultArchive {
    public struct Entry: Equatable, Sendable {
        public let path: String
        public let data: Data
        public init(path: String, data: Data) {
            self.path = path
            self.data = data
        }
    }

    public static func isSafePath(_ path: String) -> Bool {
        let u = Array(path.utf8)
        guard (1...255).contains(u.count), u.first != 0x2f, u.last != 0x2f else { return false }
        for component in u.split(separator: 0x2f, omittingEmptySubsequences: false) {
            guard let first = component.first, first != 0x2e else { return false }
            for c in component {
                switch c {
                case 0x41...0x5a, 0x61...0x7a, 0x30...0x39, 0x2e, 0x5f, 0x2d: continue
                default: return false
                }
            }
        }
        return true
    }

    public static func encode(_ entries: [Entry]) -> Data {
        var out = Data()
        for e in entries {
            precondition(isSafePath(e.path), "internal error: unsafe archive path")
            let p = Data(e.path.utf8)
            withUnsafeBytes(of: UInt32(p.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(p)
            withUnsafeBytes(of: UInt64(e.data.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(e.data)
        }
        return out
    }

    public static func decode(_ data: Data) throws -> [Entry] {
        let bad = FormatError("bad_backup", "the backup's contents are damaged")
        let bytes = [UInt8](data)
        var i = 0
        var entries = [Entry]()
        var seen = Set<String>()
        func integer(_ width: Int) throws -> Int {
            guard bytes.count - i >= width else { throw bad }
            var v: UInt64 = 0
            for b in bytes[i..<i + width] { v = v << 8 | UInt64(b) }
            i += width
            guard v <= UInt64(bytes.count - i) else { throw bad }
            return Int(v)
        }
        while i < bytes.count {
            let pn = try integer(4)
            guard let path = String(bytes: bytes[i..<i + pn], encoding: .utf8), isSafePath(path), seen.insert(path).inserted else {
                throw FormatError("bad_backup", "the backup names an unsafe or repeated path")
            }
            i += pn
            let dn = try integer(8)
            entries.append(Entry(path: path, data: Data(bytes[i..<i + dn])))
            i += dn
        }
        return entries
    }
}

/// `VAULT/state.json`: what the vault knows about itself that is not a key or a tip
/// (SECURITY.md §10.5).
///
///     {"audit_head":"<64 hex>","audit_seq":N,"backup_imports":N,"backup_tips":N,"last_backup":"YYYY-MM-DD","v":1}
///
/// `last_backup` is the UTC day of the newest backup, `backup_tips` the number of tips it holds
/// and `backup_imports` the vault's import counter in it, so an ack can tell whether tips were
/// imported after it even on the same day. `audit_seq` and `audit_head` are the audit log's
/// last entry and its MAC at the newest backup or ack (the anchor a truncated log is checked
/// against). Every member but `v` is optional: `last_backup` and `backup_tips` come together,
/// as do `audit_seq` and `audit_head`; a file written before the vault format of §10 has only
/// `last_backup` and `backup_tips`.
public struct VaultState: Equatable, Sendable {
    public static let version = 1
    public var lastBackup: Day?
    public var backupTips: Int
    public var backupImports: Int?
    public var auditSeq: Int64?
    public var auditHead: String?

    public init(lastBackup: Day?, backupTips: Int, backupImports: Int? = nil, auditSeq: Int64? = nil, auditHead: String? = nil) {
        self.lastBackup = lastBackup
        self.backupTips = backupTips
        self.backupImports = backupImports
        self.auditSeq = auditSeq
        self.auditHead = auditHead
    }

    public func encoded() -> Data {
        StrictJSON.encode(
            Wire(
                v: Self.version, last_backup: lastBackup?.text, backup_tips: lastBackup == nil ? nil : backupTips,
                backup_imports: lastBackup == nil ? nil : backupImports, audit_seq: auditHead == nil ? nil : auditSeq, audit_head: auditHead))
            + Data([0x0a])
    }

    public static func decode(_ data: Data) throws -> VaultState {
        let bad = FormatError("bad_state", "state.json is damaged")
        let w: Wire
        do { w = try StrictJSON.decode(Wire.self, from: data) } catch { throw bad }
        guard w.v == version, (w.last_backup == nil) == (w.backup_tips == nil), (w.audit_seq == nil) == (w.audit_head == nil) else { throw bad }
        let day = try w.last_backup.map { s -> Day in
            guard let d = Day(s) else { throw bad }
            return d
        }
        guard (w.backup_tips ?? 0) >= 0, (w.backup_imports ?? 0) >= 0, (w.audit_seq ?? 1) >= 1,
            w.audit_head.map({ Hex.isLowercaseHex($0, length: 64) }) ?? true
        else { throw bad }
        return VaultState(lastBackup: day, backupTips: w.backup_tips ?? 0, backupImports: w.backup_imports, auditSeq: w.audit_seq, auditHead: w.audit_head)
    }

    struct Wire: Codable {
        var v: Int
        var last_backup: String?
        var backup_tips: Int?
        var backup_imports: Int?
        var audit_seq: Int64?
        var audit_head: String?

        init(v: Int, last_backup: String?, backup_tips: Int?, backup_imports: Int?, audit_seq: Int64?, audit_head: String?) {
            (self.v, self.last_backup, self.backup_tips, self.backup_imports, self.audit_seq, self.audit_head) =
                (v, last_backup, backup_tips, backup_imports, audit_seq, audit_head)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.rejectUnknown(allowed: ["v", "last_backup", "backup_tips", "backup_imports", "audit_seq", "audit_head"])
            v = try c.require(Int.self, "v")
            last_backup = try c.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "last_backup"))
            backup_tips = try c.decodeIfPresent(Int.self, forKey: AnyKey(stringValue: "backup_tips"))
            backup_imports = try c.decodeIfPresent(Int.self, forKey: AnyKey(stringValue: "backup_imports"))
            audit_seq = try c.decodeIfPresent(Int64.self, forKey: AnyKey(stringValue: "audit_seq"))
            audit_head = try c.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "audit_head"))
        }
    }
}

import Foundation
import TipCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// Where a passphrase comes from: `--passphrase-file`, then `TIPDESK_PASSPHRASE` (scripts and
/// tests), then a no-echo prompt on the terminal. `tipdesk passphrase` reads the new one from
/// `--new-passphrase-file`, then `TIPDESK_NEW_PASSPHRASE`.
public struct PassphraseSource: Sendable {
    public var file: String?
    public var environment: [String: String]
    public var variable: String

    public init(file: String?, environment: [String: String], variable: String = "TIPDESK_PASSPHRASE") {
        self.file = file
        self.environment = environment
        self.variable = variable
    }

    public static let minimumLength = 10

    public func read(prompt: String = "passphrase: ", confirm: Bool = false) throws -> SecureBytes {
        if let file {
            guard var bytes = FileManager.default.contents(atPath: file).map(Array.init) else {
                throw DeskError("cannot read the passphrase file \(file)")
            }
            defer { zero(&bytes) }
            while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
            return try checked(bytes)
        }
        if let env = environment[variable] {
            var bytes = Array(env.utf8)
            defer { zero(&bytes) }
            return try checked(bytes)
        }
        let first = try Self.prompt(prompt)
        if confirm {
            let again = try Self.prompt("again: ")
            guard first.constantTimeEquals(again) else { throw DeskError("the passphrases do not match") }
        }
        // Already in locked memory: taken as it is, with no copy left to wipe.
        guard first.count >= Self.minimumLength else { throw Self.tooShort }
        return first
    }

    private func checked(_ bytes: [UInt8]) throws -> SecureBytes {
        guard bytes.count >= Self.minimumLength else { throw Self.tooShort }
        return SecureBytes(copying: bytes)
    }

    static var tooShort: DeskError {
        DeskError("the passphrase is too short", hints: ["use at least \(minimumLength) characters; several random words are best"])
    }

    /// Reads one line from /dev/tty with echo off.
    static func prompt(_ text: String) throws -> SecureBytes {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw DeskError(
                "no terminal to ask for the passphrase",
                hints: ["pass --passphrase-file FILE, or set TIPDESK_PASSPHRASE for scripts"])
        }
        defer { close(fd) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        var old = termios()
        tcgetattr(fd, &old)
        var noEcho = old
        noEcho.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &noEcho)
        defer {
            tcsetattr(fd, TCSAFLUSH, &old)
            _ = write(fd, "\n", 1)
        }
        let buf = SecureBytes(count: 1024)
        var n = 0
        try buf.withUnsafeMutableBytes { b in
            while n < b.count {
                var c: UInt8 = 0
                let r = Glibc.read(fd, &c, 1)
                if r <= 0 || c == 0x0a || c == 0x0d { break }
                b[n] = c
                n += 1
            }
            if n == b.count { throw DeskError("the passphrase is too long") }
        }
        return buf.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files that must be complete or absent: created with O_EXCL (never overwrite a file
/// that may be the only other copy) and mode 0600, fsynced, and then the directory fsynced.
public enum DurableFile {
    public static func writeNew(_ data: Data, to url: URL, mode: mode_t = 0o600) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw StoreError("file_exists", "\(url.path) already exists; choose a new name") }
            throw StoreError("write_failed", "cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(url.path) }
        }
        try data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError("write_failed", "cannot write \(url.path): \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        guard fsync(fd) == 0 else { throw StoreError("write_failed", "cannot sync \(url.path)") }
        ok = true
        let dfd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

extension DurableFile {
    /// Replaces `url` atomically: the new bytes go to a temporary file beside it, are synced,
    /// and are renamed over the old one, so a reader sees the old file or the new, never half.
    public static func replace(_ data: Data, at url: URL, mode: mode_t = 0o600) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        unlink(tmp.path)
        try writeNew(data, to: tmp, mode: mode)
        guard Glibc.rename(tmp.path, url.path) == 0 else {
            unlink(tmp.path)
            throw StoreError("write_failed", "cannot replace \(url.path): \(String(cString: strerror(errno)))")
        }
        let dfd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

extension DurableFile {
    /// Moves a synced file to a name that must not exist yet (a hard link, then the old name
    /// removed), and syncs the directory: the file appears complete under its new name or not
    /// at all, and never replaces another.
    ///
    /// FAT and exFAT, what most USB sticks carry, have no hard links (`link` fails with EPERM):
    /// there the new name is first taken with O_EXCL, so another file is never replaced, and
    /// the file is renamed over that empty placeholder. A crash in between leaves an empty file
    /// under the new name, which a reader refuses as damaged, and the complete one under the old.
    public static func rename(_ from: URL, to url: URL) throws {
        try rename(from, to: url, link: { Glibc.link($0, $1) })
    }

    /// `rename`, with the hard link to try first (a stand-in in tests).
    static func rename(_ from: URL, to url: URL, link: (String, String) -> Int32) throws {
        let (source, target) = (from.path, url.path)
        // errno is read at once, before anything else can change it.
        let linked = link(source, target)
        let linkError = errno
        if linked == 0 {
            unlink(source)
        } else if [EPERM, EOPNOTSUPP, ENOTSUP, ENOSYS].contains(linkError) {
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            let openError = errno
            guard fd >= 0 else { throw failure(url, openError) }
            close(fd)
            let renamed = Glibc.rename(source, target)
            let renameError = errno
            guard renamed == 0 else {
                unlink(target)
                throw failure(url, renameError)
            }
        } else {
            throw failure(url, linkError)
        }
        let dfd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    private static func failure(_ url: URL, _ code: Int32) -> StoreError {
        if code == EEXIST { return StoreError("file_exists", "\(url.path) already exists; choose a new name") }
        return StoreError("write_failed", "cannot name \(url.path): \(String(cString: strerror(code)))")
    }
}

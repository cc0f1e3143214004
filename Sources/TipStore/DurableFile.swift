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
    public static func rename(_ from: URL, to url: URL) throws {
        guard link(from.path, url.path) == 0 else {
            if errno == EEXIST { throw StoreError("file_exists", "\(url.path) already exists; choose a new name") }
            throw StoreError("write_failed", "cannot name \(url.path): \(String(cString: strerror(errno)))")
        }
        unlink(from.path)
        let dfd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}

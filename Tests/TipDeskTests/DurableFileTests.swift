import Foundation
import Testing
import TipTestSupport

@testable import TipStore

#if canImport(Glibc)
    import Glibc
#endif

/// `DurableFile.rename`: a file appears complete under its new name, never over another, also
/// on file systems without hard links (FAT and exFAT sticks, where `link` fails with EPERM).
@Suite struct DurableFileTests {
    @Test(arguments: [false, true])
    func renameNeverReplacesAFile(withoutHardLinks: Bool) throws {
        let dir = scratchDirectory("durable")
        let noLink: (String, String) -> Int32 = { _, _ in
            errno = EPERM
            return -1
        }
        func rename(_ a: URL, _ b: URL) throws {
            if withoutHardLinks { try DurableFile.rename(a, to: b, link: noLink) } else { try DurableFile.rename(a, to: b) }
        }
        let partial = dir.appendingPathComponent("p.partial")
        let final = dir.appendingPathComponent("p.tipgate-forward")
        try DurableFile.writeNew(Data("first".utf8), to: partial)
        try rename(partial, final)
        #expect(try Data(contentsOf: final) == Data("first".utf8))
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        // A second file for the same name is refused, and both stay as they were.
        try DurableFile.writeNew(Data("second".utf8), to: partial)
        #expect(throws: StoreError.self) { try rename(partial, final) }
        #expect(try Data(contentsOf: final) == Data("first".utf8))
        #expect(try Data(contentsOf: partial) == Data("second".utf8))
        #expect(try FileManager.default.attributesOfItem(atPath: final.path)[.posixPermissions] as? Int == 0o600)
    }
}

import Foundation
import Testing
import TipTestSupport

/// A `tipgate` copied without the resource bundle SwiftPM builds beside it (the witness pages,
/// string catalogs and scripts) must stop with an error an operator can act on. SwiftPM's
/// `Bundle.module` traps instead ("could not load resource bundle"), which is a crash
/// (non-negotiable 5).
@Suite struct ResourcesTests {
    static let bundleName = "tipgate_TipServer.resources"

    /// The binary hard-linked (or copied) into a fresh directory: `Bundle.main` is where the
    /// process was started from, so a symbolic link would find the build's resources again.
    func alone() throws -> URL {
        let dir = scratchDirectory("resources")
        let target = dir.appendingPathComponent("tipgate")
        let built = Repo.binaries.appendingPathComponent("tipgate")
        do { try FileManager.default.linkItem(at: built, to: target) } catch {
            try FileManager.default.copyItem(at: built, to: target)
        }
        return dir
    }

    @Test func missingPageResourcesAreAnErrorNotACrash() throws {
        let dir = try alone()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bin = dir.appendingPathComponent("tipgate").path
        let r = try run(bin, ["page-hashes"], env: childEnvironment())
        #expect(r.status == 1, "\(r.status): \(r.stderr)")
        #expect(r.stderr.hasPrefix("tipgate: error: the page resources are missing"), "\(r.stderr)")
        #expect(r.stderr.contains(Self.bundleName))
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("could not load resource bundle"), "\(r.stderr)")

        // The same binary with the bundle beside it works: the test above was about the bundle.
        try FileManager.default.copyItem(
            at: Repo.binaries.appendingPathComponent(Self.bundleName),
            to: dir.appendingPathComponent(Self.bundleName))
        let ok = try run(bin, ["page-hashes"], env: childEnvironment())
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("seal.js"), "\(ok.stdout)")
    }
}

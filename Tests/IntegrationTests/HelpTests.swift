import Foundation
import Testing
import TipTestSupport

/// Golden help text (STYLE.md, swift-argument-parser): a changed option, abstract or command
/// list shows up as a diff here. `UPDATE_GOLDEN=1 swift test --filter HelpTests` rewrites them.
@Suite struct HelpTests {
    static let cases: [(String, [String])] = [
        ("tipgate", []), ("tipgate", ["serve"]), ("tipgate", ["keys", "install"]), ("tipgate", ["export"]),
        ("tipdesk", []), ("tipdesk", ["seal"]), ("tipdesk", ["keys"]), ("tipdesk", ["courier"]), ("tipdesk", ["init"]), ("tipdesk", ["forward"]),
        ("tipdesk", ["partners", "add"]),
    ]

    @Test(arguments: cases.indices)
    func helpMatchesGolden(_ i: Int) throws {
        let (tool, args) = Self.cases[i]
        let r = try run(
            Repo.binaries.appendingPathComponent(tool).path, args + ["--help"], env: childEnvironment(["COLUMNS": "100"]))
        #expect(r.status == 0)
        let name = ([tool] + args).joined(separator: "-") + ".txt"
        let golden = Repo.root.appendingPathComponent("Tests/Golden/\(name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try Data(r.stdout.utf8).write(to: golden)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(r.stdout == expected, "help of \(tool) \(args.joined(separator: " ")) changed; if on purpose, UPDATE_GOLDEN=1")
    }
}

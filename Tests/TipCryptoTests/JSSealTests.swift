import Foundation
import Testing
import TipCore
import TipTestSupport

@testable import TipCrypto

/// The browser's sealer (Sources/TipServer/Resources/static/seal.js with Debian's tweetnacl)
/// run under node, opened by TipCrypto with libsodium: the two implementations agree on the
/// whole of SECURITY.md §3.2–3.4.
@Suite struct JSSealTests {
    static let node = "/usr/bin/node"

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: node)),
        arguments: [
            ("Паспорта забрали. Oʻzbekiston — Тоҷикистон.\nline two \"quoted\" \\ \u{1}", ["where": "Бишкек", "kind": "forced_labour"], "ky"),
            ("x", [String: String](), "en"),
            (String(repeating: "ж", count: 600), ["contact": "none"], "ru"),
        ])
    func sealedInJSOpensInSwift(body: String, fields: [String: String], lang: String) throws {
        let args =
            [Repo.root.appendingPathComponent("Tests/js/seal-cli.js").path, TestKey.documentPath, "--lang", lang]
            + fields.sorted { $0.key < $1.key }.flatMap { ["--field", "\($0.key)=\($0.value)"] }
        let r = try run(Self.node, args, stdin: Data(body.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let submission = try Submission.validate(r.stdoutData, isKnownKey: { $0 == TestKey.pair().keyID })
        let doc = try TipOpener(keys: [TestKey.pair()]).open(keyID: submission.keyID, sealed: submission.sealed)
        #expect(doc == (try TipDocument(body: body, fields: fields, lang: lang)))
    }
}

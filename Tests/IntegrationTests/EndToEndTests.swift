import Foundation
import Testing
import TipTestSupport

/// The whole path with the real binaries: seal with tipdesk, post with curl over TLS to a
/// real tipgate, export, import, read (issue 2's definition of done).
@Suite(.serialized) struct EndToEndTests {
    @Test func corpusInSixLanguagesRoundTrips() throws {
        let dir = scratchDirectory("e2e")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let server = try LiveServer(dataDirectory: dir.appendingPathComponent("data"), publicKey: pub, workDirectory: dir)
        defer { server.stop() }
        let corpus = try CorpusTip.all()
        #expect(Set(corpus.map(\.lang)).isSuperset(of: ["en", "ru", "uk", "ky", "tg"]))
        for tip in corpus {
            let args = ["--public-key", pub, "--lang", tip.lang] + tip.fields.sorted { $0.key < $1.key }.flatMap { ["--field", "\($0.key)=\($0.value)"] }
            let sealed = try desk.seal(args, stdin: Data(tip.body.utf8))
            #expect(sealed.status == 0, "\(sealed.stderr)")
            let (status, body) = try server.post("/api/v1/tips", body: sealed.stdoutData)
            #expect(status == 201, "\(body)")
        }
        let bundle = dir.appendingPathComponent("out.tipgate").path
        let e = try tipgate(["export", "--data", server.dataDirectory.path, "--out", bundle])
        #expect(e.status == 0, "\(e.stderr)")
        let i1 = try desk(["import", bundle])
        #expect(i1.stdout.hasPrefix("imported \(corpus.count) new tips (0 already held)"), "\(i1.stdout)\(i1.stderr)")
        let i2 = try desk(["import", bundle])
        #expect(i2.stdout.hasPrefix("imported 0 new tips (\(corpus.count) already held)"), "\(i2.stdout)")
        let listed = try desk.list()
        #expect(listed.count == corpus.count)
        // Exact text back, Cyrillic and Uzbek Latin included, with fields and lang.
        let got = Set(listed.map { "\($0["lang"]!)|\($0["body"]!)|\(($0["fields"] as? [String: String] ?? [:]).sorted { $0.key < $1.key })" })
        let want = Set(corpus.map { "\($0.lang)|\($0.body)|\($0.fields.sorted { $0.key < $1.key })" })
        #expect(got == want)
        // `show` by a short id prints the same text.
        let first = listed[0]
        let shown = try desk(["show", String((first["id"] as! String).prefix(8))])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains(first["body"] as! String))
    }

    // An independent sealer: the Python + PyNaCl script printed in README.
    /// An operator's habitual `kill -HUP` must not stop the intake (Deploy/README.md).
    @Test func sighupDoesNotStopTheServer() throws {
        let dir = scratchDirectory("e2e-hup")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let server = try LiveServer(dataDirectory: dir.appendingPathComponent("data"), publicKey: pub, workDirectory: dir)
        defer { server.stop() }
        kill(server.process.processIdentifier, SIGHUP)
        usleep(300_000)
        #expect(server.process.isRunning)
        let sealed = try desk.seal(["--public-key", pub], stdin: Data("after a SIGHUP".utf8))
        #expect(try server.post("/api/v1/tips", body: sealed.stdoutData).0 == 201)
    }

    @Test func readmePythonSealerIsAcceptedAndOpens() throws {
        let dir = scratchDirectory("pynacl")
        let readme = try String(contentsOf: Repo.root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let begin = readme.range(of: "<!-- seal_tip.py: begin -->"), let end = readme.range(of: "<!-- seal_tip.py: end -->") else {
            Issue.record("README has no seal_tip.py block")
            return
        }
        var script = String(readme[begin.upperBound..<end.lowerBound])
        script = script.replacingOccurrences(of: "```python", with: "").replacingOccurrences(of: "```", with: "")
        let scriptURL = dir.appendingPathComponent("seal_tip.py")
        try Data(script.utf8).write(to: scriptURL)
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let server = try LiveServer(dataDirectory: dir.appendingPathComponent("data"), publicKey: pub, workDirectory: dir)
        defer { server.stop() }
        let text = "Ishchilar pasportlarisiz, O‘zbekiston — Тоҷикистон\nline two"
        let sealed = try run("/usr/bin/python3", [scriptURL.path, pub, "--lang", "uz", "--field", "where=bozor"], stdin: Data(text.utf8))
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let (status, _) = try server.post("/api/v1/tips", body: sealed.stdoutData)
        #expect(status == 201)
        let bundle = dir.appendingPathComponent("b.tipgate").path
        #expect(try tipgate(["export", "--data", server.dataDirectory.path, "--out", bundle]).status == 0)
        #expect(try desk(["import", bundle]).status == 0)
        let listed = try desk.list()
        #expect(listed.first?["body"] as? String == text)
        #expect(listed.first?["lang"] as? String == "uz")
        #expect(listed.first?["fields"] as? [String: String] == ["where": "bozor"])
        // The script refuses a key document whose key_id does not match its key.
        let forged = dir.appendingPathComponent("forged.json")
        let doc = try String(contentsOfFile: pub, encoding: .utf8)
        let id = (try JSONSerialization.jsonObject(with: Data(doc.utf8)) as! [String: Any])["key_id"] as! String
        try Data(doc.replacingOccurrences(of: id, with: String(repeating: "0", count: 16)).utf8).write(to: forged)
        #expect(try run("/usr/bin/python3", [scriptURL.path, forged.path], stdin: Data("x".utf8)).status != 0)
    }
}

import Foundation
import Testing
import TipTestSupport

/// The online commands through a SOCKS5 proxy, as they reach .onion servers through Tor:
/// the name goes to the proxy unresolved, and nothing connects around it.
@Suite(.serialized) struct ProxyCLITests {
    @Test func onlineCommandsGoThroughTheProxy() throws {
        let org = try KeyringCLITests.Org("socks")
        let ring = try org.sign(["renew", "--scripts", org.hashes], "k1.json")
        let server = try LiveServer(
            dataDirectory: org.dir.appendingPathComponent("data"), publicKey: nil, workDirectory: org.dir,
            extraArgs: ["--root-key", org.root, "--keyring", ring])
        defer { server.stop() }
        let proxy = try SocksProxy(workDirectory: org.dir)
        defer { proxy.stop() }
        let port = try #require(server.url.split(separator: ":").last)
        // A name, as an .onion would be: the proxy resolves it (the certificate names localhost).
        let url = "https://localhost:\(port)"
        let tipdesk = Repo.binaries.appendingPathComponent("tipdesk").path
        let check = try run(
            tipdesk, ["check-server", url, "--root-fingerprint", org.fingerprint, "--cacert", server.certificate, "--socks", proxy.address],
            env: childEnvironment())
        #expect(check.status == 0, "\(check.stderr)")
        #expect(proxy.targets.contains("localhost:\(port)"), "\(proxy.targets)")
        // $TIPDESK_SOCKS does the same for seal --server --post.
        let before = proxy.targets.count
        let sealed = try run(
            tipdesk, ["seal", "--server", url, "--root-fingerprint", org.fingerprint, "--cacert", server.certificate, "--post"],
            env: childEnvironment(["TIPDESK_SOCKS": proxy.address]), stdin: Data("through the proxy".utf8))
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(proxy.targets.count > before)
        #expect(try tipgate(["status", "--data", server.dataDirectory.path]).stdout.contains("tips held:        1"))
        // A proxy that is not there is an error, never a direct connection.
        let down = try run(
            tipdesk, ["check-server", url, "--root-fingerprint", org.fingerprint, "--cacert", server.certificate, "--socks", "127.0.0.1:9"],
            env: childEnvironment())
        #expect(down.status == 1)
        #expect(down.stderr.contains("cannot reach"), "\(down.stderr)")
        let bad = try run(tipdesk, ["check-server", url, "--root-fingerprint", org.fingerprint, "--socks", "nonsense"], env: childEnvironment())
        #expect(bad.stderr.contains("is not a SOCKS proxy address"), "\(bad.stderr)")
    }
}

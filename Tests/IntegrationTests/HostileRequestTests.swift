import Foundation
import Testing
import TipTestSupport

/// Requests a hostile or failing client sends to the real `tipgate serve` (non-negotiable 5):
/// each gets its error, the server keeps serving, and nothing is stored or logged from them.
@Suite struct HostileRequestTests {
    /// Runs a Python TLS client (`/usr/bin/python3`, ssl) against `server`: sends `head`, then
    /// `body`, then (with `closing`) closes its side cleanly (close_notify), and prints what
    /// came back, if anything, until the server closes.
    func rawRequest(_ server: LiveServer, head: String, body: String, closing: Bool = true) throws -> String {
        let port = try #require(server.url.split(separator: ":").last.map(String.init))
        let script = """
            import socket, ssl, sys
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=10), server_hostname="127.0.0.1")
            s.sendall(sys.argv[3].encode() + sys.argv[4].encode())
            if sys.argv[5] == "close":
                try:
                    s = s.unwrap()
                except (ssl.SSLError, OSError):
                    pass
            data = b""
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
            except (ssl.SSLError, OSError):
                pass
            sys.stdout.write(data.decode("latin-1"))
            """
        let r = try run("/usr/bin/python3", ["-c", script, server.certificate, port, head, body, closing ? "close" : "keep"])
        return r.stdout
    }

    /// The tips the store holds, by `tipgate status`.
    func storedTips(_ server: LiveServer) throws -> String {
        try tipgate(["status", "--data", server.dataDirectory.path]).stdout
    }

    @Test func hostileFormsAndHeadersAreRefusedAndTheServerStaysUp() throws {
        let dir = scratchDirectory("hostile")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let server = try LiveServer(dataDirectory: dir.appendingPathComponent("data"), publicKey: pub, workDirectory: dir)
        defer { server.stop() }
        let empty = try storedTips(server)

        // An Accept-Language with an empty piece once trapped the whole server.
        for value in [";", "ru,;", ";;,"] {
            let r = try run(
                "/usr/bin/curl",
                ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.certificate, "-H", "Accept-Language: \(value)", server.url + "/"])
            #expect(r.stdout == "200", "Accept-Language \(value): \(r.stdout)")
        }
        #expect(server.isRunning)

        // A chunked form (no Content-Length): 411, before anything is read.
        let (chunked, text) = try server.post(
            "/submit", body: Data("body=a+chunked+tip".utf8), contentType: "application/x-www-form-urlencoded", headers: ["Transfer-Encoding: chunked"])
        #expect(chunked == 411 && text.contains("length_required"), "\(chunked) \(text)")

        // A form cut off by a clean close (close_notify) before its stated length: nothing is
        // stored, and the answer, if the client can still read one, is 400 incomplete_body.
        let head = "POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
        let cut = try rawRequest(server, head: head, body: "body=a+tip+cut+short")
        #expect(cut.isEmpty || cut.contains("incomplete_body"), "\(cut)")

        // A whole, valid envelope under a Content-Length that promises more, cut by a clean
        // close: the sealed path does not take it either.
        let sealed = try desk.seal(["--public-key", pub], stdin: Data("a sealed tip cut short".utf8)).stdout
        let sealedHead =
            "POST /api/v1/tips HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(sealed.utf8.count + 100)\r\n\r\n"
        let cutSealed = try rawRequest(server, head: sealedHead, body: sealed)
        #expect(cutSealed.isEmpty || cutSealed.contains("incomplete_body"), "\(cutSealed)")

        // A request the HTTP parser refuses gets the framework's own 400, with §4.4's headers.
        let garbage = try rawRequest(server, head: "NOT HTTP AT ALL\r\n\r\n", body: "", closing: false)
        #expect(garbage.hasPrefix("HTTP/1.1 400"), "\(garbage)")
        for header in ["content-security-policy: default-src 'none'", "cache-control: no-store", "referrer-policy: no-referrer"] {
            #expect(garbage.lowercased().contains(header), "\(garbage)")
        }

        usleep(300_000)
        #expect(server.isRunning)
        #expect(try storedTips(server) == empty)
        // Nothing of these requests in the log: client errors are not logged (§4.4).
        #expect(!server.log().contains("request failed"), "\(server.log())")
        // And a real form tip still goes through.
        let (ok, _) = try server.post("/submit", body: Data("body=a+whole+tip".utf8), contentType: "application/x-www-form-urlencoded")
        #expect(ok == 200)
        #expect(try storedTips(server) != empty)
    }
}

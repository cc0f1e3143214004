import Foundation
import Testing
import TipTestSupport

/// SECURITY.md §4.7: the metrics (admin listener only) count and time, and carry nothing about
/// any client, whatever the clients send.
@Suite struct MetricsPrivacyTests {
    @Test func metricsCarryNoClientData() throws {
        let dir = scratchDirectory("metrics")
        let desk = TipdeskCLI(vault: dir.appendingPathComponent("vault"))
        let pub = try desk.initialise(in: dir)
        let server = try LiveServer(dataDirectory: dir.appendingPathComponent("data"), publicKey: pub, workDirectory: dir)
        defer { server.stop() }
        let agent = "METRICSAGENT5d1"
        let forwarded = "198.51.100.23"
        let body = "METRICSBODY77"
        let identifying = ["User-Agent: \(agent)", "X-Forwarded-For: \(forwarded)", "Referer: https://METRICSREF/"]
        for i in 0..<4 {
            let sealed = try desk.seal(["--public-key", pub], stdin: Data("\(body) \(i)".utf8))
            #expect(try server.post("/api/v1/tips", body: sealed.stdoutData, headers: identifying).0 == 201)
        }
        #expect(try server.post("/api/v1/tips", body: Data("{\"\(body)\":1}".utf8), headers: identifying).0 == 400)
        #expect(try server.post("/\(body)", body: Data(), headers: identifying).0 == 404)
        let admin = try #require(server.adminURL)
        let scrape = try run("/usr/bin/curl", ["-s", "--cacert", server.certificate, admin + "/metrics"]).stdout
        #expect(scrape.contains("tipgate_tips_accepted_total 4"), "\(scrape)")
        #expect(scrape.contains("tipgate_requests_rejected_total{reason=\"invalid_json\"} 1"))
        #expect(scrape.contains("tipgate_request_duration_seconds"))
        for canary in [agent, forwarded, body, "METRICSREF", "127.0.0.1"] {
            #expect(!scrape.contains(canary), "\(canary) in the metrics")
        }
        // The public listener has no metrics route.
        let (status, _) = try server.post("/metrics", body: Data(), contentType: nil)
        #expect(status == 404)
    }
}

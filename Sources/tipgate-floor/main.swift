import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipServer
import TipStore

// tipgate-floor CERT KEY PORT none|store [DATA-DIR]: the floor under tipgate's intake, for
// `make bench` (issue 9). Not a product and never installed. It is what tipgate's POST
// /api/v1/tips would cost if tipgate's own work were free: the same framework (Hummingbird 2
// with HummingbirdTLS, TipServer's TLS settings), the same body collection, and with `store`
// the same store and group commit (TipStore's IntakeDatabase and GroupCommitWriter), but no
// media type, JSON, base64, key or proof-of-work checks, no middleware and no metrics. With
// `store`, each tip stored is 4144 bytes of the request's body, the size of a sealed tip of
// the 4 KiB class, so SQLite does the work tipgate's store does.
//
// Listens on 127.0.0.1 only and stops on SIGTERM/SIGINT (ServiceLifecycle, as tipgate serve).

let usage = "usage: tipgate-floor CERT KEY PORT none|store [DATA-DIR]\n"
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 4, let port = Int(arguments[2]), ["none", "store"].contains(arguments[3]),
    arguments[3] == "none" || arguments.count == 5
else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
/// The size of a sealed tip of the 4 KiB class: 4096 padded bytes and the sealed box's 48.
let sealedBytes = 4096 + PaddedSize.sealOverhead

var logger = Logger(label: "tipgate-floor")
logger.logLevel = .warning
let writer: GroupCommitWriter? =
    arguments[3] == "store" ? GroupCommitWriter(database: try IntakeDatabase(directory: arguments[4])) : nil
let keyID = KeyID(String(repeating: "0", count: KeyID.hexLength))!

let router = Router()
router.post("/api/v1/tips") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 64 << 10)
    guard body.readableBytes >= sealedBytes else { return Response(status: .badRequest) }
    if let writer {
        let sealed = Array(body.readableBytesView.prefix(sealedBytes))
        try await writer.submit(SealedTip(id: Random.tipID(), keyID: keyID, day: .today, sealed: sealed))
    }
    var headers = HTTPFields()
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{\"received\":true}")))
}
let app = Application(
    router: router,
    server: try .tls(
        .http1(configuration: .init(idleTimeout: .seconds(30))),
        tlsConfiguration: try TLSSettings.server(certificatePath: arguments[0], keyPath: arguments[1])),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    onServerRunning: { channel in
        // Unbuffered: the bench reads the port from a file while this runs.
        FileHandle.standardOutput.write(Data("listening on https://127.0.0.1:\(channel.localAddress?.port ?? port)\n".utf8))
    },
    logger: logger)
try await app.runService()

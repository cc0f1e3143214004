import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TipCore
import TipCrypto
import TipStore

/// The witness pages (SECURITY.md §4.5): server-rendered, working without JavaScript, in six
/// languages. With JavaScript the page seals in the browser and posts to /api/v1/tips; without
/// it the form posts here and the server seals on arrival (§3.7).
struct PageController<Context: RequestContext> {
    let resources: PageResources
    let repository: any TipRepository
    let keys: any KeyDirectory
    let maxPaddedBytes: Int
    /// Where a failure to store is counted, to be logged by the hour (§4.7).
    let failures: FailureLog
    let metrics: ServerMetrics
    let limiter: NoJSLimiter

    /// The page CSP: `default-src 'none'`, loosened only as far as same-origin scripts,
    /// styles, fetches, workers and form posts.
    static var pageCSP: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; worker-src 'self'; "
            + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    /// A dedicated worker runs under the CSP sent with its own script, not the page's: the
    /// proof-of-work worker may load same-origin scripts (importScripts of tweetnacl and
    /// seal.js) and nothing else, not even a fetch.
    static var workerCSP: String {
        "default-src 'none'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    }

    /// The received and leave pages need nothing but their style sheet.
    static var plainPageCSP: String {
        "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    }

    /// A form holds the body (up to 256 KiB, each byte up to three when percent-encoded) and
    /// four fields of up to 4 KiB.
    static var maxFormBytes: Int { 3 * (TipDocument.maxBodyBytes + 4 * TipDocument.maxFieldValueBytes) + 1024 }

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self)
            .get("/", use: index)
            .get("received", use: received)
            .get("leave", use: leave)
            .post("submit", use: submit)
            .get("static/:name", use: asset)
    }

    @Sendable func index(_ request: Request, context: Context) async throws -> Response {
        page("index", lang: language(request), status: .ok, form: [:], error: nil)
    }

    @Sendable func received(_ request: Request, context: Context) async throws -> Response {
        page("received", lang: language(request), status: .ok)
    }

    @Sendable func leave(_ request: Request, context: Context) async throws -> Response {
        page("leave", lang: language(request), status: .ok)
    }

    @Sendable func asset(_ request: Request, context: Context) async throws -> Response {
        guard let name = context.parameters.get("name"), let a = resources.assets[name] else { throw APIError.notFound }
        var headers = HTTPFields()
        headers[.contentType] = a.contentType
        if PageResources.workerScripts.contains(name) { headers[.contentSecurityPolicy] = Self.workerCSP }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: a.bytes)))
    }

    /// The no-JS path. The form is parsed from one locked buffer into another, sealed, and
    /// both are zeroed; the request's own buffers are zeroed too (SECURITY.md §3.7).
    @Sendable func submit(_ request: Request, context: Context) async throws -> Response {
        // A refused body may be a witness's text all the same (curl -F sends multipart): it is
        // read and zeroed before the answer, as a taken one is (§3.7).
        guard BodyReader.mediaType(of: request) == "application/x-www-form-urlencoded" else {
            await SecureBody.wipe(request, upTo: Self.maxFormBytes)
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the form as application/x-www-form-urlencoded")
        }
        let fallbackLang = PageResources.language(explicit: nil, acceptLanguage: request.headers[.acceptLanguage])
        // Its own bucket and cap (§4.3). Refused before the body is read, so a flood costs
        // little; the witness gets the busy page in the language asked for.
        guard await limiter.enter() else {
            let lang = PageResources.language(explicit: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
            await SecureBody.wipe(request, upTo: Self.maxFormBytes)
            metrics.rejected("busy")
            return page("index", lang: lang, status: .serviceUnavailable, form: [:], error: catalog(lang)["err_busy"])
        }
        do {
            let form = try await SecureBody.collect(request, limit: Self.maxFormBytes)
            let response = try await seal(form, request: request, fallbackLang: fallbackLang)
            await limiter.leave()
            return response
        } catch {
            await limiter.leave()
            throw error
        }
    }

    private func seal(_ form: SecureBytes, request: Request, fallbackLang: String) async throws -> Response {
        let sealed: (lang: String?, keyID: KeyID, sealed: [UInt8])
        do {
            sealed = try sealForm(form)
        } catch let e as FormatError {
            // Only here, to give the witness their text back, are Swift strings made of it.
            // They live for this response only and are never stored or logged.
            let values = form.withUnsafeBytes { Self.decodeForDisplay($0) }
            let lang = values["lang"].flatMap { PageResources.languages.contains($0) ? $0 : nil } ?? fallbackLang
            return page("index", lang: lang, status: .badRequest, form: values, error: message(for: e.code, lang: lang))
        }
        let lang = sealed.lang ?? fallbackLang
        do {
            try await repository.store(SealedTip(id: Random.tipID(), keyID: sealed.keyID, day: .today, sealed: sealed.sealed))
        } catch {
            // A full disk is no failure to log (§4.3), as on the sealed path; anything else is
            // counted by its type and logged by the hour (§4.7), so operators see a failing disk.
            if (error as? StoreError)?.code != "storage_full" {
                failures.record("storing a tip failed", error)
            }
            let values = form.withUnsafeBytes { Self.decodeForDisplay($0) }
            return page("index", lang: lang, status: .serviceUnavailable, form: values, error: catalog(lang)["err_busy"])
        }
        metrics.acceptedTip()
        return page("received", lang: lang, status: .ok)
    }

    /// Seals to the current key, read once: the id stored with the tip is the key it was
    /// sealed to, even if the keyring changes or the UTC day turns meanwhile.
    private func sealForm(_ form: SecureBytes) throws -> (lang: String?, keyID: KeyID, sealed: [UInt8]) {
        let key = keys.current
        let scratch = SecureBytes(count: form.count)
        let doc = SecureBytes(count: FormDocument.outputCapacity(forFormLength: form.count))
        let built = try form.withUnsafeBytes { f in
            try scratch.withUnsafeMutableBytes { s in
                try doc.withUnsafeMutableBytes { o in
                    try FormDocument.build(form: f, scratch: s, output: o, languages: Set(PageResources.languages))
                }
            }
        }
        guard PaddedSize.forDocument(length: built.length) <= maxPaddedBytes else {
            throw FormatError("tip_too_large", "the tip is too large")
        }
        let padded = doc.withUnsafeBytes { Padding.pad(UnsafeRawBufferPointer(rebasing: $0.prefix(built.length))) }
        let sealed = padded.withUnsafeBytes { SealedBox.seal($0, to: key.publicKey) }
        return (built.lang, key.keyID, sealed)
    }

    private func message(for code: String, lang: String) -> String? {
        let key =
            switch code {
            case "empty_body": "err_empty"
            case "body_too_long", "tip_too_large": "err_too_long"
            case "bad_field": "err_field_too_long"
            default: "err_invalid"
            }
        return catalog(lang)[key]
    }

    private func catalog(_ lang: String) -> [String: String] { resources.catalogs[lang] ?? resources.catalogs["en"]! }

    private func language(_ request: Request) -> String {
        PageResources.language(
            explicit: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
    }

    private func page(_ template: String, lang: String, status: HTTPResponse.Status, form: [String: String] = [:], error: String? = nil) -> Response {
        let t = catalog(lang)
        let selectedKind = form["kind"] ?? ""
        var context: [String: Any] = [
            "lang": lang, "t": t,
            "title": template == "leave" ? t["leave_title"]! : template == "received" ? t["received_title"]! : t["page_title"]!,
            "cssIntegrity": resources.assets["style.css"]!.integrity,
            "scripts": template == "index"
                ? resources.scripts.map { ["src": "/static/\($0)", "integrity": resources.assets[$0]!.integrity] } : [],
            "langs": PageResources.languages.map { ["code": $0, "name": resources.catalogs[$0]!["lang_name"]!, "current": $0 == lang] },
            "fingerprint": keys.current.fingerprint,
            "form": form,
            "kinds": ([("", "kind_none")] + FormDocument.kinds.map { ($0, "kind_\($0)") }).map {
                ["value": $0.0, "label": t[$0.1] ?? $0.0, "selected": $0.0 == selectedKind]
            },
        ]
        if let error { context["error"] = error }
        if let root = keys.rootPublicKey { context["rootKey"] = Data(root).base64EncodedString() }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        // Only the form page is loosened (SECURITY.md §4.5).
        headers[.contentSecurityPolicy] = template == "index" ? Self.pageCSP : Self.plainPageCSP
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: resources.render(template, context))))
    }

    /// Decodes the form into strings to re-render it after a validation error.
    static func decodeForDisplay(_ form: UnsafeRawBufferPointer) -> [String: String] {
        var out = [String: String]()
        for pair in form.split(separator: 0x26) {
            let kv = pair.split(separator: 0x3d, maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(decoding: kv[0], as: UTF8.self)
            guard ["body", "lang"].contains(key) || FormDocument.fieldNames.contains(key), kv.count == 2 else { continue }
            let raw = String(decoding: kv[1].map { $0 == 0x2b ? 0x20 : $0 }, as: UTF8.self)
            out[key] = (raw.removingPercentEncoding ?? raw).replacingOccurrences(of: "\r\n", with: "\n")
        }
        return out
    }
}

/// Reads a request body into locked memory, zeroing each of the request's own buffers once
/// copied (SECURITY.md §3.7). NIO's buffers are shared storage, so they are wiped through the
/// readable-bytes pointer rather than a copy-on-write mutation, which would wipe a copy.
enum SecureBody {
    /// Reads a form body into one locked buffer of its stated length (SECURITY.md §3.7 step 1),
    /// wiping each of the request's buffers as it copies it. The length MUST be stated (411):
    /// browsers and curl state it, and a chunked body cost a locked allocation per chunk (a
    /// review found that one-byte chunks could run the server out of memory mappings and
    /// locked memory). A body that ends before its length, or cannot be read, is 400
    /// `incomplete_body` (NIO's parser already fails one cut by a clean close; this check
    /// does not depend on it).
    static func collect(_ request: Request, limit: Int) async throws -> SecureBytes {
        guard let stated = request.headers[.contentLength], let length = Int(stated), length >= 0 else {
            await wipe(request, upTo: limit)
            throw APIError(HTTPResponse.Status(code: 411), "length_required", "send the form with its Content-Length")
        }
        guard length <= limit else {
            await wipe(request, upTo: limit)
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        }
        let all = SecureBytes(count: length)
        var at = 0
        try await BodyReader.reading {
            for try await chunk in request.body {
                let fits = at + chunk.readableBytes <= length
                chunk.withUnsafeReadableBytes { raw in
                    if fits, raw.count > 0 {
                        all.withUnsafeMutableBytes { dst in (dst.baseAddress! + at).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
                    }
                    zero(UnsafeMutableRawBufferPointer(mutating: raw))
                }
                // The HTTP parser ends a body at its Content-Length; this is its own guard.
                guard fits else { throw BodyReader.incomplete }
                at += chunk.readableBytes
            }
        }
        guard at == length else { throw BodyReader.incomplete }
        return all
    }

    /// Reads and zeroes a refused form's body, up to `limit` bytes, as §3.7 wipes a taken one:
    /// what the framework discards unread is not wiped. Beyond the limit it is not read.
    static func wipe(_ request: Request, upTo limit: Int) async {
        var seen = 0
        try? await BodyReader.reading {
            for try await chunk in request.body {
                chunk.withUnsafeReadableBytes { zero(UnsafeMutableRawBufferPointer(mutating: $0)) }
                seen += chunk.readableBytes
                if seen >= limit { break }
            }
        }
    }
}

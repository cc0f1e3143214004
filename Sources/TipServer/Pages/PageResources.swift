import Foundation
import Mustache
import TipCore
import TipCrypto

/// What the witness pages need, loaded once at start-up: the string catalogs, the templates
/// and the scripts with their integrity hashes (SECURITY.md §4.5).
public struct PageResources: Sendable {
    /// Page languages in the order the language links show them.
    public static let languages = ["en", "ru", "uk", "uz", "ky", "tg"]
    static let languageSet = Set(languages)

    /// tweetnacl as Debian packages it (node-tweetnacl 1.0.3+dfsg-3, nacl-fast.min.js). The
    /// SHA-384 goes into the page's integrity attribute; the SHA-512 is what the server checks
    /// the installed file against with libsodium, which has no SHA-384. If the installed file
    /// differs, the page is served without scripts and the no-JS path still works.
    public static let naclSHA384 = "bRWsvEVEMc6FrGoSNUjnR2FfCY8litWaqFZo0igr3b7UDQLo/RcVlM3U1R1d0kNr"
    public static let naclSHA512Hex =
        "7a88c67896d2fd72d43e5680b90857b84eab07a3d8c42ea4feb562e3e8c2304095d39891248e88441adbb134f7e827dc69276dff7d32ed476e447cc999b0b7b2"
    public static let defaultNaclPath = "/usr/share/nodejs/tweetnacl/nacl-fast.min.js"

    public struct Asset: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
        /// `sha384-…` or `sha512-…`, for the integrity attribute.
        public let integrity: String
    }

    public let catalogs: [String: [String: String]]
    let library: MustacheLibrary
    public let assets: [String: Asset]
    /// Scripts the page loads, in order; empty when tweetnacl is missing or altered.
    public let scripts: [String]
    public let problems: [String]

    /// The directory SwiftPM builds beside the binary for this target's resources.
    public static let resourceBundleName = "tipgate_TipServer.resources"

    public static func load(naclPath: String) throws -> PageResources {
        // SwiftPM's `Bundle.module` traps when the bundle is missing (a binary copied without
        // the tipgate_TipServer.resources directory beside it): check first, so an operator
        // gets an error to act on instead of a crash (non-negotiable 5).
        let beside = Bundle.main.bundleURL.appendingPathComponent(resourceBundleName).path
        guard FileManager.default.fileExists(atPath: beside),
            let root = Bundle.module.url(forResource: "Resources", withExtension: nil)
        else {
            throw ConfigError("the page resources are missing: \(beside) is not there (install it beside the binary, as Deploy/install.sh does)")
        }
        var catalogs = [String: [String: String]]()
        for lang in languages {
            let url = root.appendingPathComponent("i18n/\(lang).json")
            guard let data = try? Data(contentsOf: url),
                let c = try? JSONDecoder().decode([String: String].self, from: data)
            else { throw ConfigError("the string catalog \(url.path) is missing or not valid") }
            catalogs[lang] = c
        }
        var assets = [String: Asset]()
        for (name, type) in [
            ("style.css", "text/css; charset=utf-8"), ("blake2b.js", "text/javascript; charset=utf-8"),
            ("seal.js", "text/javascript; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"),
            ("pow-worker.js", "text/javascript; charset=utf-8"),
        ] {
            let bytes = try [UInt8](Data(contentsOf: root.appendingPathComponent("static/\(name)")))
            assets[name] = Asset(bytes: bytes, contentType: type, integrity: "sha512-" + Data(SHA512.hash(bytes)).base64EncodedString())
        }
        var problems = [String]()
        var scripts = [String]()
        if let nacl = FileManager.default.contents(atPath: naclPath).map(Array.init) {
            if Hex.encode(SHA512.hash(nacl)) == naclSHA512Hex {
                assets["nacl-fast.min.js"] = Asset(
                    bytes: nacl, contentType: "text/javascript; charset=utf-8", integrity: "sha384-" + naclSHA384)
                scripts = ["nacl-fast.min.js", "blake2b.js", "seal.js", "app.js"]
            } else {
                problems.append("\(naclPath) does not match the committed hash of tweetnacl 1.0.3; serving the page without JavaScript")
            }
        } else {
            problems.append("tweetnacl is not installed at \(naclPath) (apt install node-tweetnacl); serving the page without JavaScript")
        }
        let library = try MustacheLibrary(templates: [
            "head": MustacheTemplate(string: String(contentsOf: root.appendingPathComponent("templates/head.mustache"), encoding: .utf8)),
            "index": MustacheTemplate(string: String(contentsOf: root.appendingPathComponent("templates/index.mustache"), encoding: .utf8)),
            "received": MustacheTemplate(string: String(contentsOf: root.appendingPathComponent("templates/received.mustache"), encoding: .utf8)),
            "leave": MustacheTemplate(string: String(contentsOf: root.appendingPathComponent("templates/leave.mustache"), encoding: .utf8)),
        ])
        return PageResources(catalogs: catalogs, library: library, assets: assets, scripts: scripts, problems: problems)
    }

    /// The page language: `?lang=` (or the form's hidden field) if supported, else the first
    /// supported language in Accept-Language, else English. Tor Browser always sends en-US,
    /// so the choice travels in links and the form, never in a cookie.
    public static func language(explicit: String?, acceptLanguage: String?) -> String {
        if let e = explicit, languages.contains(e) { return e }
        return AcceptLanguage.preferred(acceptLanguage ?? "", among: languageSet) ?? "en"
    }

    /// Scripts app.js starts as dedicated workers (not in a <script> tag, so with no SRI
    /// attribute): the keyring signs them too, and tipdesk check-server compares them.
    public static let workerScripts = ["pow-worker.js"]

    /// The worker scripts, when the page has scripts at all.
    public var workers: [String] { scripts.isEmpty ? [] : Self.workerScripts }

    /// SHA-512 integrity values of every script the page loads, as a keyring signs them
    /// (SECURITY.md §2.5). tweetnacl's SRI attribute uses the committed SHA-384; the keyring
    /// uses SHA-512 for every script, since libsodium has no SHA-384.
    public var scriptHashes: [String: String] {
        Dictionary(
            uniqueKeysWithValues: (scripts + workers).map { name in
                (name, "sha512-" + Data(SHA512.hash(assets[name]!.bytes)).base64EncodedString())
            })
    }

    func render(_ template: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: template) ?? ""
    }
}

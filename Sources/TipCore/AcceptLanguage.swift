import Foundation

/// Reads an `Accept-Language` header (SECURITY.md §4.5): what a client sent, so anything at all.
public enum AcceptLanguage {
    /// The language of `among` the header prefers: the primary subtag (before any `-`,
    /// lowercased) of each comma-separated piece, weighted by its `q=` (1 if absent or not a
    /// number), the highest positive weight winning and the first among equals. Nil if none
    /// of `among` is asked for.
    public static func preferred(_ header: String, among languages: Set<String>) -> String? {
        var best: (String, Double)?
        for part in header.split(separator: ",") {
            // `split` drops empty pieces: a part that is only ";" has none (a trap here once
            // ended the server, session 7's review).
            let pieces = part.split(separator: ";")
            guard let first = pieces.first else { continue }
            let tag = first.trimmingCharacters(in: .whitespaces).lowercased()
            let primary = String(tag.split(separator: "-").first ?? "")
            var q = 1.0
            for p in pieces.dropFirst() {
                let kv = p.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix("q="), let v = Double(kv.dropFirst(2)) { q = v }
            }
            if languages.contains(primary), q > 0, q > (best?.1 ?? -1) { best = (primary, q) }
        }
        return best?.0
    }
}

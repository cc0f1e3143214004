import Foundation
import Testing

@testable import TipCore

/// `StrictJSON` refuses an object that names a member twice (SECURITY.md §1, "Conventions").
/// The vectors (envelope 23–24, plaintext 22–24) run the rule through the server and the
/// opener; these cases pin the scanner itself.
@Suite struct StrictJSONTests {
    static func scan(_ s: String) -> Bool {
        Data(s.utf8).withUnsafeBytes(StrictJSON.hasDuplicateMember)
    }

    @Test(arguments: [
        #"{}"#, #"[]"#, #""a""#, #"1"#,
        #"{"a":1,"b":{"a":2}}"#,
        #"[{"a":1},{"a":2}]"#,
        #"{"a":[1,{"a":1}],"b":2}"#,
        #"{"a":{"b":1,"c":2},"b":1}"#,
        // Quotes, braces and commas inside strings are not structure.
        #"{"a":"\"a\":1,","b":"{\"a\":1}"}"#,
        #"{"a\\":1,"a":2}"#,
        #"{"a\"":1,"a":2}"#,
        #"{"x":["a","a"],"y":"x"}"#,
        // Different strings, even if they look alike: U+0061 and U+0430 (Cyrillic a).
        #"{"a":1,"а":2}"#,
    ])
    func distinctNames(_ json: String) {
        #expect(!Self.scan(json), "\(json)")
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#,
        #"{"a":{"b":1,"b":2}}"#,
        #"[{"x":1,"x":1}]"#,
        #"{"a":[],"a":[]}"#,
        #"{"a":{"z":1},"b":2,"a":3}"#,
        #"{"b":[{"q":1}],"c":{"d":[]},"b":0}"#,
        // Equal once the escape is read, as JSONDecoder reads it.
        #"{"\u0061":1,"a":2}"#,
        #"{"\"":1,"\u0022":2}"#,
        // Equal as Swift strings: U+00E9 and e followed by U+0301.
        "{\"\u{e9}\":1,\"e\u{301}\":2}",
    ])
    func duplicateNames(_ json: String) {
        #expect(Self.scan(json), "\(json)")
    }

    @Test func decodeRefusesADuplicateWithInvalidJSON() throws {
        #expect(try StrictJSON.decode([String: Int].self, from: Data(#"{"a":1,"b":2}"#.utf8)) == ["a": 1, "b": 2])
        #expect(throws: FormatError.invalidJSON("an object names the same member twice")) {
            try StrictJSON.decode([String: Int].self, from: Data(#"{"a":1,"a":2}"#.utf8))
        }
    }

    /// The scanner is only ever given what JSONDecoder read as valid, but a cut or unbalanced
    /// text must still end without trapping.
    @Test(arguments: [#"{"a"#, #"}}]"#, #"{"a":1,"#, #"""#, #"{"\"#, #"[,{"a":1}"#])
    func brokenTextEndsWithoutTrapping(_ json: String) {
        _ = Self.scan(json)
    }
}

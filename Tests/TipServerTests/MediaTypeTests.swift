import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import TipServer

/// `BodyReader.mediaType` reads ASCII values bytewise (issue 9); every value must give what the
/// Foundation expression it replaced gave, so no request changes outcome.
@Suite struct MediaTypeTests {
    static func old(_ value: String) -> String? {
        value.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    }

    @Test func sameAsTheFoundationWay() {
        let values = [
            "application/json", "APPLICATION/JSON", "application/json; charset=utf-8", " application/json ;x", "\tapplication/json\t",
            ";application/json", ";;", ";", " ", "", "application/x-www-form-urlencoded", "text/plain;", "a;b;c",
            "application/json\u{00A0}", "\u{2003}application/json", "application/json;\u{0301}charset=utf-8", "ÄPPLICATION/JSON",
        ]
        for v in values {
            var head = HTTPRequest(method: .post, scheme: "https", authority: "localhost", path: "/api/v1/tips")
            head.headerFields[.contentType] = v
            let request = Request(head: head, body: .init(buffer: ByteBuffer()))
            // As the server sees it (HTTPTypes may trim the value it was given).
            let seen = request.headers[.contentType]
            #expect(BodyReader.mediaType(of: request) == seen.flatMap(Self.old), "\(v.debugDescription)")
        }
    }
}

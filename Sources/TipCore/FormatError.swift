/// A wire-format violation with a stable, machine-readable code (SECURITY.md §6, "Error codes").
///
/// The code is part of the public contract: clients and tests match on it, so a code is never
/// renamed once shipped. The message is for humans and may change.
public struct FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension FormatError {
    static func invalidJSON(_ message: String) -> FormatError { .init("invalid_json", message) }
}

/// A reviewer-facing error: one lowercase line and `hint:` lines (STYLE.md, age's CLI rules).
public struct DeskError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public let hints: [String]

    public init(_ message: String, hints: [String] = []) {
        self.message = message
        self.hints = hints
    }

    public var description: String { message }
}

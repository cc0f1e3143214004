/// The cursor the plain readers share (`Submission.Wire.plain`, `TipDocument.plain`; issue 9):
/// a position in bytes, moved past a byte only when it is the one expected.
struct PlainReader {
    let bytes: UnsafeRawBufferPointer
    var at = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Moves past `c` if it comes next; otherwise false, and no move.
    mutating func take(_ c: UInt8) -> Bool {
        guard at < bytes.count, bytes[at] == c else { return false }
        at += 1
        return true
    }

    var atEnd: Bool { at == bytes.count }
}

import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `tipgate: error: …` and `hint:` lines to stderr and exits 1.
func fail(_ message: String, hints: [String] = []) -> ExitCode {
    var text = "tipgate: error: \(message)\n"
    for h in hints { text += "tipgate: hint: \(h)\n" }
    FileHandle.standardError.write(Data(text.utf8))
    return ExitCode(1)
}

func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

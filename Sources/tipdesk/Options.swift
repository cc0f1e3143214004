import ArgumentParser
import Foundation
import TipCore
import TipCrypto
import TipDesk

/// `--vault`, in every subcommand: ArgumentParser does not pass a root option down.
struct VaultOptions: ParsableArguments {
    @Option(help: "The vault directory. Default: $TIPDESK_VAULT, then ~/.tipdesk.") var vault: String?

    var resolved: Vault { Vault.resolve(flag: vault, environment: ProcessInfo.processInfo.environment) }
}

struct PassphraseOptions: ParsableArguments {
    @Option(help: "Read the vault passphrase from this file (else $TIPDESK_PASSPHRASE, else a prompt).")
    var passphraseFile: String?

    func read(confirm: Bool = false) throws -> SecureBytes {
        try PassphraseSource(file: passphraseFile, environment: ProcessInfo.processInfo.environment)
            .read(prompt: "vault passphrase: ", confirm: confirm)
    }
}

/// Runs `body`, turning a `DeskError` into `tipdesk: error: …` with hints and exit code 1.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as DeskError {
        // Messages can name files or ids that came from outside; nothing raw reaches a terminal.
        var text = "tipdesk: error: \(TerminalText.sanitize(e.message, multiline: false))\n"
        for h in e.hints { text += "tipdesk: hint: \(TerminalText.sanitize(h, multiline: false))\n" }
        FileHandle.standardError.write(Data(text.utf8))
        throw ExitCode(1)
    }
}

/// `reporting` for async commands.
func reportingAsync<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as DeskError {
        _ = try reporting { throw e } as Void
        throw ExitCode(1)
    }
}

func out(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
func note(_ s: String) { FileHandle.standardError.write(Data(("tipdesk: " + s + "\n").utf8)) }

extension SecretKeyFile.Cost: ExpressibleByArgument {}

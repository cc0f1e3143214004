import ArgumentParser
import Foundation
import TipCore
import TipServer
import TipStore

extension Tipgate {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the server holds and whether its keyring needs renewing.")

        @Option(help: "The server's data directory.") var data: String
        @Option(help: "The pinned root key document (to verify the installed keyring).") var rootKey: String?
        @Option(help: "Warn when the oldest tip not yet exported is older than this many days.") var warnAgeDays = 14

        /// SECURITY.md §2.6: warn from this many days before the keyring expires.
        static let warnDays = 14

        func run() throws {
            do {
                let counts = try IntakeDatabase(directory: data).counts()
                print("tips held:        \(counts.total)")
                print("not yet exported: \(counts.unexported)")
                let db = try IntakeDatabase(directory: data)
                if let oldest = try db.oldestUnexportedDay() {
                    let age = oldest.days(until: .today)
                    print("oldest unexported: \(oldest) (\(age) days)")
                    if age > warnAgeDays {
                        say("tipgate: warning: tips have waited \(age) days to be collected")
                        say("tipgate: hint: pull them with tipdesk courier pull, or tipgate export, and review them")
                    }
                }
                let url = URL(fileURLWithPath: data).appendingPathComponent(KeyringStore.fileName)
                guard let bytes = FileManager.default.contents(atPath: url.path) else {
                    print("keyring:          none installed")
                    return
                }
                let payload: KeyringPayload
                if let rootKey {
                    let store = KeyringStore(dataDirectory: data, root: try KeyringStore.loadRoot(rootKey))
                    payload = try store.inspect()!
                } else {
                    payload = try KeyringPayload.decode(SignedKeyring.decode(bytes).payload)
                }
                let left = Day.today.days(until: payload.expires)
                print(
                    "keyring:          serial \(payload.serial), expires \(payload.expires) (\(left) days)\(rootKey == nil ? ", not verified" : ", verified")")
                for k in payload.intakeKeys {
                    print("  key \(k.keyID)  \(payload.status(of: k.keyID, on: .today)!.rawValue)")
                }
                if left < 0 {
                    say("tipgate: warning: the keyring has expired; the server will not start with it")
                    say("tipgate: hint: re-sign it offline with: tipdesk keys renew --out FILE, then tipgate keys install FILE")
                } else if left <= Self.warnDays {
                    say("tipgate: warning: the keyring expires in \(left) days")
                    say("tipgate: hint: re-sign it offline with: tipdesk keys renew --out FILE, then tipgate keys install FILE")
                }
            } catch let e as FormatError {
                throw fail("the installed keyring is not valid (\(e.code)): \(e.message)")
            } catch let e as ConfigError {
                throw fail(e.description)
            } catch let e as StoreError {
                throw fail(e.message)
            }
        }
    }
}

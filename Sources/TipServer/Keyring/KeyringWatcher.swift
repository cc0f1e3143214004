import Foundation
import Logging
import ServiceLifecycle
import TipCore

/// Reloads the installed keyring when `tipgate keys install` replaces it (SECURITY.md §2.6).
/// It polls the file every `interval`: cheap, and it needs no signal plumbing in a sandboxed
/// unit. A file that fails verification is logged and the keyring in force stays.
public struct KeyringWatcher: Service {
    let store: KeyringStore
    let directory: KeyringDirectory
    let logger: Logger
    let interval: Duration

    public init(store: KeyringStore, directory: KeyringDirectory, logger: Logger, interval: Duration = .seconds(2)) {
        self.store = store
        self.directory = directory
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        var rejected: Data?
        while !Task.isCancelledOrShuttingDown {
            try? await Task.sleep(for: interval)
            guard let data = FileManager.default.contents(atPath: store.url.path), data != directory.keyringFile, data != rejected
            else { continue }
            do {
                guard let (file, payload) = try store.load() else { continue }
                if directory.replace(file: file, payload: payload) {
                    logger.notice("installed keyring", metadata: ["serial": "\(payload.serial)"])
                } else {
                    rejected = data
                    logger.error("refused a keyring that is not newer than the one in force", metadata: ["serial": "\(payload.serial)"])
                }
            } catch let e as FormatError {
                rejected = data
                logger.error("refused the keyring file; the one in force stays", metadata: ["code": "\(e.code)"])
            }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { isCancelled || isShuttingDownGracefully }
}

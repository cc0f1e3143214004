import Foundation
import TipCore
import TipCrypto
import TipStore

public struct AckReport: Equatable, Sendable {
    public let instance: String
    public let tips: Int
    /// Opened tips of this instance still not acknowledged (over `AckPayload.maxTips`).
    public let remaining: Int
    public let auditHead: String
    /// No backup holds every import: the ack was made with `--without-backup`.
    public let withoutBackup: Bool
}

extension VaultSession {
    /// Why an ack would be refused, or nil: it needs a backup taken since the newest import
    /// (SECURITY.md §10.4), or the server would delete tips this vault alone holds.
    public func backupProblem() throws -> String? {
        guard let state = try vault.state(), let last = state.lastBackup else { return "this vault has never been backed up" }
        let imports = try db.importCount()
        if let at = state.backupImports {
            return at >= imports ? nil : "tips were imported after the last backup (\(last))"
        }
        // A backup made before the import counter existed: it must at least hold every tip.
        let held = try db.tipCount()
        return imports == 0 && state.backupTips >= held ? nil : "tips were imported after the last backup (\(last))"
    }

    /// Writes a signed acknowledgement (§5.2) of the opened, not yet acknowledged tips of one
    /// server instance to `url` and marks them acknowledged. The file is written inside the
    /// transaction that marks the tips and appends the `ack` audit entry whose MAC the ack
    /// carries as `audit_head`, so the three agree; if the commit fails, the file is removed.
    public func ack(to url: URL, instance wanted: String?, withoutBackup: Bool) throws -> AckReport {
        if let problem = try backupProblem(), !withoutBackup {
            throw DeskError(
                "refusing to acknowledge: \(problem)",
                hints: [
                    "back up first: tipdesk backup --out FILE (then keep it apart from this machine)",
                    "or, knowing the server will delete tips no backup holds: tipdesk ack --without-backup",
                ])
        }
        let root = try KeyAdmin(vault: vault, today: today).unlockRoot(passphrase)
        var written = false
        do {
            let report = try db.write { w -> (AckReport, AuditRow) in
                let instances = try w.unackedInstances()
                let instance: String
                if let wanted {
                    guard instances.contains(where: { $0.instance == wanted }) else {
                        throw DeskError(
                            "no opened tip of instance \(TerminalText.preview(wanted, limit: 40)) is waiting for an ack",
                            hints: instances.isEmpty ? ["every opened tip is acknowledged"] : instances.map { "instance \($0.instance): \($0.count) tips" })
                    }
                    instance = wanted
                } else {
                    guard let only = instances.first else {
                        throw DeskError("no opened tip is waiting for an ack", hints: ["import a bundle first: tipdesk import BUNDLE"])
                    }
                    guard instances.count == 1 else {
                        throw DeskError(
                            "the vault holds unacknowledged tips from \(instances.count) server instances; an ack is for one",
                            hints: instances.map { "tipdesk ack --instance \($0.instance)   (\($0.count) tips)" })
                    }
                    instance = only.instance
                }
                let all = try w.unacked(instance: instance)
                let listed = Array(all.prefix(AckPayload.maxTips))
                let row = try AuditLog.append(
                    .ack,
                    ["instance": .string(instance), "ids": .strings(listed.map(\.id.hex)), "without_backup": .bool(withoutBackup)],
                    day: today, key: dataKey, in: w)
                let head = Hex.encode(row.mac)
                let payload = AckPayload(
                    instance: instance, day: today, auditHead: head, tips: listed.map { AckPayload.Entry(id: $0.id, blake2b: $0.blake2b) })
                try w.markAcked(listed.map(\.id))
                do { try DurableFile.writeNew(AckSigner.sign(payload, with: root).encoded(), to: url) } catch let e as StoreError {
                    throw DeskError(e.message, hints: e.code == "file_exists" ? ["choose another --out; an ack never replaces a file"] : [])
                }
                written = true
                return (
                    AckReport(instance: instance, tips: listed.count, remaining: all.count - listed.count, auditHead: head, withoutBackup: withoutBackup),
                    row
                )
            }
            // The anchor a cut-short log is caught against (§10.3). The ack is already written
            // and committed: failing to record it here must not hide that.
            try? recordAuditAnchor(seq: report.1.seq, head: report.1.mac)
            return report.0
        } catch {
            if written { try? FileManager.default.removeItem(at: url) }
            throw error
        }
    }
}

import Crypto
import Foundation
import SwiftASN1
import TipCore
import TipStore
import X509

/// `tipgate cert` (SECURITY.md §4.4): a self-signed P-256 certificate for an onion-only
/// deployment, where no public CA is involved and Tor already authenticates the address. Its
/// validity starts at midnight UTC: keys and certificates carry no precise creation time.
public enum SelfSignedCertificate {
    public static func make(names: [String], days: Int, certificateURL: URL, keyURL: URL) async throws {
        for url in [certificateURL, keyURL] where FileManager.default.fileExists(atPath: url.path) {
            throw StoreError("file_exists", "\(url.path) already exists; choose a new name")
        }
        let key = P256.Signing.PrivateKey()
        let issuerKey = Certificate.PrivateKey(key)
        let start = Day.today.date
        let subject = try DistinguishedName { CommonName(names.first ?? "tipgate") }
        let sans = names.map { name -> GeneralName in
            if let ip = IPv4(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))) }
            return .dnsName(name)
        }
        let certificate = try await Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: issuerKey.publicKey, notValidBefore: start,
            notValidAfter: start.addingTimeInterval(Double(days) * 86_400), issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // An end entity (Tor Browser, like Firefox, refuses a CA certificate used as a
                // server's), for serving only. No Key Usage extension: with digitalSignature
                // alone, BoringSSL (tipdesk's TLS) would not take the certificate as its own
                // trust anchor for --cacert, and keyCertSign is only allowed on a CA (RFC 5280
                // §4.2.1.3).
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(sans)
            }, issuerAsyncPrivateKey: issuerKey)
        try DurableFile.writeNew(Data(try issuerKey.serializeAsPEM().pemString.utf8), to: keyURL, mode: 0o600)
        try DurableFile.writeNew(Data(try certificate.serializeAsPEM().pemString.utf8), to: certificateURL, mode: 0o644)
    }

    /// Four dotted decimal octets, or nil.
    static func IPv4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".")
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }
}

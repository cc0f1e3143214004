import Foundation
import NIOSSL

/// TLS settings (SECURITY.md §4.4): TLS 1.2 minimum, ECDHE key exchange and AEAD ciphers only.
///
/// swift-nio-ssl's default list also offers static-RSA and CBC suites, so the TLS 1.2 list is
/// named explicitly. TLS 1.3 suites are fixed by BoringSSL and are all AEAD.
public enum TLSSettings {
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    public static func server(certificatePath: String, keyPath: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigError("cannot read the TLS certificate \(certificatePath) (PEM expected)")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigError("cannot read the TLS private key \(keyPath) (PEM expected)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = tls12CipherSuites.joined(separator: ":")
        return tls
    }
}

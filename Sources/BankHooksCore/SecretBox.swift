import Crypto
import Foundation

/// Encrypts secrets at rest with AES-256-GCM under a master key. A sealed value is
/// `enc:v1:<base64 of nonce, ciphertext and tag>`; each seal uses a fresh random nonce.
public struct SecretBox: Sendable {
    public static let prefix = "enc:v1:"
    private let key: SymmetricKey

    /// A box for a 32-byte master key.
    public init?(keyBytes: [UInt8]) {
        guard keyBytes.count == 32 else { return nil }
        key = SymmetricKey(data: keyBytes)
    }

    /// A box for a master key written as base64 of 32 bytes (surrounding whitespace ignored).
    public init?(base64 text: String) {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        self.init(keyBytes: Array(bytes))
    }

    /// A new random master key, as base64.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw SecretBoxError("AES-GCM produced no combined form") }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The plaintext of a sealed value. A value without the prefix was stored before encryption
    /// existed and is returned as is.
    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let combined = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            throw SecretBoxError("a stored secret is not valid base64")
        }
        do {
            let plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: combined), using: key)
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw SecretBoxError("a stored secret does not open with this master key (was the database encrypted under another key?)")
        }
    }

    /// A key for another purpose, derived from the master key with HKDF-SHA256 (no salt; `info`
    /// names the purpose), so one master key serves several uses without any two sharing a key.
    /// `byteCount` bytes long (HS512 wants 64).
    public func derivedKey(info: String, byteCount: Int = 32) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array(info.utf8), outputByteCount: byteCount)
    }

    /// Whether a stored value is sealed.
    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }
}

public struct SecretBoxError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

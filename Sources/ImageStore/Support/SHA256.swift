import CCrypto
import Foundation

/// Streaming SHA-256 over libcrypto's EVP interface (about 1.4 GB/s with SHA-NI).
///
/// Owns one `EVP_MD_CTX`, freed in `deinit`. Not thread-safe: one hasher per stream.
public final class SHA256 {
    private let context: OpaquePointer

    /// A fresh hasher.
    public init() {
        // Allocation fails only when out of memory, which Swift treats as fatal anyway.
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        self.context = context
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to the hash.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds the bytes of a collection (convenience for small buffers such as `Data`).
    public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything added so far; the hasher starts over afterwards.
    public func finalize() -> Digest {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
        let hex = "0123456789abcdef".utf8.map { $0 }
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in output {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return Digest(sha256Hex: String(decoding: text, as: UTF8.self))
    }

    /// Writes the 32 raw digest bytes of everything added so far to the start of `output` and
    /// starts over: for callers hashing millions of small blocks (the dm-verity tree), without
    /// building a ``Digest`` each time. `output` must hold at least 32 bytes.
    func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= 32, "a SHA-256 digest needs 32 bytes")
        guard let base = output.baseAddress else { return }
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, base.assumingMemoryBound(to: UInt8.self), &length)
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    /// SHA-256(salt ‖ block) of each of the first `count` blocks of `blockSize` bytes of
    /// `blocks`, the 32-byte digests one after another at the start of `output` (at least
    /// `count` × 32 bytes): the dm-verity tree's hashes. The salt is absorbed once into a
    /// context that every block starts from (a copy), about 10 % faster at 4 KiB blocks than
    /// a fresh context per block. The hasher starts over afterwards.
    func saltedDigests(
        of blocks: UnsafeRawBufferPointer, blockSize: Int, count: Int, salt: [UInt8],
        into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(blocks.count >= count * blockSize && output.count >= count * 32, "buffers too small")
        guard count > 0, let input = blocks.baseAddress, let digests = output.baseAddress else { return }
        guard let salted = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        defer { EVP_MD_CTX_free(salted) }
        EVP_DigestInit_ex(salted, EVP_sha256(), nil)
        salt.withUnsafeBytes { raw in
            if let base = raw.baseAddress, !raw.isEmpty { EVP_DigestUpdate(salted, base, raw.count) }
        }
        var length: UInt32 = 0
        for index in 0..<count {
            EVP_MD_CTX_copy_ex(context, salted)
            EVP_DigestUpdate(context, input + index * blockSize, blockSize)
            EVP_DigestFinal_ex(context, (digests + index * 32).assumingMemoryBound(to: UInt8.self), &length)
        }
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    /// The SHA-256 digest of `bytes`.
    public static func digest<Bytes: ContiguousBytes>(of bytes: Bytes) -> Digest {
        let hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

import Foundation
import Testing

@testable import ImageStore

@Suite("SHA-256")
struct SHA256Tests {
    @Test("matches the published test vectors, in one piece or streamed")
    func vectors() {
        #expect(SHA256.digest(of: Data()).encoded == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.digest(of: Data("abc".utf8)).encoded == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let hasher = SHA256()
        hasher.update(Data("a".utf8))
        hasher.update(Data("bc".utf8))
        #expect(hasher.finalize() == SHA256.digest(of: Data("abc".utf8)))
    }

    @Test("salted block digests equal SHA-256 of salt and block, for any salt and block length", arguments: [0, 1, 32, 64, 100])
    func saltedDigests(saltLength: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for blockSize in [1, 55, 64, 4096] {
            let count = 5
            let blocks = (0..<(count * blockSize)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var output = [UInt8](repeating: 0, count: count * 32)
            let hasher = SHA256()
            blocks.withUnsafeBytes { data in
                output.withUnsafeMutableBytes { hasher.saltedDigests(of: data, blockSize: blockSize, count: count, salt: salt, into: $0) }
            }
            for index in 0..<count {
                let block = blocks[(index * blockSize)..<((index + 1) * blockSize)]
                let want = SHA256.digest(of: Data(salt + block)).encoded
                let got = output[(index * 32)..<((index + 1) * 32)].map { String(format: "%02x", $0) }.joined()
                #expect(got == want, "salt \(saltLength) bytes, block \(index) of \(blockSize) bytes")
            }
            // The hasher starts over: a plain digest afterwards is the plain digest.
            hasher.update(Data("abc".utf8))
            #expect(hasher.finalize() == SHA256.digest(of: Data("abc".utf8)))
        }
    }
}

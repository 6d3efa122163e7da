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
}

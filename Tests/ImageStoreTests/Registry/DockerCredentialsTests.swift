import Foundation
import Testing

@testable import ImageStore

@Suite("Docker credentials")
struct DockerCredentialsTests {
    @Test("reads auth as base64 user:password and username/password fields")
    func parse() throws {
        let auth = Data("alice:pa:ss".utf8).base64EncodedString()
        let json = """
            {"auths": {"https://index.docker.io/v1/": {"auth": "\(auth)"},
                       "127.0.0.1:5000": {"username": "bob", "password": "hunter2"},
                       "http://Registry.Example.com/v2/": {"auth": "\(auth)"}}}
            """
        let credentials = try DockerCredentials.parse(Data(json.utf8), path: "config.json")
        let hub = try #require(credentials.storedCredential(for: "docker.io"))
        #expect(hub.username == "alice")
        #expect(hub.password.value == "pa:ss")
        #expect(credentials.storedCredential(for: "127.0.0.1:5000")?.username == "bob")
        #expect(credentials.storedCredential(for: "registry.example.com")?.password.value == "pa:ss")
        #expect(credentials.storedCredential(for: "other.example.com") == nil)
    }

    @Test("never prints the password")
    func redaction() {
        let credential = RegistryCredential(username: "alice", password: "hunter2")
        var dumped = ""
        dump(credential, to: &dumped)
        for text in [
            "\(credential)", String(reflecting: credential), dumped, "\(credential.password)",
            "\(credential.basicAuthorization)",
        ] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains(Data("alice:hunter2".utf8).base64EncodedString()))
        }
    }

    @Test("a malformed file is an error that quotes no value")
    func malformed() {
        let json = #"{"auths": {"h": {"auth": "bm90LWEtcGFpcg=="}}}"#
        #expect(throws: RegistryError.self) { try DockerCredentials.parse(Data(json.utf8), path: "c.json") }
        do {
            _ = try DockerCredentials.parse(Data(json.utf8), path: "c.json")
        } catch {
            #expect(!error.description.contains("bm90LWEtcGFpcg"))
        }
    }

    @Test("DOCKER_CONFIG names the directory; no file means no credentials")
    func load() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try DockerCredentials.load(environment: ["DOCKER_CONFIG": directory.path]) == .none)
        try Data(#"{"auths":{"h:1":{"username":"u","password":"p"}}}"#.utf8)
            .write(to: directory.appendingPathComponent("config.json"))
        #expect(try DockerCredentials.load(environment: ["DOCKER_CONFIG": directory.path]).storedCredential(for: "h:1")?.username == "u")
    }
}

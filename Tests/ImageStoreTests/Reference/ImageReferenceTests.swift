import Foundation
import Testing

@testable import ImageStore

private let hexA = String(repeating: "a", count: 64)
private let hexB = String(repeating: "0123456789abcdef", count: 4)

@Suite("ImageReference normalization")
struct ImageReferenceTests {
    /// input, normalized string, repository, tag, digest
    static let valid: [(String, String, String, String?, String?)] = [
        ("alpine", "docker.io/library/alpine:latest", "docker.io/library/alpine", "latest", nil),
        ("alpine:3.18", "docker.io/library/alpine:3.18", "docker.io/library/alpine", "3.18", nil),
        ("alpine@sha256:\(hexA)", "docker.io/library/alpine@sha256:\(hexA)", "docker.io/library/alpine", nil, "sha256:\(hexA)"),
        ("alpine:3.18@sha256:\(hexA)", "docker.io/library/alpine@sha256:\(hexA)", "docker.io/library/alpine", nil, "sha256:\(hexA)"),
        ("library/alpine", "docker.io/library/alpine:latest", "docker.io/library/alpine", "latest", nil),
        ("docker.io/alpine", "docker.io/library/alpine:latest", "docker.io/library/alpine", "latest", nil),
        ("docker.io/library/alpine:edge", "docker.io/library/alpine:edge", "docker.io/library/alpine", "edge", nil),
        ("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "docker.io/library/alpine", "latest", nil),
        ("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2", "docker.io/bitnami/redis", "7.2", nil),
        ("ghcr.io/owner/app:v1.2.3", "ghcr.io/owner/app:v1.2.3", "ghcr.io/owner/app", "v1.2.3", nil),
        ("quay.io/a/b/c/d", "quay.io/a/b/c/d:latest", "quay.io/a/b/c/d", "latest", nil),
        ("localhost:5000/x/y:1", "localhost:5000/x/y:1", "localhost:5000/x/y", "1", nil),
        ("localhost/x", "localhost/x:latest", "localhost/x", "latest", nil),
        ("localhost:5000/x", "localhost:5000/x:latest", "localhost:5000/x", "latest", nil),
        ("127.0.0.1:5000/img@sha256:\(hexB)", "127.0.0.1:5000/img@sha256:\(hexB)", "127.0.0.1:5000/img", nil, "sha256:\(hexB)"),
        ("registry.example.com:443/team/app:latest", "registry.example.com:443/team/app:latest", "registry.example.com:443/team/app", "latest", nil),
        ("[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app", "1", nil),
        ("my-registry.local/app", "my-registry.local/app:latest", "my-registry.local/app", "latest", nil),
        ("a/b_c", "docker.io/a/b_c:latest", "docker.io/a/b_c", "latest", nil),
        ("a/b__c", "docker.io/a/b__c:latest", "docker.io/a/b__c", "latest", nil),
        ("a/b---c", "docker.io/a/b---c:latest", "docker.io/a/b---c", "latest", nil),
        ("a/b.c", "docker.io/a/b.c:latest", "docker.io/a/b.c", "latest", nil),
        ("alpine:Tag_With.Mixed-Case", "docker.io/library/alpine:Tag_With.Mixed-Case", "docker.io/library/alpine", "Tag_With.Mixed-Case", nil),
        ("alpine:_underscore", "docker.io/library/alpine:_underscore", "docker.io/library/alpine", "_underscore", nil),
        ("alpine:\(String(repeating: "t", count: 128))", "docker.io/library/alpine:\(String(repeating: "t", count: 128))", "docker.io/library/alpine", String(repeating: "t", count: 128), nil),
        ("Example.com/app", "Example.com/app:latest", "Example.com/app", "latest", nil),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu", "22.04", nil),
        ("x@sha512:\(hexA)\(hexA)", "docker.io/library/x@sha512:\(hexA)\(hexA)", "docker.io/library/x", nil, "sha512:\(hexA)\(hexA)"),
    ]

    @Test("valid references normalize", arguments: valid)
    func normalizes(_ input: String, _ normalized: String, _ repository: String, _ tag: String?, _ digest: String?) throws {
        let reference = try ImageReference(parsing: input)
        #expect(reference.description == normalized)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest?.description == digest)
        #expect(reference.isDigest == (digest != nil))
        #expect(reference.digest?.encoded == digest.map { String($0.split(separator: ":")[1]) })
        // Normalizing a normalized reference changes nothing.
        #expect(try ImageReference(parsing: normalized) == reference)
    }

    static let invalid: [(String, ReferenceError)] = [
        ("", .empty),
        ("invalid::", .invalidTag(reference: "invalid::", tag: ":")),
        ("has spaces", .invalidRepositoryComponent(reference: "has spaces", component: "has spaces")),
        ("UPPERCASE", .uppercaseRepository(reference: "UPPERCASE")),
        ("docker.io/Library/alpine", .uppercaseRepository(reference: "docker.io/Library/alpine")),
        ("alpine:", .invalidTag(reference: "alpine:", tag: "")),
        ("alpine:-dash", .invalidTag(reference: "alpine:-dash", tag: "-dash")),
        ("alpine:.dot", .invalidTag(reference: "alpine:.dot", tag: ".dot")),
        ("alpine:\(String(repeating: "t", count: 129))", .invalidTag(reference: "alpine:\(String(repeating: "t", count: 129))", tag: String(repeating: "t", count: 129))),
        ("alpine:a/b", .invalidRegistry(reference: "alpine:a/b", registry: "alpine:a")),
        ("alpine@sha256:abc", .invalidDigest(digest: "sha256:abc", reason: "sha256 needs 64 hex digits, found 3")),
        ("alpine@sha256:\(hexA.uppercased())", .invalidDigest(digest: "sha256:\(hexA.uppercased())", reason: "the hex part must be lowercase 0-9a-f")),
        ("alpine@sha256:\(String(hexA.dropLast()))g", .invalidDigest(digest: "sha256:\(String(hexA.dropLast()))g", reason: "the hex part must be lowercase 0-9a-f")),
        ("alpine@md5:\(hexA)", .unsupportedDigestAlgorithm(digest: "md5:\(hexA)", algorithm: "md5")),
        ("alpine@\(hexA)", .invalidDigest(digest: hexA, reason: "expected algorithm:hex, e.g. sha256:…")),
        ("alpine@", .invalidDigest(digest: "", reason: "expected algorithm:hex, e.g. sha256:…")),
        ("/alpine", .invalidRepositoryComponent(reference: "/alpine", component: "")),
        ("alpine/", .invalidRepositoryComponent(reference: "alpine/", component: "")),
        ("a//b", .invalidRepositoryComponent(reference: "a//b", component: "")),
        ("-alpine", .invalidRepositoryComponent(reference: "-alpine", component: "-alpine")),
        ("alpine-", .invalidRepositoryComponent(reference: "alpine-", component: "alpine-")),
        ("a/b...c", .invalidRepositoryComponent(reference: "a/b...c", component: "b...c")),
        ("a/b___c", .invalidRepositoryComponent(reference: "a/b___c", component: "b___c")),
        ("a/b._c", .invalidRepositoryComponent(reference: "a/b._c", component: "b._c")),
        ("localhost:99999/x", .invalidRegistry(reference: "localhost:99999/x", registry: "localhost:99999")),
        ("localhost:port/x", .invalidRegistry(reference: "localhost:port/x", registry: "localhost:port")),
        ("-bad.host/x", .invalidRegistry(reference: "-bad.host/x", registry: "-bad.host")),
        ("bad..host/x", .invalidRegistry(reference: "bad..host/x", registry: "bad..host")),
        ("ali$ne", .invalidRepositoryComponent(reference: "ali$ne", component: "ali$ne")),
        ("alpine:3.18:extra", .invalidTag(reference: "alpine:3.18:extra", tag: "3.18:extra")),
    ]

    @Test("invalid references are rejected with the reason", arguments: invalid)
    func rejects(_ input: String, _ expected: ReferenceError) {
        #expect(throws: expected) { try ImageReference(parsing: input) }
    }

    @Test("a reference longer than 255 characters is rejected")
    func tooLong() {
        let name = "a/" + String(repeating: "b", count: 260)
        #expect(throws: ReferenceError.nameTooLong(reference: name, length: 262)) {
            try ImageReference(parsing: name)
        }
    }

    @Test("error text starts with 'invalid image name:' for the worker's failed rows")
    func errorText() {
        for (input, _) in Self.invalid {
            do {
                _ = try ImageReference(parsing: input)
                Issue.record("\(input) parsed")
            } catch {
                #expect(error.description.hasPrefix("invalid image name: "))
                #expect(error.kind == .permanent)
            }
        }
    }

    @Test("withDigest keeps the repository and drops the tag")
    func withDigest() throws {
        let tagged = try ImageReference(parsing: "localhost:5000/x/y:1")
        let digest = try Digest(parsing: "sha256:\(hexA)")
        #expect(tagged.withDigest(digest).description == "localhost:5000/x/y@sha256:\(hexA)")
        #expect(tagged.apiHost == "localhost:5000")
        #expect(try ImageReference(parsing: "alpine").apiHost == "registry-1.docker.io")
    }
}

@Suite("Platform matching")
struct PlatformTests {
    @Test("parses os/arch/variant and matches arm64 variants", arguments: [
        ("linux/amd64", "linux/amd64", true),
        ("linux/arm64", "linux/arm64/v8", true),
        ("linux/arm64/v8", "linux/arm64", true),
        ("linux/arm/v7", "linux/arm/v6", false),
        ("linux/arm/v7", "linux/arm/v7", true),
        ("linux/amd64", "linux/arm64", false),
        ("linux/amd64", "windows/amd64", false),
    ])
    func matching(_ wanted: String, _ offered: String, _ expected: Bool) throws {
        #expect(try Platform(parsing: wanted).matches(Platform(parsing: offered)) == expected)
    }

    @Test("rejects malformed platforms", arguments: ["", "linux", "linux/", "a/b/c/d"])
    func invalid(_ text: String) {
        #expect(throws: ReferenceError.invalidPlatform(text)) { try Platform(parsing: text) }
    }

    @Test("the host platform is linux in GOARCH spelling")
    func current() {
        #expect(Platform.current.os == "linux")
        #expect(!Platform.current.architecture.contains("x86_64"))
    }
}

@Suite("ImageConfig")
struct ImageConfigTests {
    @Test("systemd detection uses the effective command", arguments: [
        ([], ["/sbin/init"], true),
        (["/lib/systemd/systemd"], [], true),
        (["/usr/lib/systemd/systemd"], ["--log-level=info"], true),
        ([], ["/bin/sh"], false),
        (["/bin/sh", "-c"], ["/sbin/init"], false),
        ([], [], false),
        (["/usr/sbin/init"], [], false),
        ([], ["init"], false),
    ])
    func systemd(_ entrypoint: [String], _ cmd: [String], _ expected: Bool) {
        #expect(ImageConfig.isSystemdImage(entrypoint: entrypoint, cmd: cmd) == expected)
    }

    @Test("decodes the OCI config object, keeping env order and entries without '='")
    func decodes() throws {
        let json = """
            {"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/app"],"Cmd":["serve"],
            "Env":["PATH=/bin","NOVALUE","A=b=c"],"WorkingDir":"/srv","User":"1000:1000",
            "Labels":{"k":"v"},"ExposedPorts":{"8080/tcp":{},"53/udp":{}},"StopSignal":"SIGINT"},
            "rootfs":{"type":"layers","diff_ids":["sha256:\(hexA)"]}}
            """
        let document = try JSONDecoder().decode(ImageConfiguration.self, from: Data(json.utf8))
        let config = try #require(document.config)
        #expect(config.env == ["PATH=/bin", "NOVALUE", "A=b=c"])
        #expect(config.exposedPorts == ["53/udp", "8080/tcp"])
        #expect(config.effectiveCommand == ["/bin/app", "serve"])
        #expect(config.stopSignal == "SIGINT")
        #expect(document.rootfs?.diffIDs.count == 1)
        let again = try JSONDecoder().decode(ImageConfig.self, from: JSONEncoder().encode(config))
        #expect(again == config)
    }
}

import Foundation
import Testing

@testable import ImageStore

/// Runs the applier in a child process (this test binary) with capabilities dropped by
/// setpriv, and checks it refuses up front instead of writing wrong owners.
@Suite("LayerApplier without privileges")
struct LayerPrivilegeTests {
    static let childVariable = "IMAGE_WORKER_LAYERS_EXPECT_MISSING"

    @Test(
        "without CAP_MKNOD, or as nobody, the apply fails fast naming the missing capabilities",
        arguments: [
            (["--bounding-set=-mknod", "--inh-caps=-all"], "CAP_MKNOD"),
            (
                ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
                "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_MKNOD,CAP_SETFCAP"
            ),
        ])
    func dropped(_ setprivArguments: [String], _ missing: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments =
            setprivArguments + [
                try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
                "--testing-library", "swift-testing", "--filter", "LayerPrivilegeTests/child",
            ]
        process.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: missing]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("Test child() passed"), "\(text)")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil))
    func child() async throws {
        let expected = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("layers-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let layer = LayerSource(
            digest: LayerScratch.digest(4), mediaType: MediaType.ociLayer, file: root.appendingPathComponent("none.tar"))
        await #expect(throws: LayerError.missingPrivilege(capabilities: expected.split(separator: ",").map(String.init))) {
            try await LayerApplier().apply(layers: [layer], to: root)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }
}

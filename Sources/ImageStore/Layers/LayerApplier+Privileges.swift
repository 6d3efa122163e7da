import Foundation

extension LayerApplier {
    /// Capabilities the applier needs, with their bit numbers (linux/capability.h).
    ///
    /// CAP_CHOWN: exact owners; CAP_DAC_OVERRIDE: write into directories of mode 0555 or
    /// 0000; CAP_FOWNER: chmod, times and xattrs on files owned by others; CAP_MKNOD: device
    /// nodes; CAP_SETFCAP: `security.capability`. Without them owners or devices would
    /// silently be wrong, so the apply refuses to start.
    private static let required: [(name: String, bit: Int)] = [
        ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_FOWNER", 3), ("CAP_MKNOD", 27), ("CAP_SETFCAP", 31),
    ]

    /// The required capabilities missing from this process's effective set.
    static func missingCapabilities() -> [String] {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else {
            return geteuid() == 0 ? [] : required.map(\.name)
        }
        return missingCapabilities(effective: mask)
    }

    /// The required capabilities whose bit is clear in `mask` (the `CapEff` bit set).
    static func missingCapabilities(effective mask: UInt64) -> [String] {
        required.filter { mask & (1 << UInt64($0.bit)) == 0 }.map(\.name)
    }
}

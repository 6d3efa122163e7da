/// One extended attribute: its full name (`user.x`, `security.capability`, `trusted.…`) and value.
public struct Xattr: Sendable, Equatable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

extension GlobalOptions {
    /// Options given before the verb, valued: `image-worker --data-dir X migrate`.
    static let valuedNames: Set<String> = ["--data-dir", "--db", "--disk-group", "--log-level"]
    /// Flags given before the verb.
    static let flagNames: Set<String> = ["--json"]

    /// Moves the global options written before the verb to just after it, so
    /// `image-worker --data-dir X migrate` parses as `image-worker migrate --data-dir X`
    /// (every command takes ``GlobalOptions``). Anything else before the verb (`--help`,
    /// `--version`, an unknown option) stops the move and is left for the parser to judge.
    static func hoistingLeadingOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if flagNames.contains(argument) {
                leading.append(argument)
                index += 1
            } else if valuedNames.contains(name), argument.contains("=") {
                leading.append(argument)
                index += 1
            } else if valuedNames.contains(argument), index + 1 < arguments.count {
                leading += arguments[index...(index + 1)]
                index += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count, !arguments[index].hasPrefix("-") else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }
}

import ImageStore

extension ImageRecord {
    /// Columns of the default `list` and `status` tables.
    static let tableHeader = ["ID", "NAME", "FORMAT", "PRIORITY", "STATUS", "ATTEMPTS", "ERROR"]

    /// This row's cells under ``tableHeader``.
    var tableRow: [String] {
        [String(id), name, format, String(priority), status, String(attempts), error ?? ""]
    }
}

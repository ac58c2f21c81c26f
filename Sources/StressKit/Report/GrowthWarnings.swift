/// Warns once when a file passes 256 MiB, and again at each doubling.
public struct GrowthWarnings: Sendable {
    public static let first: Int64 = 256 << 20
    private var next: [String: Int64] = [:]

    public init() {}

    /// A warning for each file that passed its next threshold since the last call (nil: none).
    public mutating func check(_ files: [(path: String, bytes: Int64)]) -> String? {
        var warnings: [String] = []
        for file in files where file.bytes >= next[file.path, default: Self.first] {
            var threshold = next[file.path, default: Self.first]
            while threshold <= file.bytes { threshold *= 2 }
            next[file.path] = threshold
            warnings.append("warning: \(file.path) has grown to \(Format.mebibytes(file.bytes)); "
                + "the database keeps every row effect in its ledger and the SQL log every statement, "
                + "so both grow with the run (fewer --iterations keep them small)")
        }
        return warnings.isEmpty ? nil : warnings.joined(separator: "\n")
    }
}

/// Number and column formatting without Foundation's `String(format:)` and
/// `padding(toLength:)`: the tool links only FoundationEssentials, whose
/// absence of ICU and Objective-C bridging saves every invocation a few
/// milliseconds and megabytes (see BENCHMARKS.md).
public enum Format {
    /// `value` with `digits` digits after the point, as `%.<digits>f` prints it
    /// (for the magnitudes a report shows: below 1e15).
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let units = UInt64(scaled), divisor = UInt64(scale)
        var text = (value < 0 && units > 0 ? "-" : "") + String(units / divisor)
        if digits > 0 {
            let fraction = String(units % divisor)
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text
    }

    /// `10` for 10.0, `0.5` for 0.5: a number as someone would type it.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && value.magnitude < 1e15 ? String(Int64(value)) : String(value)
    }

    /// `1 table`, `2 tables`: a count with its noun, plural when it is not one.
    public static func count(_ count: some BinaryInteger, _ noun: String, plural: String? = nil) -> String {
        "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
    }

    /// A size in bytes as MiB, e.g. `71 MiB` (one decimal below 10 MiB).
    public static func mebibytes(_ bytes: Int64) -> String {
        let value = Double(bytes) / 1_048_576
        return fixed(value, value < 10 ? 1 : 0) + " MiB"
    }

    /// A file's size: KiB below 1 MiB (`35 KiB`, `0 KiB` for an empty file), else `mebibytes`.
    public static func size(_ bytes: Int64) -> String {
        bytes < 1_048_576 ? "\((bytes + 1023) / 1024) KiB" : mebibytes(bytes)
    }

    /// `value` right-aligned in `width` characters, padded with `pad`.
    public static func right(_ value: some CustomStringConvertible, _ width: Int, pad: Character = " ") -> String {
        let text = value.description
        return String(repeating: pad, count: max(0, width - text.count)) + text
    }
}

extension String {
    /// The string cut or padded with spaces to exactly `width` characters (a table column).
    public func column(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}

/// Parsing and printing the 64-bit seeds that drive every run.
public enum Seed {
    /// Parses a seed written in decimal or as `0x` hexadecimal; nil when malformed.
    public static func parse(_ text: String) -> UInt64? {
        // Plain digits, the usual case, without the Unicode tables the trimming below consults.
        if !text.utf8.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            return UInt64(text, radix: 10)
        }
        // Spaces and tabs around it, as CharacterSet.whitespaces (category Zs, and tab).
        let blank = { (c: Character) in
            c == "\t" || (c.unicodeScalars.count == 1 && c.unicodeScalars.first!.properties.generalCategory == .spaceSeparator)
        }
        let trimmed = String(text.drop(while: blank).reversed().drop(while: blank).reversed())
        if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") {
            let digits = trimmed.dropFirst(2)
            guard !digits.isEmpty, digits.count <= 16 else { return nil }
            return UInt64(digits, radix: 16)
        }
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII) else { return nil }
        return UInt64(trimmed, radix: 10)
    }

    /// The canonical spelling used in output and reproduce lines: `0x` + 16 hex digits.
    public static func format(_ seed: UInt64) -> String {
        let hex = String(seed, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A fresh seed from the system's entropy.
    public static func fresh() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

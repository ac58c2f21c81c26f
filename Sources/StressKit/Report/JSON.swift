#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Pretty, key-sorted JSON for `--json` output.
func prettyJSON(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
}

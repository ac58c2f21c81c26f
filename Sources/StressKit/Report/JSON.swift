#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Pretty, key-sorted JSON for `--json` output.
func prettyJSON(_ value: some Encodable) -> String { encodeJSON(value, pretty: true) }

/// Key-sorted JSON of one of this tool's own values. Infinite and NaN reals
/// are written as strings, so encoding cannot fail on data; a value that still
/// fails to encode is a bug in the tool, not an empty answer.
func encodeJSON(_ value: some Encodable, pretty: Bool) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        preconditionFailure("cannot encode \(type(of: value)) as JSON: \(error)")
    }
}

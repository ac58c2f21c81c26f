#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressSQLite

/// Compares a row with a ledger image in place: whether the row, rendered as
/// `TrackedTable.imageExpression` renders it in SQL, is byte for byte the image.
///
/// The check does this for every row, so it renders nothing and allocates
/// nothing: each column is compared where it stands in the image. It follows
/// SQLite 3.40's `quote()` and `printf()`: integers in decimal; reals as
/// `printf('%!.17g')` (`Real17`: SQLite's own printf, or where it is proven
/// to print the same, its replay in Swift); text in single
/// quotes with quotes doubled, cut at the first NUL (quote() reads text as a C
/// string); blobs as X'…' in upper-case hex; NULL as NULL; columns joined by commas.
///
/// Soundness rests on one property, which `RowImageTests` holds it to over
/// generated values: it says "equal" only where SQL's rendering is equal. When
/// it says "different", the check asks SQL itself before reporting anything.
enum RowImage {
    /// One value as the image renders it (`TrackedTable.imageExpression`): what
    /// an image gains when a column is added with this default.
    static func render(_ value: SQLValue) -> String {
        switch value {
        case .null: return "NULL"
        case .integer(let integer): return String(integer)
        case .real(let real):
            return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
                let length = SQLValue.formatReal17(real, into: buffer.baseAddress!)
                return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: length), as: UTF8.self)
            }
        case .text(let text):
            // quote() stops at the first NUL.
            let kept = text.utf8.prefix { $0 != 0 }
            return "'" + String(decoding: kept, as: UTF8.self).replacing("'", with: "''") + "'"
        case .blob:
            return value.sqlLiteral.uppercased()
        }
    }

    /// Splits an image into its fields (commas inside quoted text do not split),
    /// or nil when it is not an image of `count` fields. Bytes, not a `String`:
    /// text in SQLite need not be valid UTF-8, and the image must stay byte for byte.
    static func fields(_ image: [UInt8], count: Int) -> [ArraySlice<UInt8>]? {
        var fields: [ArraySlice<UInt8>] = []
        var start = 0
        var inText = false
        for (index, byte) in image.enumerated() {
            if byte == UInt8(ascii: "'") {
                inText.toggle()  // A doubled quote inside text toggles twice.
            } else if byte == UInt8(ascii: ","), !inText {
                fields.append(image[start..<index])
                start = index + 1
            }
        }
        fields.append(image[start...])
        return !inText && fields.count == count ? fields : nil
    }

    /// Whether columns `columns` of `statement`'s current row render as `image`.
    static func matches(_ statement: Statement, columns: Range<Int>, image: UnsafeRawBufferPointer) -> Bool {
        guard let base = image.baseAddress else { return columns.isEmpty }
        var reader = Reader(base: base.assumingMemoryBound(to: UInt8.self), end: image.count)
        for index in columns {
            if index != columns.lowerBound, !reader.take(UInt8(ascii: ",")) { return false }
            let ok: Bool
            let value = statement.value(index)
            switch value.type {
            case .integer: ok = reader.takeInteger(value.int64)
            case .real: ok = reader.takeReal(value.double)
            case .text: ok = reader.takeText(value.bytes(.text))
            case .blob: ok = reader.takeBlob(value.bytes(.blob))
            case .null: ok = reader.take(Self.null)
            }
            if !ok { return false }
        }
        return reader.position == reader.end
    }

    private static let null: StaticString = "NULL"

    private struct Reader {
        let base: UnsafePointer<UInt8>
        let end: Int
        var position = 0

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < end, base[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func take(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count <= end - position else { return false }
            if bytes.count > 0, memcmp(base + position, bytes.baseAddress!, bytes.count) != 0 { return false }
            position += bytes.count
            return true
        }

        mutating func take(_ text: StaticString) -> Bool {
            take(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        mutating func takeInteger(_ value: Int64) -> Bool {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var magnitude = value.magnitude
                var start = 20
                repeat {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                if value < 0, !take(UInt8(ascii: "-")) { return false }
                return take(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[start...]))
            }
        }

        mutating func takeReal(_ value: Double) -> Bool {
            withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
                let length = Real17.format(value, into: buffer.baseAddress!)
                return take(UnsafeRawBufferPointer(start: buffer.baseAddress, count: length))
            }
        }

        mutating func takeText(_ stored: UnsafeRawBufferPointer) -> Bool {
            guard take(UInt8(ascii: "'")) else { return false }
            // quote() stops at the first NUL.
            var text = stored
            if let start = stored.baseAddress, let nul = memchr(start, 0, stored.count) {
                text = UnsafeRawBufferPointer(start: start, count: UnsafeRawPointer(nul) - start)
            }
            if let start = text.baseAddress, memchr(start, Int32(UInt8(ascii: "'")), text.count) != nil {
                for byte in text {
                    guard take(byte) else { return false }
                    if byte == UInt8(ascii: "'"), !take(byte) { return false }
                }
            } else if !take(text) {
                return false
            }
            return take(UInt8(ascii: "'"))
        }

        mutating func takeBlob(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard take(UInt8(ascii: "X")), take(UInt8(ascii: "'")), bytes.count * 2 <= end - position else { return false }
            for byte in bytes {
                guard base[position] == Self.hex(byte >> 4), base[position + 1] == Self.hex(byte & 0x0F) else { return false }
                position += 2
            }
            return take(UInt8(ascii: "'"))
        }

        private static func hex(_ nibble: UInt8) -> UInt8 {
            nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
        }
    }
}

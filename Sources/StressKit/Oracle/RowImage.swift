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
/// `printf('%!.17g')` (SQLite's own printf, through the C shim); text in single
/// quotes with quotes doubled, cut at the first NUL (quote() reads text as a C
/// string); blobs as X'…' in upper-case hex; NULL as NULL; columns joined by commas.
///
/// Soundness rests on one property, which `RowImageTests` holds it to over
/// generated values: it says "equal" only where SQL's rendering is equal. When
/// it says "different", the check asks SQL itself before reporting anything.
enum RowImage {
    /// Whether columns `columns` of `statement`'s current row render as `image`.
    static func matches(_ statement: Statement, columns: Range<Int>, image: UnsafeRawBufferPointer) -> Bool {
        guard let base = image.baseAddress else { return columns.isEmpty }
        var reader = Reader(base: base.assumingMemoryBound(to: UInt8.self), end: image.count)
        for index in columns {
            if index != columns.lowerBound, !reader.take(UInt8(ascii: ",")) { return false }
            let ok: Bool
            switch statement.columnType(index) {
            case .integer: ok = reader.takeInteger(statement.int64(index))
            case .real: ok = reader.takeReal(statement.double(index))
            case .text: ok = reader.takeText(statement.unsafeBytes(index))
            case .blob: ok = reader.takeBlob(statement.unsafeBytes(index))
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
                let length = SQLValue.formatReal17(value, into: buffer.baseAddress!)
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

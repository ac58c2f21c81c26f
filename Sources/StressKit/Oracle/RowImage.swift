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
/// string); blobs as `B<length>:` and their own bytes; NULL as NULL; columns
/// joined by commas. An image is bytes, not a `String`: a blob's bytes and
/// SQLite's text need not be valid UTF-8 (`display` renders one for people).
///
/// Soundness rests on one property, which `RowImageTests` holds it to over
/// generated values: it says "equal" only where SQL's rendering is equal. When
/// it says "different", the check asks SQL itself before reporting anything.
enum RowImage {
    /// One value as the image renders it (`TrackedTable.imageExpression`): what
    /// an image gains when a column is added with this default.
    static func render(_ value: SQLValue) -> [UInt8] {
        switch value {
        case .null: return Array("NULL".utf8)
        case .integer(let integer): return Array(String(integer).utf8)
        case .real(let real):
            return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
                let length = SQLValue.formatReal17(real, into: buffer.baseAddress!)
                return Array(UnsafeRawBufferPointer(start: buffer.baseAddress, count: length))
            }
        case .text(let text):
            // quote() stops at the first NUL.
            var image: [UInt8] = [UInt8(ascii: "'")]
            for byte in text.utf8.prefix(while: { $0 != 0 }) {
                image.append(byte)
                if byte == UInt8(ascii: "'") { image.append(byte) }
            }
            return image + [UInt8(ascii: "'")]
        case .blob(let bytes):
            return Array("B\(bytes.count):".utf8) + bytes
        }
    }

    /// Splits an image into its fields (commas inside quoted text or a blob's
    /// bytes do not split), or nil when it is not an image of `count` fields.
    static func fields(_ image: [UInt8], count: Int) -> [ArraySlice<UInt8>]? {
        guard let fields = fields(image), fields.count == count else { return nil }
        return fields
    }

    /// Splits an image into its fields, or nil when it is not an image: a
    /// quoted text left open, or a blob whose length is not what follows it.
    static func fields(_ image: [UInt8]) -> [ArraySlice<UInt8>]? {
        var fields: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        var inText = false
        while index < image.count {
            let byte = image[index]
            if index == start, byte == UInt8(ascii: "B") {
                // A blob: its length, a colon, that many bytes of any value, then a comma or the end.
                guard let (length, bytesStart) = blobLength(image, from: index + 1),
                      length <= image.count - bytesStart else { return nil }
                index = bytesStart + length
                guard index == image.count || image[index] == UInt8(ascii: ",") else { return nil }
                continue
            }
            if byte == UInt8(ascii: "'") {
                inText.toggle()  // A doubled quote inside text toggles twice.
            } else if byte == UInt8(ascii: ","), !inText {
                fields.append(image[start..<index])
                start = index + 1
            }
            index += 1
        }
        fields.append(image[start...])
        return inText ? nil : fields
    }

    /// The decimal length after a blob's `B` at `index`, and where its bytes start (after the colon).
    private static func blobLength(_ image: [UInt8], from index: Int) -> (length: Int, bytesStart: Int)? {
        var length = 0
        var position = index
        while position < image.count, image[position] != UInt8(ascii: ":") {
            let digit = image[position] &- UInt8(ascii: "0")
            guard digit < 10, length <= (Int.max - 9) / 10 else { return nil }
            length = length * 10 + Int(digit)
            position += 1
        }
        guard position > index, position < image.count else { return nil }
        return (length, position + 1)
    }

    /// An image as people read it in a report: each blob in hex (`X'…'`, as
    /// `quote()` writes one), the rest as it stands. An image that does not
    /// split into fields is shown as it stands.
    static func display(_ image: [UInt8]) -> String {
        guard let fields = fields(image) else { return String(decoding: image, as: UTF8.self) }
        return fields.map { field -> String in
            guard field.first == UInt8(ascii: "B"), let colon = field.firstIndex(of: UInt8(ascii: ":")) else {
                return String(decoding: field, as: UTF8.self)
            }
            return SQLValue.blob(Array(field[(colon + 1)...])).sqlLiteral
        }.joined(separator: ",")
    }

    /// Column `index` of `statement`'s current row, an image, as `display`
    /// shows it; a value of any other type as it is.
    static func shown(_ statement: Statement, _ index: Int) -> SQLValue {
        guard statement.columnType(index) == .text else { return statement.column(index) }
        return .text(display(Array(statement.unsafeBytes(index))))
    }

    /// An SQL expression of exactly the image's bytes: a text literal when
    /// they are valid UTF-8 without a control character but the tab, else the
    /// bytes cast to text. A blob's bytes in an image can be anything, and a
    /// line break in a literal would split the statement's line in the SQL
    /// log, which is read a line to a statement (`replay`, `shrink`); a form
    /// feed would read as a write's beginning (`SQLLog.writeMark`).
    static func literal(_ image: [UInt8]) -> String {
        if !image.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }), let text = String(validating: image, as: UTF8.self) {
            return SQLValue.text(text).sqlLiteral
        }
        return "CAST(\(SQLValue.blob(image).sqlLiteral) AS TEXT)"
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
            take(UInt8(ascii: "B")) && takeInteger(Int64(bytes.count)) && take(UInt8(ascii: ":")) && take(bytes)
        }
    }
}

import CSQLite

/// `printf('%!.17g', x)` of the SQLite libraries whose printf this can replay
/// exactly, in Swift: the check formats one real per real-valued column of
/// every row, and SQLite's printf (`SQLValue.formatReal17`) was a fifth of its
/// time on 3.40 and a tenth on 3.50.
///
/// Two replays, one per algorithm SQLite has used:
///
/// - **x87** (SQLite 3.40–3.42, x86-64): those versions format a real with a
///   fixed sequence of `long double` operations (scale into [1, 10) by
///   multiplying by the `double` constants 1e100, 1e10 and 10 and dividing
///   once, or multiplying by 1e8 and 10; add a rounder of 5e-7 · 1e-10; then take
///   17 digits, each `(int)v`, `v = (v - digit) * 10`). On x86-64, `long double`
///   is the x87 80-bit format, which is Swift's `Float80`; every one of those
///   operations is an IEEE-754 operation, correctly rounded in the same format,
///   so the same operations on the same operands give the same bits, and so the
///   same digits. The constants are the C source's `double` literals converted
///   to `Float80` (`Float80(1e100 as Double)`, not the closer `Float80` literal).
/// - **Dekker** (SQLite 3.43 up to the release that replaced it; 3.50.4 has
///   it, 3.53.4 does not): the real is scaled into [~9.2e17, ~9.2e18] by
///   double-double products (`sqlite3FpDecode`'s `dekkerMul2`, with the C
///   source's constants and their error terms), the pair is turned into a
///   64-bit integer, and its decimal digits are rounded half up to 17. Every
///   step is an IEEE-754 `double` operation or integer arithmetic, so the same
///   steps in the same order give the same digits wherever neither side fuses
///   a multiply and an add (the self-test is what shows that they do not).
///
/// Either way the digits are spelled as `%g` does with the `!` flag (trailing
/// zeros dropped, at least one digit after the point, `e+NN` outside 1e-4 …
/// 1e17).
///
/// A replay is used only where it holds (`isExact`): on a library of its
/// versions, after a self-test that the library prints every one of a few
/// thousand values (edge values and pseudo-random bit patterns) exactly as the
/// replay does. Elsewhere callers use the library's own printf. A library built
/// another way (another algorithm, `long double` as `double`, fused
/// multiply-adds) fails the self-test, and the replay is not used. `Real17Tests`
/// holds the x87 replay to the library over 400,000 values, and
/// `Real17DekkerTests` the Dekker replay to SQLite 3.50.4's printf.
public enum Real17 {
    /// The replays.
    enum Algorithm: Sendable {
        case x87, dekker
    }

    /// The replay in use on this library, if any (see the type's documentation).
    static let algorithm: Algorithm? = {
        let version = sqlite3_libversion_number()
        switch family(ofVersionNumber: version) {
        case .longDouble:
            #if arch(x86_64) && !os(Windows)
            if version >= 3_040_000, selfTest(count: 4096) { return .x87 }
            #endif
            return nil
        case .dekker:
            return selfTest(count: 4096, replay: { replayDekker($0, into: $1) }) ? .dekker : nil
        case .later:
            return nil
        }
    }()

    /// How SQLite's releases print a real with `printf('%!.17g')`, as far as
    /// they differ: with `long double` arithmetic (before 3.43), with Dekker's
    /// double-double products (3.43 up to 3.52), or as the releases after them
    /// do. Two releases of different families print some reals differently (the
    /// largest double is 1.7976931348623156e+308 on 3.40.1, and
    /// 1.7976931348623157e+308 on 3.50.4), so a row image one wrote is not what
    /// the other makes of the same row.
    public enum Family: String, Sendable {
        case longDouble = "long double"
        case dekker = "Dekker"
        case later = "3.53"
    }

    /// The family of the release numbered `number` (`sqlite3_libversion_number`).
    static func family(ofVersionNumber number: Int32) -> Family {
        if number < 3_043_000 { return .longDouble }
        if number < 3_053_000 { return .dekker }
        return .later
    }

    /// The family of the release `version` ("3.40.1"); nil when it is no release number.
    public static func family(ofVersion version: String) -> Family? {
        let parts = version.split(separator: ".").map { Int32($0) }
        guard parts.count >= 2, let major = parts[0], let minor = parts[1] else { return nil }
        return family(ofVersionNumber: major * 1_000_000 + minor * 1_000)
    }

    /// Whether `format` prints exactly what `SQLValue.formatReal17` prints, on this library.
    public static var isExact: Bool { algorithm != nil }

    /// Formats `value` as `SQLValue.formatReal17` does, into `buffer` (at least
    /// 64 bytes); returns the length. Exact only where `isExact`; elsewhere
    /// it calls the library.
    public static func format(_ value: Double, into buffer: UnsafeMutableRawPointer) -> Int {
        switch algorithm {
        case .dekker: return replayDekker(value, into: buffer.assumingMemoryBound(to: UInt8.self))
        case .x87:
            #if arch(x86_64) && !os(Windows)
            return replay(value, into: buffer.assumingMemoryBound(to: UInt8.self))
            #else
            return SQLValue.formatReal17(value, into: buffer)
            #endif
        case nil: return SQLValue.formatReal17(value, into: buffer)
        }
    }

    /// Whether the x87 replay prints each of `count` pseudo-random values, and
    /// every edge value, exactly as the library does.
    static func selfTest(count: Int) -> Bool {
        #if arch(x86_64) && !os(Windows)
        return selfTest(count: count, e100: Float80(1e100 as Double))
        #else
        return false
        #endif
    }

    /// The values a self-test prints both ways: edge values, their neighbours and
    /// negations, and `count` pseudo-random ones of every exponent and decimal-looking.
    static func selfTestValues(count: Int) -> [Double] {
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 2.5, 1.0 / 3, 123456.5, 9.9999999999999995, 9.999999999999999, 1e-4, 1e-5,
            9.99999999999999e-5, 1e16, 1e17, 1e18, 1e15 + 0.3, 4503599627370496.5,
            9007199254740992, 1e100, 1e-100, 1e300, 1e-300, 1e308, .greatestFiniteMagnitude, .leastNormalMagnitude,
            .leastNonzeroMagnitude, .infinity, -.infinity, .pi, 2.718281828459045, 0.30000000000000004,
            9.223372036854774784e+18, 9.22337203685477478e+17, 0.99999999999999999,
        ]
        values += values.flatMap { [$0.nextUp, $0.nextDown, -$0] }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        for i in 0..<count {
            let bits = next()
            switch i % 4 {
            case 0: values.append(Double(bitPattern: bits))  // Any exponent.
            case 1: values.append(Double(Int64(bitPattern: bits) >> Int64(bits & 63)) / 1000)  // Decimal-looking.
            case 2: values.append(Double(bitPattern: (bits & 0x800F_FFFF_FFFF_FFFF) | (UInt64(1023 - 60 + Int(bits >> 52 & 127)) << 52)))  // 1e-18 … 1e20.
            default: values.append(Double(Int64(bitPattern: bits) % 100_000_000) * 0.5)
            }
        }
        return values.filter { !$0.isNaN }
    }

    /// Whether `replay` prints every self-test value exactly as this process's SQLite does.
    static func selfTest(count: Int, replay: (Double, UnsafeMutablePointer<UInt8>) -> Int) -> Bool {
        var mine = [UInt8](repeating: 0, count: 64), theirs = [UInt8](repeating: 0, count: 64)
        for value in selfTestValues(count: count) {
            let a = mine.withUnsafeMutableBufferPointer { replay(value, $0.baseAddress!) }
            let b = theirs.withUnsafeMutableBytes { SQLValue.formatReal17(value, into: $0.baseAddress!) }
            if a != b || mine[..<a] != theirs[..<b] { return false }
        }
        return true
    }

    /// `(x[0], x[1]) *= (y, yy)` in double-double arithmetic, as SQLite's
    /// `dekkerMul2`, operation for operation (its `volatile`s keep each result a `double`, as Swift does).
    static func dekkerMul2(_ x: inout (Double, Double), _ y: Double, _ yy: Double) {
        let hx = Double(bitPattern: x.0.bitPattern & 0xFFFF_FFFF_FC00_0000)
        let tx = x.0 - hx
        let hy = Double(bitPattern: y.bitPattern & 0xFFFF_FFFF_FC00_0000)
        let ty = y - hy
        let p = hx * hy
        let q = hx * ty + tx * hy
        let c = p + q
        var cc = p - c + q + tx * ty
        cc = x.0 * yy + x.1 * y + cc
        x.0 = c + cc
        x.1 = c - x.0
        x.1 += cc
    }

    /// SQLite 3.50's `%!.17g` (`sqlite3FpDecode` with 17 digits, at most 26, then
    /// printf.c's etGENERIC spelling with the `!` flag). `out` holds at least 64 bytes.
    static func replayDekker(_ value: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        func put(_ text: StaticString) {
            text.withUTF8Buffer { for byte in $0 { out[n] = byte; n += 1 } }
        }
        if value.isNaN { put("NaN"); return n }
        var r = value
        var negative = false
        if r < 0 {
            negative = true
            r = -r
        }
        if r.isInfinite {
            if negative { put("-") }
            put("Inf")
            return n
        }
        // The significant digits as one integer (`significand`, `count` digits, no
        // trailing zero) and where the point goes (`point`, FpDecode's iDP).
        var significand: UInt64 = 0
        var count = 1
        var point = 1
        if r != 0 {
            var rr = (r, 0.0)
            var exp = 0
            if rr.0 > 9.223372036854774784e+18 {
                while rr.0 > 9.223372036854774784e+118 {
                    exp += 100
                    dekkerMul2(&rr, 1.0e-100, -1.99918998026028836196e-117)
                }
                while rr.0 > 9.223372036854774784e+28 {
                    exp += 10
                    dekkerMul2(&rr, 1.0e-10, -3.6432197315497741579e-27)
                }
                while rr.0 > 9.223372036854774784e+18 {
                    exp += 1
                    dekkerMul2(&rr, 1.0e-01, -5.5511151231257827021e-18)
                }
            } else {
                while rr.0 < 9.223372036854774784e-83 {
                    exp -= 100
                    dekkerMul2(&rr, 1.0e+100, -1.5902891109759918046e+83)
                }
                while rr.0 < 9.223372036854774784e+07 {
                    exp -= 10
                    dekkerMul2(&rr, 1.0e+10, 0.0)
                }
                while rr.0 < 9.22337203685477478e+17 {
                    exp -= 1
                    dekkerMul2(&rr, 1.0e+01, 0.0)
                }
            }
            let v = rr.1 < 0 ? UInt64(rr.0) &- UInt64(-rr.1) : UInt64(rr.0) &+ UInt64(rr.1)
            // v has 18 or 19 digits; FpDecode keeps 17, rounding half up on the first digit dropped alone.
            let digits = v >= 1_000_000_000_000_000_000 ? 19 : 18
            point = digits + exp
            let dropped = digits == 19 ? UInt64(100) : 10
            significand = v / dropped
            if (v / (dropped / 10)) % 10 >= 5 { significand += 1 }
            count = 17
            if significand == 100_000_000_000_000_000 {  // 99…9 rounded up: "1", one place further left.
                significand = 1
                count = 1
                point += 1
            }
            while significand % 10 == 0 {
                significand /= 10
                count -= 1
            }
        }
        // The 17 digits spelled (zeros after the significant ones), kept past where the spelling ends.
        let digits = out + spelledDigits
        var rest = significand
        for k in stride(from: 16, through: 0, by: -1) {
            digits[k] = k < count ? UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10) : UInt8(ascii: "0")
            if k < count { rest /= 10 }
        }
        return spell(negative: negative, exp: point - 1, digits: digits, into: out)
    }

    /// Where in the output buffer (64 bytes) a replay leaves the 17 digits to
    /// spell: past the longest spelling (a sign, 17 digits, a point, four zeros or `e+NNN`).
    static let spelledDigits = 40

    /// printf.c's spelling of a real for `%!.17g` (etGENERIC, precision 17, the
    /// `!` flag), the same in every release replayed: `exp` is the decimal
    /// exponent of the first significant digit, `digits` the 17 significant
    /// digits in order. Fixed notation from 1e-4 to below 1e17, else `e+NN`;
    /// trailing zeros dropped, but one digit always follows the point. Returns
    /// the length written to `out`.
    @inline(__always)
    static func spell(negative: Bool, exp: Int, digits: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        if negative { out[n] = UInt8(ascii: "-"); n += 1 }
        var precision = 16  // %g: 17 significant digits, one before the point.
        let exponential = exp < -4 || exp > precision
        var e2 = 0
        if !exponential {
            precision -= exp
            e2 = exp
        }
        var j = 0
        if e2 < 0 {
            out[n] = UInt8(ascii: "0"); n += 1
        } else {
            while e2 >= 0 { out[n] = digits[j]; j += 1; n += 1; e2 -= 1 }
        }
        out[n] = UInt8(ascii: "."); n += 1
        e2 += 1
        while e2 < 0 && precision > 0 { out[n] = UInt8(ascii: "0"); n += 1; precision -= 1; e2 += 1 }
        while precision > 0 { precision -= 1; out[n] = digits[j]; j += 1; n += 1 }
        // Trailing zeros go; a point left last keeps one zero (the `!` flag).
        while out[n - 1] == UInt8(ascii: "0") { n -= 1 }
        if out[n - 1] == UInt8(ascii: ".") { out[n] = UInt8(ascii: "0"); n += 1 }
        if exponential {
            out[n] = UInt8(ascii: "e"); n += 1
            out[n] = UInt8(ascii: exp < 0 ? "-" : "+"); n += 1
            var e = exp < 0 ? -exp : exp
            if e >= 100 { out[n] = UInt8(ascii: "0") + UInt8(e / 100); n += 1; e %= 100 }
            out[n] = UInt8(ascii: "0") + UInt8(e / 10); n += 1
            out[n] = UInt8(ascii: "0") + UInt8(e % 10); n += 1
        }
        return n
    }

    #if arch(x86_64) && !os(Windows)
    /// The self-test of a replay whose constant 1e100 is `e100` (a test gives
    /// it another to show that the self-test refuses a different algorithm).
    static func selfTest(count: Int, e100: Float80) -> Bool {
        selfTest(count: count, replay: { replay($0, into: $1, e100: e100) })
    }

    /// SQLite 3.40's `%!.17g` (printf.c, etGENERIC with precision 17 and the `!`
    /// flag), operation for operation. `out` holds at least 64 bytes. (`e100`
    /// is the C source's constant; `selfTest(count:e100:)` takes another.)
    static func replay(
        _ value: Double, into out: UnsafeMutablePointer<UInt8>, e100: Float80 = Float80(1e100 as Double)
    ) -> Int {
        var real = Float80(value)
        var n = 0
        var prefix: UInt8 = 0
        if real < 0 {
            real = -real
            prefix = UInt8(ascii: "-")
        }
        let rounder = Float80(5.0e-07 as Double) * Float80(1.0e-10 as Double)
        var exp = 0
        if value.isNaN {
            for byte in "NaN".utf8 { out[n] = byte; n += 1 }
            return n
        }
        if real > 0 {
            var scale: Float80 = 1
            let e10 = Float80(1e10 as Double), ten = Float80(10.0 as Double)
            while real >= e100 * scale && exp <= 350 { scale *= e100; exp += 100 }
            while real >= e10 * scale && exp <= 350 { scale *= e10; exp += 10 }
            while real >= ten * scale && exp <= 350 { scale *= ten; exp += 1 }
            real /= scale
            let tiny = Float80(1e-8 as Double), e8 = Float80(1e8 as Double)
            while real < tiny { real *= e8; exp -= 8 }
            while real < 1 { real *= ten; exp -= 1 }
            if exp > 350 {
                if prefix != 0 { out[n] = prefix; n += 1 }
                for byte in "Inf".utf8 { out[n] = byte; n += 1 }
                return n
            }
        }
        real += rounder
        if real >= 10 {
            real *= Float80(0.1 as Double)
            exp += 1
        }
        // printf takes digits while its count of significant digits lasts: 26
        // with the `!` flag, so all 17 here.
        //
        // The digit loop in integers, which is where the time goes in Float80
        // (a chain of x87 operations, and a checked conversion per digit). For v
        // in [1, 10), v = m / 2^s exactly, with m its 64-bit significand and
        // s = 63 - exponent (60 … 63). Then `(int)v` is m >> s; `v - digit` is
        // exact (the low s bits); and `* 10` is the 68-bit product rounded to
        // 64 significant bits, to nearest, ties to even, as the x87 rounds
        // (only when the product reaches 2^64; then s drops by the bits shifted
        // out, and stays in 60 … 63). Any other v (only 0 leaves [1, 10))
        // takes the Float80 loop. Written out as two loops, not one digit
        // function: m and s stay in registers.
        let digits = out + spelledDigits
        if real >= 1 && real < 10 {
            var m = real.significandBitPattern | (1 << 63)
            var s = 63 - Int(real.exponent)
            for k in 0..<17 {
                let d = m >> s
                let (high, low) = (m & ((1 << s) - 1)).multipliedFullWidth(by: 10)
                if high == 0 {
                    m = low
                } else {
                    var shift = 64 - high.leadingZeroBitCount
                    var q = (low >> shift) | (high << (64 - shift))
                    let rest = low & ((1 << shift) - 1), half = UInt64(1) << (shift - 1)
                    if rest > half || (rest == half && q & 1 == 1) {
                        q &+= 1
                        if q == 0 { q = 1 << 63; shift += 1 }
                    }
                    m = q
                    s -= shift
                }
                digits[k] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: d)
            }
        } else {
            for k in 0..<17 {
                let d = Int32(real)
                real = (real - Float80(d)) * Float80(10.0 as Double)
                digits[k] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: d)
            }
        }
        return spell(negative: prefix != 0, exp: exp, digits: digits, into: out)
    }
    #endif
}

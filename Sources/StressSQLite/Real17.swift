import CSQLite

/// `printf('%!.17g', x)` of SQLite 3.40–3.42 (the libraries whose printf
/// formats reals with the algorithm below), replayed in Swift: the check
/// formats one real per real-valued column of every row, and SQLite's printf
/// (`SQLValue.formatReal17`) was a fifth of its time.
///
/// Why the replay prints exactly what the library prints: those versions
/// format a real with a fixed sequence of `long double` operations (scale into
/// [1, 10) by multiplying by the `double` constants 1e100, 1e10 and 10 and
/// dividing once, or multiplying by 1e8 and 10; add a rounder of 5e-7 · 1e-10;
/// then take 17 digits, each `(int)v`, `v = (v - digit) * 10`), then spell the
/// digits as `%g` does with the `!` flag (trailing zeros dropped, at least one
/// digit after the point, `e+NN` outside 1e-4 … 1e17). On x86-64, `long double`
/// is the x87 80-bit format, which is Swift's `Float80`; every one of those
/// operations is an IEEE-754 operation, correctly rounded in the same format,
/// so the same operations on the same operands give the same bits, and so the
/// same digits. The constants are the C source's `double` literals converted
/// to `Float80` (`Float80(1e100 as Double)`, not the closer `Float80` literal).
///
/// Used only where that holds (`isExact`): on x86-64, on a library of those
/// versions, after a self-test that the library prints every one of a few
/// thousand values (edge values and pseudo-random bit patterns) exactly as the
/// replay does. Elsewhere callers use the library's own printf. A library built
/// another way (another algorithm, `long double` as `double`) fails the
/// self-test, and the replay is not used. `Real17Tests` holds the replay to
/// the library over 400,000 values.
public enum Real17 {
    /// Whether `format` prints exactly what `SQLValue.formatReal17` prints, on this library.
    public static let isExact: Bool = {
        #if arch(x86_64) && !os(Windows)
        let version = sqlite3_libversion_number()
        guard version >= 3_040_000, version < 3_043_000 else { return false }
        return selfTest(count: 4096)
        #else
        return false
        #endif
    }()

    /// Formats `value` as `SQLValue.formatReal17` does, into `buffer` (at least
    /// 64 bytes); returns the length. Exact only where `isExact`; elsewhere
    /// (and on other architectures) it calls the library.
    public static func format(_ value: Double, into buffer: UnsafeMutableRawPointer) -> Int {
        #if arch(x86_64) && !os(Windows)
        if isExact { return replay(value, into: buffer.assumingMemoryBound(to: UInt8.self)) }
        #endif
        return SQLValue.formatReal17(value, into: buffer)
    }

    /// Whether the replay prints each of `count` pseudo-random values, and
    /// every edge value, exactly as the library does.
    static func selfTest(count: Int) -> Bool {
        #if arch(x86_64) && !os(Windows)
        return selfTest(count: count, e100: Float80(1e100 as Double))
        #else
        return false
        #endif
    }

    #if arch(x86_64) && !os(Windows)
    /// The self-test of a replay whose constant 1e100 is `e100` (a test gives
    /// it another to show that the self-test refuses a different algorithm).
    static func selfTest(count: Int, e100: Float80) -> Bool {
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 2.5, 1.0 / 3, 123456.5, 9.9999999999999995, 9.999999999999999, 1e-4, 1e-5,
            9.99999999999999e-5, 1e16, 1e17, 1e18, 1e15 + 0.3, 4503599627370496.5,
            9007199254740992, 1e100, 1e-100, 1e300, 1e-300, 1e308, .greatestFiniteMagnitude, .leastNormalMagnitude,
            .leastNonzeroMagnitude, .infinity, -.infinity, .pi, 2.718281828459045, 0.30000000000000004,
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
        var mine = [UInt8](repeating: 0, count: 64), theirs = [UInt8](repeating: 0, count: 64)
        for value in values where !value.isNaN {
            let a = mine.withUnsafeMutableBufferPointer { replay(value, into: $0.baseAddress!, e100: e100) }
            let b = theirs.withUnsafeMutableBytes { SQLValue.formatReal17(value, into: $0.baseAddress!) }
            if a != b || mine[..<a] != theirs[..<b] { return false }
        }
        return true
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
        var precision = 16  // %g: 17 significant digits, one before the point.
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
        let exponential = exp < -4 || exp > precision
        var e2 = 0
        if !exponential {
            precision -= exp
            e2 = exp
        }
        var significant = 26  // The `!` flag: at most 26 digits (17 are taken).
        // The digit loop in integers, which is where the time goes in Float80
        // (a chain of x87 operations, and a checked conversion per digit). For v
        // in [1, 10), v = m / 2^s exactly, with m its 64-bit significand and
        // s = 63 - exponent (60 … 63). Then `(int)v` is m >> s; `v - digit` is
        // exact (the low s bits); and `* 10` is the 68-bit product rounded to
        // 64 significant bits, to nearest, ties to even, as the x87 rounds
        // (only when the product reaches 2^64; then s drops by the bits shifted
        // out, and stays in 60 … 63). Any other v (only 0 leaves [1, 10))
        // takes the Float80 loop.
        let integral = real >= 1 && real < 10
        var m: UInt64 = integral ? real.significandBitPattern | (1 << 63) : 0
        var s = integral ? 63 - Int(real.exponent) : 0
        func digit() -> UInt8 {
            guard significant > 0 else { return UInt8(ascii: "0") }
            significant -= 1
            if integral {
                let d = m >> s
                let (high, low) = (m & ((1 << s) - 1)).multipliedFullWidth(by: 10)
                if high == 0 {
                    m = low
                } else {
                    var k = 64 - high.leadingZeroBitCount
                    var q = (low >> k) | (high << (64 - k))
                    let rest = low & ((1 << k) - 1), half = UInt64(1) << (k - 1)
                    if rest > half || (rest == half && q & 1 == 1) {
                        q &+= 1
                        if q == 0 { q = 1 << 63; k += 1 }
                    }
                    m = q
                    s -= k
                }
                return UInt8(ascii: "0") + UInt8(truncatingIfNeeded: d)
            }
            let d = Int32(real)
            real = (real - Float80(d)) * Float80(10.0 as Double)
            return UInt8(ascii: "0") + UInt8(truncatingIfNeeded: d)
        }
        if prefix != 0 { out[n] = prefix; n += 1 }
        if e2 < 0 {
            out[n] = UInt8(ascii: "0"); n += 1
        } else {
            while e2 >= 0 { out[n] = digit(); n += 1; e2 -= 1 }
        }
        out[n] = UInt8(ascii: "."); n += 1
        e2 += 1
        while e2 < 0 { out[n] = UInt8(ascii: "0"); n += 1; precision -= 1; e2 += 1 }
        while precision > 0 { precision -= 1; out[n] = digit(); n += 1 }
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
    #endif
}

/// xoshiro256**, seeded through SplitMix64: small, fast, and the same stream
/// on every platform and toolchain for a given seed.
///
/// See <https://prng.di.unimi.it>. Not cryptographic; it only has to be reproducible.
public struct Xoshiro: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64: turns one 64-bit seed into well-mixed words.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Derives an independent sub-seed from a run seed and a label, so each
/// thread (or command) gets its own stream and adding one never shifts another.
public func deriveSeed(_ seed: UInt64, _ label: String, _ index: Int = 0) -> UInt64 {
    // FNV-1a over the label, mixed with the seed and index through SplitMix64.
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in label.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    var mixer = SplitMix64(state: seed ^ hash ^ (UInt64(bitPattern: Int64(index)) &* 0xD6E8_FEB8_6659_FD93))
    _ = mixer.next()
    return mixer.next()
}

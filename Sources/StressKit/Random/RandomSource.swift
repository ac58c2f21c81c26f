import StressAntithesis

/// Where a run's random choices come from: the seeded PRNG (reproducible), or,
/// inside Antithesis with no `--seed`, `fuzz_get_random` at every choice, so
/// the fuzzer can steer each one.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var prng: Xoshiro
    private let external: (@Sendable () -> UInt64)?

    /// The seeded stream.
    public init(seed: UInt64) {
        prng = Xoshiro(seed: seed)
        external = nil
    }

    /// Every value from `next` (Antithesis's `fuzz_get_random`).
    public init(external next: @escaping @Sendable () -> UInt64) {
        prng = Xoshiro(seed: 0)
        external = next
    }

    public mutating func next() -> UInt64 {
        if let external { return external() }
        return prng.next()
    }
}

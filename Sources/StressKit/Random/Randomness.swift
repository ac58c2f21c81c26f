import StressAntithesis

/// Where a command's random choices come from.
///
/// - `seed`: seeded streams, one per purpose (`derived`), so the seed reproduces
///   every choice — what `--seed` or `$SQLITE_STRESS_SEED` gives, and a fresh
///   seed outside Antithesis.
/// - `antithesis`: inside Antithesis with no seed given, `fuzz_get_random` is
///   called at every choice, so its fuzzer can steer each one. Nothing
///   reproduces such a run outside Antithesis, and every output says so.
public enum Randomness: Sendable, CustomStringConvertible {
    case seed(UInt64)
    case antithesis(Output.PlatformRandom)

    /// The seed, or nil when Antithesis supplies every choice.
    public var seed: UInt64? {
        if case .seed(let seed) = self { return seed }
        return nil
    }

    /// The randomness of one purpose (`label`, `index`): a seed derived from this
    /// one, so adding a purpose never shifts another's stream; or Antithesis again.
    public func derived(_ label: String, _ index: Int = 0) -> Randomness {
        switch self {
        case .seed(let seed): .seed(deriveSeed(seed, label, index))
        case .antithesis: self
        }
    }

    /// The random stream of one purpose.
    public func stream(_ label: String, _ index: Int = 0) -> RandomSource {
        switch derived(label, index) {
        case .seed(let seed): RandomSource(seed: seed)
        case .antithesis(let next): RandomSource(external: next)
        }
    }

    /// How reports name it: `seed 0x…`, or where the choices came from.
    public var description: String {
        seed.map { "seed " + Seed.format($0) } ?? "randomness from Antithesis"
    }

    /// The same, as one word for JSON, logs and `stress_meta`: `seed` or `antithesis`.
    public var kind: String { seed == nil ? Self.antithesisKind : "seed" }

    /// `kind` when Antithesis supplied every choice.
    public static let antithesisKind = "antithesis"

    /// What a failure report says instead of a reproduce line when there is no seed.
    public static let notReproducible = "no seed reproduces this run: Antithesis supplied every random choice"
}

/// Faults the runner injects into running drivers.
public enum FaultKind: String, CaseIterable, Sendable, Codable {
    /// SIGKILL to the driver's process group.
    case kill
    /// SIGSTOP, then SIGCONT after a while.
    case pause
}

/// How a run ends.
public enum EndKind: String, CaseIterable, Sendable, Codable {
    /// Wait for every driver; `finally_` runs only if none was killed.
    case finally
    /// Kill the running drivers, then run `eventually_`.
    case eventually
}

/// One planned command start.
public struct PlannedStart: Sendable, Codable, Equatable {
    public var index: Int
    public var command: String
    public var seed: String
    /// Parallel drivers running at once, at most, while this one starts.
    public var parallelism: Int
    /// An anytime command to start alongside, if none is running.
    public var anytime: String?
    public var anytimeSeed: String?
}

/// One planned fault, injected right after a start.
public struct PlannedFault: Sendable, Codable, Equatable {
    public var afterStart: Int
    public var kind: FaultKind
    /// Picks the victim among the drivers running then: `selector % count`.
    public var selector: Int
    public var pauseMilliseconds: Int
}

/// The schedule of a run, drawn from its seed alone: the same seed gives the
/// same sequence of starts, sub-seeds and planned faults, however long each
/// command takes (timing decides only how much of the sequence is used and
/// which running driver a fault meets).
struct Planner {
    private var rng: Xoshiro
    let template: Template
    let faults: [FaultKind]
    let maxParallel: Int
    private var parallelism = 1
    private var startsAtThisLevel = 0
    private(set) var count = 0

    /// The `first_` command, the singleton (when this run is a singleton run), and the end.
    let first: Template.Command?
    let singleton: Template.Command?
    let end: EndKind
    let ending: Template.Command?

    init(template: Template, seed: UInt64, faults: [FaultKind], maxParallel: Int, end forced: EndKind?) {
        self.template = template
        self.faults = faults
        self.maxParallel = maxParallel
        var rng = Xoshiro(seed: deriveSeed(seed, "compose"))
        let firsts = template.commands(.first)
        first = firsts.isEmpty ? nil : firsts[rng.below(firsts.count)]
        // Exactly one singleton runs on a path that has one; a template with
        // other drivers too runs the singleton on some seeds and the others on the rest.
        let singletons = template.commands(.singletonDriver)
        let others = template.commands(.parallelDriver) + template.commands(.serialDriver)
        if !singletons.isEmpty, others.isEmpty || rng.chance(0.5) {
            singleton = singletons[rng.below(singletons.count)]
        } else {
            singleton = nil
        }
        let drawn: EndKind = rng.chance(0.5) ? .finally : .eventually
        var end = forced ?? drawn
        let finals = template.commands(.finally), eventuals = template.commands(.eventually)
        if forced == nil {
            if finals.isEmpty, !eventuals.isEmpty { end = .eventually }
            if eventuals.isEmpty, !finals.isEmpty { end = .finally }
        }
        self.end = end
        let candidates = end == .finally ? finals : eventuals
        ending = candidates.isEmpty ? nil : candidates[rng.below(candidates.count)]
        self.rng = rng
    }

    /// A sub-seed for a command.
    mutating func subSeed() -> String { Seed.format(rng.next()) }

    /// The next driver start, and maybe a fault right after it.
    mutating func next() -> (PlannedStart, PlannedFault?) {
        count += 1
        if startsAtThisLevel == 0 {
            // Parallelism varies over time: a new level every few starts.
            parallelism = rng.int(in: 1...maxParallel)
            startsAtThisLevel = rng.int(in: 2...8)
        }
        startsAtThisLevel -= 1
        let drivers: [Template.Command] = singleton.map { [$0] }
            ?? (template.commands(.parallelDriver) + template.commands(.serialDriver))
        let command = drivers[rng.below(drivers.count)]
        var start = PlannedStart(index: count, command: command.name, seed: subSeed(), parallelism: parallelism)
        let anytimes = template.commands(.anytime)
        if !anytimes.isEmpty, rng.chance(0.5) {
            start.anytime = anytimes[rng.below(anytimes.count)].name
            start.anytimeSeed = subSeed()
        }
        var fault: PlannedFault?
        if !faults.isEmpty, rng.chance(0.3) {
            fault = PlannedFault(
                afterStart: count, kind: faults[rng.below(faults.count)], selector: rng.below(1 << 30),
                pauseMilliseconds: rng.int(in: 20...400))
        }
        return (start, fault)
    }
}

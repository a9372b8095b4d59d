/// Loads, validates and compiles a rules path off the packet path, then
/// swaps it in as one immutable snapshot. Timed, for logs and the benchmark.
public struct RuleReload: Sendable, Equatable {
    public var loadedRules: Int
    public var enabledRules: Int
    public var parseMilliseconds: Double
    public var compileMilliseconds: Double
    /// Generation of the rules now in force.
    public var generation: UInt64

    public static func perform(path: String, defaultAction: RuleAction,
                               into snapshot: RuleSnapshot) -> Result<RuleReload, ConfigError> {
        let t0 = monotonicNanoseconds()
        let loaded: [Rule]
        do {
            loaded = try RulesLoader.load(path: path)
        } catch {
            return .failure(error)
        }
        return .success(install(loaded, defaultAction: defaultAction, into: snapshot,
                                parseNanoseconds: monotonicNanoseconds() - t0))
    }

    /// Compiles rules already loaded and validated (rule management) and swaps them in.
    public static func install(_ rules: [Rule], defaultAction: RuleAction, into snapshot: RuleSnapshot,
                               parseNanoseconds: Int64) -> RuleReload {
        let t1 = monotonicNanoseconds()
        let set = RuleSet(rules: rules, defaultAction: defaultAction)
        snapshot.replace(set)
        let t2 = monotonicNanoseconds()
        return RuleReload(loadedRules: set.loadedCount, enabledRules: set.rules.count,
                          parseMilliseconds: roundedMilliseconds(parseNanoseconds),
                          compileMilliseconds: roundedMilliseconds(t2 - t1), generation: snapshot.generation)
    }

    static func roundedMilliseconds(_ ns: Int64) -> Double { (Double(ns) / 10_000).rounded() / 100 }
}

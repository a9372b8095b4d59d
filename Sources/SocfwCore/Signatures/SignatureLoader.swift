import Foundation
import SocfwIDS

/// A compiled signature set and how it was made.
public struct SignatureLoad: Sendable {
    public var set: SignatureSet
    public var report: Report

    /// What was loaded from where, what was skipped and why.
    public struct Report: Sendable {
        /// The Suricata / Snort rule files: counts, skips per keyword, samples.
        public var rules: RuleLoadReport
        /// Rules skipped because a seed signature has their sid.
        public var seedConflicts: [RuleSkip]
        public var defaultSet: Bool
        public var seedFiles: [String]
        public var seedSignatures: Int
        /// Parsed but not compiled (e.g. a pcre PCRE2 refuses), with the reason.
        public var compileSkipped: [SignatureSkip]
        /// Signatures in force, by inspection context.
        public var active: Int
        public var byContext: [String: Int]
        public var prefilterBytes: Int
        public var milliseconds: Double

        public var summaryLine: String {
            "active=\(active) seed=\(seedSignatures) rules_seen=\(rules.rulesSeen) rules_loaded=\(rules.loaded) "
                + "rules_skipped=\(rules.skipped + seedConflicts.count) not_compiled=\(compileSkipped.count) ms=\(milliseconds)"
        }

        /// Skips per keyword over rule files and compilation.
        public var skippedByKeyword: [String: Int] {
            var all = rules.skippedByKeyword
            for s in compileSkipped { all[s.error.keyword, default: 0] += 1 }
            for s in seedConflicts { all[s.keyword, default: 0] += 1 }
            return all
        }

        public var text: String {
            var s = "signatures: \(active) active (\(byContext.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), "
                + "\(seedSignatures) seed\(defaultSet ? " incl. the default set" : ""), loaded in \(milliseconds) ms, "
                + "prefilter \(prefilterBytes / 1024) KiB\n"
            if !rules.files.isEmpty { s += rules.text }
            if !compileSkipped.isEmpty {
                s += "not compiled: \(compileSkipped.count)\n"
                for skip in compileSkipped.prefix(50) { s += "  \(skip)\n" }
            }
            return s
        }

        public var json: String {
            let contexts = byContext.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            let notCompiled = compileSkipped.prefix(200).map {
                "{\"origin\":\"\(EveJSON.escape($0.origin.description))\",\"sid\":\($0.sid),\"keyword\":\"\(EveJSON.escape($0.error.keyword))\",\"message\":\"\(EveJSON.escape($0.error.message))\"}"
            }.joined(separator: ",")
            let keywords = skippedByKeyword.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\"\(EveJSON.escape($0.key))\":\($0.value)" }.joined(separator: ",")
            return "{\"active\":\(active),\"by_context\":{\(contexts)},\"default_set\":\(defaultSet)"
                + ",\"seed_files\":[\(seedFiles.map { "\"\(EveJSON.escape($0))\"" }.joined(separator: ","))]"
                + ",\"seed_signatures\":\(seedSignatures),\"rules\":\(rules.json)"
                + ",\"not_compiled\":\(compileSkipped.count),\"not_compiled_samples\":[\(notCompiled)]"
                + ",\"skipped_per_keyword\":{\(keywords)}"
                + ",\"prefilter_bytes\":\(prefilterBytes),\"milliseconds\":\(milliseconds)}"
        }
    }
}

/// Builds the signature set the configuration asks for: the built-in seed
/// set, seed YAML files and Suricata / Snort 3 rule files.
///
/// Error discipline (as for rules): a seed file with an error, a path that
/// cannot be read or a classification file with a bad line refuses the whole
/// load (a reload keeps the running set); a Suricata / Snort rule that uses a
/// keyword socfw does not support is skipped whole and reported.
public enum SignatureLoader {
    public static func load(_ config: SignatureConfig) -> Result<SignatureLoad, ConfigError> {
        Result { () throws(ConfigError) -> SignatureLoad in try loadOrThrow(config) }
    }

    static func loadOrThrow(_ config: SignatureConfig) throws(ConfigError) -> SignatureLoad {
        let t0 = monotonicNanoseconds()
        var specs: [SignatureSpec] = []
        var seedFiles: [String] = []
        var ruleFiles: [String] = []
        var classificationFile = config.classificationFile
        for path in config.paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ConfigError(file: path, message: "no such file or directory (signatures.paths)")
            }
            if isDirectory.boolValue {
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                } catch {
                    throw ConfigError(file: path, message: "cannot list: \(describeFileError(error))")
                }
                for name in names {
                    let full = (path as NSString).appendingPathComponent(name)
                    if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { seedFiles.append(full) }
                    else if name.hasSuffix(".rules") { ruleFiles.append(full) }
                    else if name == "classification.config" && classificationFile == nil { classificationFile = full }
                }
            } else if path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
                seedFiles.append(path)
            } else {
                ruleFiles.append(path)
            }
        }
        var seen = Set<UInt64>()
        func key(_ s: SignatureSpec) -> UInt64 { UInt64(s.gid) << 32 | UInt64(s.sid) }
        var seedCount = 0
        func addSeeds(_ seeds: [SeedSignature], file: String) throws(ConfigError) {
            for seed in seeds {
                guard let first = seed.specs.first else { continue }
                guard !seen.contains(key(first)) else {
                    throw ConfigError(file: file, line: first.origin.line, message: "signature id \(first.sid) is already used")
                }
                seen.insert(key(first))
                specs += seed.specs
                seedCount += 1
            }
        }
        if config.defaultSet {
            try addSeeds(try SeedSignatureLoader.parse(yaml: DefaultSignatures.yaml, file: DefaultSignatures.file),
                         file: DefaultSignatures.file)
        }
        for file in seedFiles { try addSeeds(try SeedSignatureLoader.load(file: file), file: file) }

        var classifications = ClassificationTable.default
        if let file = classificationFile {
            do {
                classifications.merge(try ClassificationTable.load(path: file))
            } catch {
                throw ConfigError(file: file, message: "\(error)")
            }
        }
        var variables = RuleVariables()
        for (name, value) in config.addressVariables { variables.addresses[name] = value }
        for (name, value) in config.portVariables { variables.ports[name] = value }
        let parser = RuleParser(variables: variables, classifications: classifications,
                                dialect: RuleDialect(rawValue: config.dialect) ?? .auto)
        var rules = RuleLoadResult()
        if !ruleFiles.isEmpty {
            do {
                rules = try RuleFileLoader(parser: parser).load(paths: ruleFiles)
            } catch {
                throw ConfigError(file: ruleFiles.first ?? "", message: "\(error)")
            }
        }
        var seedConflicts: [RuleSkip] = []
        for var spec in rules.signatures {
            guard !seen.contains(key(spec)) else {
                seedConflicts.append(RuleSkip(origin: spec.origin, sid: spec.sid, keyword: "duplicate sid",
                                              message: "sid \(spec.sid) is also a seed signature", column: nil))
                continue
            }
            seen.insert(key(spec))
            if let c = spec.classtype { spec.category = classifications[name: c]?.description }
            specs.append(spec)
        }
        for i in specs.indices where specs[i].category == nil {
            if let c = specs[i].classtype { specs[i].category = classifications[name: c]?.description }
        }
        let set: SignatureSet
        do {
            set = try SignatureSet(specs: specs)
        } catch {
            throw ConfigError(file: ruleFiles.first ?? seedFiles.first ?? DefaultSignatures.file,
                              message: "the signature prefilter did not compile: \(error)")
        }
        let ms = (Double(monotonicNanoseconds() - t0) / 10_000).rounded() / 100
        let report = SignatureLoad.Report(
            rules: rules.report, seedConflicts: seedConflicts, defaultSet: config.defaultSet, seedFiles: seedFiles,
            seedSignatures: seedCount,
            compileSkipped: set.skipped, active: set.count, byContext: set.countsByContext,
            prefilterBytes: set.prefilterBytes, milliseconds: ms)
        return SignatureLoad(set: set, report: report)
    }
}

extension SignatureConfig {
    /// The inspector's limits.
    public var inspectionConfig: InspectionConfig {
        var c = InspectionConfig()
        c.stream.depthBytes = streamDepthBytes
        c.stream.windowBytes = streamWindowBytes
        c.stream.outOfOrderBytes = streamOutOfOrderBytes
        c.stream.memcapBytes = streamMemcapBytes
        c.http.bodyInspectBytes = httpBodyInspectBytes
        // What an idle HTTP flow keeps between requests (grows on demand).
        c.http.retainedBytes = 4096
        return c
    }
}

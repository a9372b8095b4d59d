import Foundation
import SocfwCapture
import SocfwIDS

/// The JSON summary `socfwd --pcap FILE` prints.
public struct ReplaySummary: Sendable {
    public var file: String
    public var counters: PipelineCounters
    public var records: Int
    public var seconds: Double
    /// Connection-tracker counters before the final flush (nil without tracking).
    public var conntrack: ConntrackCounters?
    /// Rules that matched at least once, with their hits, in rule order.
    public var ruleHits: [(rule: Rule, hits: RuleHit)] = []
    /// Signatures that matched, with their match counts, in set order (nil: no inspector).
    public var signatureHits: [(info: SignatureInfo, matches: UInt64)]? = nil
    public var inspector: InspectorCounters? = nil
    public var stream: StreamCounters? = nil
    /// Detections and anomalies (nil: detectors off).
    public var detections: DetectionCounters? = nil

    var detectionsJSON: String {
        guard let d = detections else { return "" }
        let by = d.detections.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\"\($0.key.rawValue)\":\($0.value)" }
        let anomalies = d.anomalies.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\"\($0.key.name)\":\($0.value)" }
        return ",\"detections\":{\"alerts\":\(counters.detections),\"drops\":\(counters.detectorDrops)"
            + ",\"by_detector\":{\(by.joined(separator: ","))},\"anomalies\":{\(anomalies.joined(separator: ","))}}"
    }

    var signaturesJSON: String {
        guard let hits = signatureHits, let c = inspector else { return "" }
        let list = hits.map {
            "{\"sid\":\($0.info.sid),\"gid\":\($0.info.gid),\"rev\":\($0.info.rev),\"signature\":\"\(EveJSON.escape($0.info.message))\""
                + ",\"action\":\"\($0.info.action.rawValue)\",\"matches\":\($0.matches)}"
        }.joined(separator: ",")
        return ",\"signatures\":{\"alerts\":\(c.alerts),\"matches\":\(c.matches),\"drops\":\(c.drops),\"rejects\":\(c.rejects)"
            + ",\"blocked_flow_packets\":\(c.blockedFlowPackets &+ counters.blockedFlowPackets),\"candidates\":\(c.candidates)"
            + ",\"stream_chunks\":\(c.streamChunks),\"http_requests\":\(c.httpRequests)"
            + ",\"regex_limit_hits\":\(c.regexLimitHits),\"threshold_suppressed\":\(c.thresholdSuppressed)"
            + ",\"hits\":[\(list)]}"
    }

    var flowsJSON: String {
        guard let c = conntrack else { return "" }
        let invalid = c.invalidByReason.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        return ",\"flows\":{\"new\":\(c.new),\"closed\":\(c.closed),\"expired\":\(c.expired),\"early_dropped\":\(c.earlyDropped)"
            + ",\"bypassed\":\(c.bypassed),\"active_at_end\":\(c.active),\"invalid\":\(c.invalid),\"invalid_by_reason\":{\(invalid)}}"
    }

    var rulesJSON: String {
        let hits = ruleHits.map {
            "{\"name\":\"\(EveJSON.escape($0.rule.name))\",\"id\":\($0.rule.id),\"action\":\"\($0.rule.action.rawValue)\""
                + ",\"packets\":\($0.hits.packets),\"bytes\":\($0.hits.bytes)}"
        }.joined(separator: ",")
        return ",\"rule_hits\":[\(hits)],\"rule_cache_hits\":\(counters.ruleCacheHits)"
            + ",\"regex_limit_hits\":\(counters.regexLimitHits)"
    }

    public var packetsPerSecond: Double { seconds > 0 ? Double(counters.packets) / seconds : 0 }

    public var json: String {
        var errors = counters.parseErrors.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
            .joined(separator: ",")
        errors = "{\(errors)}"
        return "{\"file\":\"\(EveJSON.escape(file))\",\"records\":\(records),\"packets\":\(counters.packets)"
            + ",\"bytes\":\(counters.bytes),\"non_ip\":\(counters.nonIP)"
            + ",\"verdicts\":{\"accept\":\(counters.accepted),\"drop\":\(counters.dropped),\"reject\":\(counters.rejected)}"
            + ",\"malformed\":\(counters.malformed),\"parse_errors\":\(errors),\"events\":\(counters.events)"
            + flowsJSON + rulesJSON + signaturesJSON + detectionsJSON
            + ",\"seconds\":\(String(format: "%.6f", seconds)),\"packets_per_second\":\(Int(packetsPerSecond))}"
    }
}

/// Offline mode: runs a capture through the same pipeline as the queues.
public enum OfflineReplay {
    public static func run(capture: CaptureFile, name: String, pipeline: inout Pipeline,
                           eve: EveWriter?) throws(CaptureError) -> ReplaySummary {
        var records = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var failure: CaptureError? = nil
        var last: Int64 = 0
        do {
            try capture.forEachRecord { record, frame in
                records += 1
                guard let network = LinkLayer.networkLayer(of: frame, linkType: record.linkType) else {
                    pipeline.counters.nonIP &+= 1
                    return
                }
                let packet = UnsafeRawBufferPointer(rebasing: frame[network.offset...])
                let missing = record.originalLength - record.capturedLength
                let wireLength = missing > 0 ? packet.count + missing : nil
                last = record.timestampNanoseconds
                _ = pipeline.process(packet, wireLength: wireLength, timestampNanoseconds: record.timestampNanoseconds) {
                    eve?.write($0)
                }
                // Flows time out on the capture's clock, a little at a time.
                if records & 1023 == 0 {
                    pipeline.expireFlows(now: record.timestampNanoseconds, budget: 1024) { eve?.write($0) }
                }
            }
        } catch {
            failure = error
        }
        // The detectors' last local counts reach the hub (rates of the capture's end).
        pipeline.detectorTick(now: last) { eve?.write($0) }
        let conntrack = pipeline.tracker?.counters
        // Like Suricata at the end of a capture: every flow still open ends (reason "shutdown").
        pipeline.flushFlows { eve?.write($0) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        eve?.flush()
        if let failure { throw failure }
        let rules = pipeline.ruleCounters
        let hits = pipeline.ruleSet.rules.indices.compactMap { i -> (rule: Rule, hits: RuleHit)? in
            rules[i].packets > 0 ? (rule: pipeline.ruleSet.rules[i], hits: rules[i]) : nil
        }
        var summary = ReplaySummary(file: name, counters: pipeline.counters, records: records, seconds: seconds,
                                    conntrack: conntrack, ruleHits: hits)
        if let inspector = pipeline.inspector {
            summary.signatureHits = inspector.hitsPerSignature.enumerated().compactMap { i, n in
                n > 0 ? (info: inspector.set.info(i), matches: n) : nil
            }
            summary.inspector = inspector.counters
            summary.stream = inspector.streamCounters
        }
        if let probe = pipeline.detectors { summary.detections = probe.hub.counters }
        return summary
    }
}

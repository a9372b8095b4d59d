import Foundation
import SocfwIDS
import SocfwWire

/// Formats events as Suricata EVE JSON lines (same field names, so Filebeat's
/// Suricata module, EveBox or Splunk read them unchanged).
///
/// * ALERT / LOG rule matches: `event_type: "alert"`, `alert.action: "allowed"`.
/// * Dropped or rejected packets: `event_type: "drop"` with the `drop` object
///   Suricata writes, plus the `alert` object of the rule that decided (as
///   Suricata does with `drop.alerts: yes`), `alert.action: "blocked"`.
public enum EveJSON {
    public static func line(for event: Event) -> String {
        if event.kind == .flow, let c = event.connection { return flowLine(c, reason: event.endReason ?? .timeout) }
        if let hit = event.signature { return signatureLine(event, hit) }
        if let d = event.detection { return detectionLine(event, d) }
        let p = event.packet
        var s = header(event, type: event.kind == .drop ? "drop" : "alert")
        if event.kind == .drop {
            s += ",\"drop\":{\"len\":\(p.ipLength),\"ttl\":\(p.ttl),\"tos\":\(Int(p.dscp) << 2)"
            if p.l4Protocol == IPProtocolNumber.tcp && p.l4Parsed {
                let f = p.tcpFlags
                s += ",\"tcpseq\":\(p.tcpSequence),\"tcpack\":\(p.tcpAcknowledgement),\"tcpwin\":\(p.tcpWindow)"
                s += ",\"syn\":\(f.contains(.syn)),\"ack\":\(f.contains(.ack)),\"psh\":\(f.contains(.psh))"
                s += ",\"rst\":\(f.contains(.rst)),\"urg\":\(f.contains(.urg)),\"fin\":\(f.contains(.fin))"
            }
            s += ",\"verdict\":\"\(event.verdict.name)\""
            s += ",\"reason\":\"\(escape(event.ruleName != nil ? "rules" : (event.reason ?? "rules")))\"}"
        }
        if let id = event.ruleID, let name = event.ruleName, let action = event.ruleAction {
            let blocked = event.kind == .drop
            let category: String
            let severity: Int
            switch action {
            case .alert: category = "Alert rule"; severity = 2
            case .log: category = "Log rule"; severity = 3
            case .drop, .reject: category = "Filter rule"; severity = 3
            case .allow: category = "Filter rule"; severity = 3
            case .quarantine: category = "Quarantine rule"; severity = 1
            }
            s += ",\"alert\":{\"action\":\"\(blocked ? "blocked" : "allowed")\",\"gid\":1,\"signature_id\":\(id)"
            s += ",\"rev\":1,\"signature\":\"\(escape(name))\",\"category\":\"\(category)\",\"severity\":\(severity)}"
        }
        s += "}"
        return s
    }

    /// The fields every packet record starts with: time, flow id, type and
    /// the packet's endpoints.
    static func header(_ event: Event, type: String) -> String {
        let p = event.packet
        var s = "{\"timestamp\":\"\(timestamp(event.timestampNanoseconds))\",\"flow_id\":\(event.flowID)"
        s += ",\"event_type\":\"\(type)\""
        guard p.ipVersion != 0 else { return s }
        s += ",\"src_ip\":\"\(p.source)\""
        if hasPorts(p) { s += ",\"src_port\":\(p.sourcePort)" }
        s += ",\"dest_ip\":\"\(p.destination)\""
        if hasPorts(p) { s += ",\"dest_port\":\(p.destinationPort)" }
        s += ",\"proto\":\"\(protoName(p.l4Protocol))\""
        if p.l4Parsed && (p.l4Protocol == IPProtocolNumber.icmp || p.l4Protocol == IPProtocolNumber.icmpv6) {
            s += ",\"icmp_type\":\(p.icmpType),\"icmp_code\":\(p.icmpCode)"
        }
        return s
    }

    /// A signature alert as Suricata writes it: `event_type: alert`,
    /// `alert.action` blocked/allowed, `app_proto` and the `http` object for
    /// alerts raised on an HTTP transaction.
    static func signatureLine(_ event: Event, _ hit: SignatureHit) -> String {
        var s = header(event, type: "alert")
        if let a = hit.appProto { s += ",\"app_proto\":\"\(escape(a))\"" }
        let i = hit.info
        s += ",\"alert\":{\"action\":\"\(hit.blocked ? "blocked" : "allowed")\",\"gid\":\(i.gid)"
        s += ",\"signature_id\":\(i.sid),\"rev\":\(i.rev),\"signature\":\"\(escape(i.message))\""
        s += ",\"category\":\"\(escape(i.category ?? i.classtype ?? ""))\""
        s += ",\"severity\":\(i.priority)"
        if let c = i.confidence { s += ",\"confidence\":\(c)" }
        if !i.metadata.isEmpty {
            // Suricata groups `metadata` pairs by key: {"key": ["value", ...]}.
            var groups: [(String, [String])] = []
            for entry in i.metadata {
                let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if let k = groups.firstIndex(where: { $0.0 == parts[0] }) { groups[k].1.append(parts[1]) }
                else { groups.append((parts[0], [parts[1]])) }
            }
            if !groups.isEmpty {
                s += ",\"metadata\":{" + groups.map { k, v in
                    "\"\(escape(k))\":[" + v.map { "\"\(escape($0))\"" }.joined(separator: ",") + "]"
                }.joined(separator: ",") + "}"
            }
        }
        s += "}"
        if let h = hit.http {
            s += ",\"http\":{"
            var fields: [String] = []
            if let host = h.hostname { fields.append("\"hostname\":\"\(escape(host))\"") }
            fields.append("\"url\":\"\(escape(h.url))\"")
            if let ua = h.userAgent { fields.append("\"http_user_agent\":\"\(escape(ua))\"") }
            fields.append("\"http_method\":\"\(escape(h.method))\"")
            fields.append("\"protocol\":\"\(escape(h.protocolVersion))\"")
            if let n = h.contentLength { fields.append("\"length\":\(n)") }
            s += fields.joined(separator: ",") + "}"
        }
        if let state = event.flowState { s += ",\"flow\":{\"state\":\"\(state.name)\"}" }
        s += "}"
        return s
    }

    /// A behavioural detection or protocol anomaly: an EVE alert (the
    /// detector's signature id, Suricata's classification) with a
    /// `detection` object holding the evidence (Docs/detection.md).
    static func detectionLine(_ event: Event, _ d: Detection) -> String {
        var s: String
        if event.packet.ipVersion != 0 {
            s = header(event, type: "alert")
        } else {
            s = "{\"timestamp\":\"\(timestamp(event.timestampNanoseconds))\",\"event_type\":\"alert\""
            s += ",\"src_ip\":\"\(d.source)\""
            if let t = d.target { s += ",\"dest_ip\":\"\(t)\"" }
        }
        s += ",\"alert\":{\"action\":\"\(d.blocked ? "blocked" : "allowed")\",\"gid\":1"
        s += ",\"signature_id\":\(d.signatureID),\"rev\":1,\"signature\":\"\(escape(d.title))\""
        s += ",\"category\":\"\(d.category)\",\"severity\":\(d.severity)}"
        s += ",\"detection\":{\"detector\":\"\(d.kind.rawValue)\""
        for (k, v) in d.labels { s += ",\"\(k)\":\"\(escape(v))\"" }
        s += ",\"source\":\"\(d.source)\""
        if let t = d.target { s += ",\"target\":\"\(t)\"" }
        if let port = d.port { s += ",\"port\":\(port)" }
        for (k, v) in d.figures { s += ",\"\(k)\":\(v)" }
        s += ",\"response\":\"\(d.response.action.rawValue)\""
        if d.response.action != .alert { s += ",\"response_seconds\":\(d.response.seconds)" }
        s += "}"
        if let state = event.flowState { s += ",\"flow\":{\"state\":\"\(state.name)\"}" }
        s += "}"
        return s
    }

    /// Suricata's `flow` record: counters toward the server (the original
    /// direction) and toward the client, start/end, state and reason.
    static func flowLine(_ c: Connection, reason: FlowEndReason) -> String {
        let (src, sport) = c.originalSource
        let (dst, dport) = c.originalDestination
        let tcpOrUDP = c.protocolNumber == IPProtocolNumber.tcp || c.protocolNumber == IPProtocolNumber.udp
        var s = "{\"timestamp\":\"\(timestamp(c.lastSeenNanoseconds))\",\"flow_id\":\(c.flowID),\"event_type\":\"flow\""
        s += ",\"src_ip\":\"\(src)\""
        if tcpOrUDP { s += ",\"src_port\":\(sport)" }
        s += ",\"dest_ip\":\"\(dst)\""
        if tcpOrUDP { s += ",\"dest_port\":\(dport)" }
        s += ",\"proto\":\"\(protoName(c.protocolNumber))\""
        let state: String
        if c.bypassed {
            state = "bypassed"
        } else if c.protocolNumber == IPProtocolNumber.tcp {
            switch c.tcp.state {
            case .closed, .timeWait, .closing, .lastAck, .finWait1, .finWait2, .closeWait: state = "closed"
            case .established: state = "established"
            case .synSent, .synReceived: state = "new"
            }
        } else {
            state = c.seenReply ? "established" : "new"
        }
        let age = max(0, (c.lastSeenNanoseconds - c.firstSeenNanoseconds) / 1_000_000_000)
        s += ",\"flow\":{\"pkts_toserver\":\(c.packetsOriginal),\"pkts_toclient\":\(c.packetsReply)"
        s += ",\"bytes_toserver\":\(c.bytesOriginal),\"bytes_toclient\":\(c.bytesReply)"
        s += ",\"start\":\"\(timestamp(c.firstSeenNanoseconds))\",\"end\":\"\(timestamp(c.lastSeenNanoseconds))\""
        s += ",\"age\":\(age),\"state\":\"\(state)\",\"reason\":\"\(reason.rawValue)\",\"alerted\":\(c.alerted)}"
        if c.protocolNumber == IPProtocolNumber.tcp {
            s += ",\"tcp\":{\"state\":\"\(c.tcp.state.name.lowercased())\"}"
        }
        return s + "}"
    }

    static func hasPorts(_ p: PacketSummary) -> Bool {
        p.l4Parsed && (p.l4Protocol == IPProtocolNumber.tcp || p.l4Protocol == IPProtocolNumber.udp)
    }

    /// Protocol names as Suricata prints them.
    public static func protoName(_ n: UInt8) -> String {
        switch n {
        case IPProtocolNumber.tcp: return "TCP"
        case IPProtocolNumber.udp: return "UDP"
        case IPProtocolNumber.icmp: return "ICMP"
        case IPProtocolNumber.icmpv6: return "IPv6-ICMP"
        case 47: return "GRE"
        case 132: return "SCTP"
        default: return String(n)
        }
    }

    /// `2026-11-25T12:56:10.123456+0000`, Suricata's format, in UTC.
    public static func timestamp(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let micros = Int((nanoseconds % 1_000_000_000) / 1000)
        var tm = tm()
        gmtime_r(&seconds, &tm)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let us = String(micros)
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2))."
            + String(repeating: "0", count: 6 - us.count) + us + "+0000"
    }

    /// JSON string escaping (RFC 8259 §7). Most strings need none: they are
    /// returned as they are after one pass over their bytes.
    public static func escape(_ s: String) -> String {
        var s = s
        let clean = s.withUTF8 { bytes in !bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c } }
        if clean { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        appendEscaped(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s`'s JSON escaping (without quotes) to UTF-8 bytes.
    public static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends the JSON escaping (without quotes) of UTF-8 text to bytes.
    public static func appendEscaped(utf8 raw: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        raw.withMemoryRebound(to: UInt8.self) { bytes in
            var run = 0  // start of the bytes not yet copied
            for i in 0..<bytes.count {
                let b = bytes[i]
                guard b < 0x20 || b == 0x22 || b == 0x5c else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                run = i + 1
                out.append(0x5c)
                switch b {
                case 0x22, 0x5c: out.append(b)
                case 0x0a: out.append(UInt8(ascii: "n"))
                case 0x0d: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                            hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 15)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
    }

    /// JSON string escaping (RFC 8259 §7); scalars for which `alsoEscape`
    /// is true are written as `\uXXXX` too.
    public static func escape(_ s: String, alsoEscape: (Unicode.Scalar) -> Bool) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where ch.value < 0x20 || alsoEscape(ch):
                let hex = String(ch.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// Appends EVE lines to a file through a buffered stdio stream. Owned by one
/// thread (the offline loop or the output thread).
public final class EveWriter {
    private let file: UnsafeMutablePointer<FILE>
    public let path: String
    public private(set) var written: UInt64 = 0

    public init(path: String) throws(ConfigError) {
        guard let f = fopen(path, "a") else {
            throw ConfigError(file: path, message: "cannot open EVE output: \(String(cString: strerror(errno)))")
        }
        setvbuf(f, nil, _IOFBF, 1 << 16)
        self.file = f
        self.path = path
    }

    public func write(_ event: Event) { write(line: EveJSON.line(for: event)) }

    /// Writes an event's EVE line already made (`EveJSON.line(for:)`).
    public func write(line: String) {
        fputs(line, file)
        fputc(0x0a, file)
        written += 1
    }

    public func flush() { fflush(file) }

    deinit { fclose(file) }
}

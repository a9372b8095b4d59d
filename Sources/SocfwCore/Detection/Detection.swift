import SocfwWire

/// The behavioural detectors and the anomaly checker.
public enum DetectorKind: String, CaseIterable, Sendable {
    case scan
    case synFlood = "syn_flood"
    case dos
    case bruteForce = "brute_force"
    case anomaly
}

/// How a scan probes, named from its probes (nmap's scan types).
public enum ScanType: UInt8, CaseIterable, Sendable {
    /// Half-open: SYNs written by the scanner itself (minimal options).
    case syn
    /// Full connect(): SYNs from the operating system's stack.
    case connect
    /// FIN alone.
    case fin
    /// No flags.
    case null
    /// FIN+PSH+URG.
    case xmas
    /// ACK alone outside any connection (firewall mapping).
    case ack
    /// FIN+ACK outside any connection (Uriel Maimon's scan).
    case maimon
    /// UDP datagrams starting flows.
    case udp

    public var name: String {
        switch self {
        case .syn: "syn"
        case .connect: "connect"
        case .fin: "fin"
        case .null: "null"
        case .xmas: "xmas"
        case .ack: "ack"
        case .maimon: "maimon"
        case .udp: "udp"
        }
    }

    var title: String {
        switch self {
        case .syn: "SYN"
        case .connect: "connect"
        case .fin: "FIN"
        case .null: "NULL"
        case .xmas: "Xmas"
        case .ack: "ACK"
        case .maimon: "Maimon"
        case .udp: "UDP"
        }
    }
}

public enum ScanScope: UInt8, Sendable {
    /// One source, many ports of one host.
    case vertical
    /// One source, one port across many hosts.
    case horizontal
    /// Many host:port pairs over the long window.
    case slow

    public var name: String {
        switch self {
        case .vertical: "vertical"
        case .horizontal: "horizontal"
        case .slow: "slow"
        }
    }
}

/// One detection: what was seen, about whom, and the evidence. Carried in an
/// `Event` of kind `.alert` and written as an EVE alert with a `detection` object.
public struct Detection: Sendable, Equatable {
    public var kind: DetectorKind
    /// EVE `alert.signature_id`: stable per detector and type (Docs/detection.md).
    public var signatureID: Int
    public var title: String
    /// Suricata classification (EVE `alert.category`).
    public var category: String
    /// 1 (high) .. 3 (low), as Suricata's priorities.
    public var severity: Int
    /// The offender (scanner, flooding or guessing source); for a SYN flood
    /// against a destination, the last source seen.
    public var source: IPAddress
    /// The victim host, when there is one.
    public var target: IPAddress?
    public var port: UInt16?
    /// Detector-specific fields, in order: `type`, `scope`, `service`, `protocol`, `id`.
    public var labels: [(String, String)]
    /// Numbers: `count`, `window_seconds`, `rate`, ...
    public var figures: [(String, Int64)]
    public var response: DetectorResponse
    /// The packet that triggered it was dropped.
    public var blocked = false

    public init(kind: DetectorKind, signatureID: Int, title: String, category: String, severity: Int,
                source: IPAddress, target: IPAddress?, port: UInt16? = nil, labels: [(String, String)],
                figures: [(String, Int64)], response: DetectorResponse) {
        self.kind = kind
        self.signatureID = signatureID
        self.title = title
        self.category = category
        self.severity = severity
        self.source = source
        self.target = target
        self.port = port
        self.labels = labels
        self.figures = figures
        self.response = response
    }

    public func label(_ name: String) -> String? { labels.first { $0.0 == name }?.1 }
    public func figure(_ name: String) -> Int64? { figures.first { $0.0 == name }?.1 }

    public static func == (a: Detection, b: Detection) -> Bool {
        a.kind == b.kind && a.signatureID == b.signatureID && a.title == b.title && a.source == b.source
            && a.target == b.target && a.port == b.port && a.labels.elementsEqual(b.labels, by: ==)
            && a.figures.elementsEqual(b.figures, by: ==) && a.response == b.response && a.blocked == b.blocked
    }

    // Signature ids: 2200000 + detector block + type; anomalies 2210000 + id.
    static func scanSID(_ t: ScanType, _ s: ScanScope) -> Int { 2_200_000 + Int(s.rawValue) * 10 + Int(t.rawValue) + 1 }
    static let synFloodDestinationSID = 2_200_101
    static let synFloodSourceSID = 2_200_102
    static func dosSID(destination: Bool, proto: UInt8, echo: Bool = false) -> Int {
        if echo { return 2_200_210 }
        let p = proto == IPProtocolNumber.tcp ? 1 : proto == IPProtocolNumber.udp ? 2 : 3
        return 2_200_200 + (destination ? 0 : 4) + p
    }
    static func bruteForceSID(_ s: AuthService) -> Int {
        2_200_301 + (AuthService.allCases.firstIndex(of: s) ?? 0)
    }
}

/// Per-detector counts the hub keeps for all workers (`socfwctl detectors`).
public struct DetectionCounters: Equatable, Sendable {
    /// Detections raised (alerts written), by detector.
    public var detections: [DetectorKind: UInt64] = [:]
    /// Anomalous packets by anomaly (alerted or not: alerts are rate limited).
    public var anomalies: [AnomalyID: UInt64] = [:]
    /// Packets dropped because their source is blocked by a detection.
    public var blockedPackets: UInt64 = 0
    /// Packets dropped by an anomaly whose action is drop.
    public var anomalyDrops: UInt64 = 0

    public init() {}
}

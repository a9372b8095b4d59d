import SocfwWire

/// Which connections a snapshot includes. Every set field must match.
public struct ConnectionFilter: Sendable, Equatable {
    /// Either endpoint is inside this prefix.
    public var address: IPPrefix?
    /// Either endpoint uses this port.
    public var port: UInt16?
    /// State name as shown in `ConnectionSummary.state` (`ESTABLISHED`, `REPLIED`, ...), case-insensitive.
    public var state: String?
    public var protocolNumber: UInt8?

    public init(address: IPPrefix? = nil, port: UInt16? = nil, state: String? = nil, protocolNumber: UInt8? = nil) {
        self.address = address
        self.port = port
        self.state = state
        self.protocolNumber = protocolNumber
    }

    func matches(_ c: Connection) -> Bool {
        let (src, sport) = c.originalSource
        let (dst, dport) = c.originalDestination
        if let a = address, !a.contains(src) && !a.contains(dst) { return false }
        if let p = port, sport != p && dport != p { return false }
        if let s = state, c.stateName.lowercased() != s.lowercased() { return false }
        if let n = protocolNumber, c.protocolNumber != n { return false }
        return true
    }
}

/// One connection as shown to operators (control socket, SIGUSR1 dump).
public struct ConnectionSummary: Sendable, Equatable {
    public var flowID: UInt64
    public var protocolNumber: UInt8
    public var source: IPAddress
    public var sourcePort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var state: String
    public var packetsOriginal: UInt32
    public var packetsReply: UInt32
    public var bytesOriginal: UInt64
    public var bytesReply: UInt64
    public var firstSeenNanoseconds: Int64
    public var lastSeenNanoseconds: Int64
    public var bypassed: Bool

    public init(_ c: Connection) {
        flowID = c.flowID
        protocolNumber = c.protocolNumber
        (source, sourcePort) = c.originalSource
        (destination, destinationPort) = c.originalDestination
        state = c.stateName
        packetsOriginal = c.packetsOriginal
        packetsReply = c.packetsReply
        bytesOriginal = c.bytesOriginal
        bytesReply = c.bytesReply
        firstSeenNanoseconds = c.firstSeenNanoseconds
        lastSeenNanoseconds = c.lastSeenNanoseconds
        bypassed = c.bypassed
    }

    public var totalBytes: UInt64 { bytesOriginal &+ bytesReply }

    /// The order snapshots are shown in: most bytes first, then by flow id.
    public static func largestFirst(_ a: ConnectionSummary, _ b: ConnectionSummary) -> Bool {
        a.totalBytes > b.totalBytes || (a.totalBytes == b.totalBytes && a.flowID < b.flowID)
    }

    /// `TCP 198.18.1.2:41000 -> 198.18.2.2:80 ESTABLISHED pkts 5/3 bytes 377/1020`.
    public var line: String {
        func endpoint(_ a: IPAddress, _ p: UInt16) -> String {
            let tcpOrUDP = protocolNumber == IPProtocolNumber.tcp || protocolNumber == IPProtocolNumber.udp
            guard tcpOrUDP else { return "\(a)" }
            return a.isV6 ? "[\(a)]:\(p)" : "\(a):\(p)"
        }
        return "\(EveJSON.protoName(protocolNumber)) \(endpoint(source, sourcePort)) -> \(endpoint(destination, destinationPort))"
            + " \(state)\(bypassed ? " BYPASSED" : "") pkts \(packetsOriginal)/\(packetsReply) bytes \(bytesOriginal)/\(bytesReply)"
    }
}

extension ConnectionTracker {
    /// Connections matching `filter`, largest (bytes both ways) first, at
    /// most `limit`. Walks the table: for operators, not the packet path.
    public func snapshot(filter: ConnectionFilter = ConnectionFilter(), limit: Int) -> [ConnectionSummary] {
        var out: [ConnectionSummary] = []
        table.forEach { _, c in
            if filter.matches(c) { out.append(ConnectionSummary(c)) }
        }
        out.sort(by: ConnectionSummary.largestFirst)
        return Array(out.prefix(max(0, limit)))
    }
}

import ArgumentParser

/// `socfwctl conns`: the tracked connections, largest (bytes both ways) first.
struct ConnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conns",
        abstract: "List tracked connections, largest first, optionally filtered.",
        discussion: "Packets and bytes are shown as original/reply (from the initiator / towards it)."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Either endpoint inside this address or prefix (198.18.0.0/15).", valueName: "prefix"))
    var address: String?

    @Option(name: .long, help: "Either endpoint uses this port.")
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("Connection state (ESTABLISHED, TIME_WAIT, ...), any case.", valueName: "state"))
    var state: String?

    @Option(name: .long, help: ArgumentHelp("Protocol name or number (tcp, udp, icmp, 47).", valueName: "protocol"))
    var `protocol`: String?

    @Option(name: .long, help: ArgumentHelp("Show at most this many connections (socfwd's default: 50).", valueName: "n"))
    var top: Int?

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be 0-65535") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        var params: [String: JSONValue] = [:]
        if let address { params["address"] = .string(address) }
        if let port { params["port"] = .int(Int64(port)) }
        if let state { params["state"] = .string(state) }
        if let p = `protocol` { params["protocol"] = .string(p.lowercased()) }
        if let top { params["limit"] = .int(Int64(top)) }
        options.show(try options.request("conns.list", params), text: Self.table)
    }

    static func table(_ result: JSONValue) -> String {
        let connections = result["connections"]?.array ?? []
        guard !connections.isEmpty else { return "no connections" }
        var table = TextTable([
            .left("PROTO"), .left("SOURCE"), .left("DESTINATION"), .left("STATE"), .right("PACKETS"), .right("BYTES"), .right("AGE"),
        ])
        for c in connections {
            let proto = protocolName(c.first("proto", "protocol"))
            var state = c["state"]?.displayText ?? "-"
            if c["bypassed"]?.bool == true { state += " bypassed" }
            table.append([
                proto,
                endpoint(c.first("src_ip", "source"), c.first("src_port", "source_port")),
                endpoint(c.first("dest_ip", "dst_ip", "destination"), c.first("dest_port", "dst_port", "destination_port")),
                state,
                Format.count(c.first("pkts_toserver", "packets_original") ?? c["packets", "original"])
                    + "/" + Format.count(c.first("pkts_toclient", "packets_reply") ?? c["packets", "reply"]),
                Format.bytes(c.first("bytes_toserver", "bytes_original") ?? c["bytes", "original"])
                    + " / " + Format.bytes(c.first("bytes_toclient", "bytes_reply") ?? c["bytes", "reply"]),
                Format.duration(seconds: c["age_s"]),
            ])
        }
        return table.rendered + "\n\n\(Format.count(connections.count, "connection")), largest first"
    }

    /// The server's name (`TCP`, `IPv6-ICMP`); a bare number for the common protocols named here.
    static func protocolName(_ value: JSONValue?) -> String {
        let names: [Int64: String] = [1: "ICMP", 6: "TCP", 17: "UDP", 58: "IPv6-ICMP"]
        return value?.int.map { names[$0] ?? String($0) } ?? value?.displayText ?? "-"
    }

    /// `198.18.1.2:41000`, `[fd53::2]:80`; an address alone when there is no port.
    static func endpoint(_ address: JSONValue?, _ port: JSONValue?) -> String {
        let a = address?.displayText ?? "-"
        guard let port, port != .null else { return a }
        return a.contains(":") ? "[\(a)]:\(port.displayText)" : "\(a):\(port.displayText)"
    }
}

extension JSONValue {
    /// The first of `keys` present: the protocol document does not name a connection's fields; socfwd
    /// uses EVE's (`src_ip`, `dest_port`, `pkts_toserver`), and the ConnectionSummary names are accepted too.
    func first(_ keys: String...) -> JSONValue? {
        keys.lazy.compactMap { self[$0] }.first
    }
}

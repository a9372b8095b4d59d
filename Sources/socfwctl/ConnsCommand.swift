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
        if let p = `protocol` { params["protocol"] = Int64(p).map(JSONValue.int) ?? .string(p.lowercased()) }
        if let top { params["limit"] = .int(Int64(top)) }
        options.show(try options.request("conns.list", params), text: Self.table)
    }

    static func table(_ result: JSONValue) -> String {
        let connections = result["connections"]?.array ?? []
        guard !connections.isEmpty else { return "no connections" }
        var table = TextTable([.left("PROTO"), .left("SOURCE"), .left("DESTINATION"), .left("STATE"), .right("PACKETS"), .right("BYTES")])
        for c in connections {
            let proto = protocolName(c.first("protocol", "proto", "protocol_number"))
            var state = c["state"]?.displayText ?? "-"
            if c["bypassed"]?.bool == true { state += " bypassed" }
            table.append([
                proto,
                endpoint(c.first("src_ip", "source", "src_addr", "src"), c.first("src_port", "source_port", "sport")),
                endpoint(c.first("dst_ip", "dest_ip", "destination", "dst_addr", "dst"), c.first("dst_port", "dest_port", "destination_port", "dport")),
                state,
                Format.count(c.first("packets_original", "pkts_toserver") ?? c["packets", "original"])
                    + "/" + Format.count(c.first("packets_reply", "pkts_toclient") ?? c["packets", "reply"]),
                Format.bytes(c.first("bytes_original", "bytes_toserver") ?? c["bytes", "original"])
                    + " / " + Format.bytes(c.first("bytes_reply", "bytes_toclient") ?? c["bytes", "reply"]),
            ])
        }
        return table.rendered + "\n\n\(Format.count(connections.count, "connection")), largest first"
    }

    static func protocolName(_ value: JSONValue?) -> String {
        switch value?.int {
        case 1?: return "ICMP"
        case 6?: return "TCP"
        case 17?: return "UDP"
        case 58?: return "ICMPv6"
        case let n?: return String(n)
        case nil: return value?.string?.uppercased().replacingOccurrences(of: "ICMPV6", with: "ICMPv6") ?? "-"
        }
    }

    /// `198.18.1.2:41000`, `[fd53::2]:80`; an address alone when there is no port.
    static func endpoint(_ address: JSONValue?, _ port: JSONValue?) -> String {
        let a = address?.displayText ?? "-"
        guard let port, port != .null else { return a }
        return a.contains(":") ? "[\(a)]:\(port.displayText)" : "\(a):\(port.displayText)"
    }
}

extension JSONValue {
    /// The first of `keys` present: field names the protocol document leaves open.
    func first(_ keys: String...) -> JSONValue? {
        keys.lazy.compactMap { self[$0] }.first
    }
}

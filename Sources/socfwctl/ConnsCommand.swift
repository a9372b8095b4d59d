import ArgumentParser

/// `socfwctl conns`: the tracked connections, largest (bytes both ways) first.
/// A connection's fields are EVE's: `proto`, `src_ip`, `dest_port`, `pkts_toserver`, `age_s`, ...
struct ConnsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conns",
        abstract: "List tracked connections, largest first, optionally filtered.",
        discussion: "Packets and bytes are shown as to server / to client (from the initiator / towards it), as in EVE."
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
            var state = c["state"]?.displayText ?? "-"
            if c["bypassed"]?.bool == true { state += " bypassed" }
            table.append([
                c["proto"]?.displayText ?? "-",
                endpoint(c["src_ip"], c["src_port"]),
                endpoint(c["dest_ip"], c["dest_port"]),
                state,
                "\(Format.count(c["pkts_toserver"]))/\(Format.count(c["pkts_toclient"]))",
                "\(Format.bytes(c["bytes_toserver"])) / \(Format.bytes(c["bytes_toclient"]))",
                Format.duration(seconds: c["age_s"]),
            ])
        }
        return table.rendered + "\n\n\(Format.count(connections.count, "connection")), largest first"
    }

    /// `198.18.1.2:41000`, `[fd53::2]:80`; an address alone when there is no port.
    static func endpoint(_ address: JSONValue?, _ port: JSONValue?) -> String {
        let a = address?.displayText ?? "-"
        guard let port, port != .null else { return a }
        return a.contains(":") ? "[\(a)]:\(port.displayText)" : "\(a):\(port.displayText)"
    }
}

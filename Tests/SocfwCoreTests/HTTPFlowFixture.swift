import Foundation
import SocfwCore
import SocfwIDS
import SocfwWire

/// A TCP connection replayed through a `Pipeline` with connection tracking:
/// handshake, then client segments (each acknowledged by the server), so the
/// signatures see the stream and the HTTP parser the requests.
struct TCPFlowFixture {
    var client = "192.0.2.10"
    var server = "198.51.100.20"
    var clientPort: UInt16 = 40123
    var serverPort: UInt16 = 80
    var clientSeq: UInt32 = 1000
    var serverSeq: UInt32 = 5000
    var now: Int64 = 1_700_000_000_000_000_000

    static func segment(_ src: String, _ dst: String, sport: UInt16, dport: UInt16, flags: UInt8, seq: UInt32,
                        ack: UInt32, payload: [UInt8] = []) -> [UInt8] {
        let s = IPAddress(src)!, d = IPAddress(dst)!
        var tcp = [UInt8](repeating: 0, count: 20)
        tcp[0] = UInt8(sport >> 8); tcp[1] = UInt8(sport & 0xff); tcp[2] = UInt8(dport >> 8); tcp[3] = UInt8(dport & 0xff)
        for k in 0..<4 {
            tcp[4 + k] = UInt8(truncatingIfNeeded: seq >> (24 - 8 * UInt32(k)))
            tcp[8 + k] = UInt8(truncatingIfNeeded: ack >> (24 - 8 * UInt32(k)))
        }
        tcp[12] = 0x50; tcp[13] = flags; tcp[14] = 0xff; tcp[15] = 0xff
        return ipPacket(s, d, proto: 6, l4: tcp + payload)
    }

    /// Runs the handshake; returns the verdicts.
    mutating func open(_ pipeline: inout Pipeline, emit: (Event) -> Void = { _ in }) -> [Verdict] {
        var verdicts: [Verdict] = []
        verdicts.append(run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort,
                                                               flags: 0x02, seq: clientSeq, ack: 0), emit))
        verdicts.append(run(&pipeline, TCPFlowFixture.segment(server, client, sport: serverPort, dport: clientPort,
                                                               flags: 0x12, seq: serverSeq, ack: clientSeq + 1), emit))
        clientSeq += 1
        serverSeq += 1
        verdicts.append(run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort,
                                                               flags: 0x10, seq: clientSeq, ack: serverSeq), emit))
        return verdicts
    }

    /// Sends `data` from the client in segments of `segmentSize`; returns the verdict of each.
    mutating func send(_ data: [UInt8], segmentSize: Int = 1400, _ pipeline: inout Pipeline,
                       emit: (Event) -> Void = { _ in }) -> [Verdict] {
        var verdicts: [Verdict] = []
        var offset = 0
        while offset < data.count {
            let chunk = Array(data[offset..<min(data.count, offset + segmentSize)])
            verdicts.append(run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort,
                                                                   flags: 0x18, seq: clientSeq, ack: serverSeq,
                                                                   payload: chunk), emit))
            clientSeq &+= UInt32(chunk.count)
            offset += chunk.count
            // The server acknowledges.
            _ = run(&pipeline, TCPFlowFixture.segment(server, client, sport: serverPort, dport: clientPort, flags: 0x10,
                                                       seq: serverSeq, ack: clientSeq), emit)
        }
        return verdicts
    }

    /// Closes the connection: the client's FIN, the server's FIN, the client's last ACK.
    mutating func close(_ pipeline: inout Pipeline, emit: (Event) -> Void = { _ in }) {
        _ = run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort, flags: 0x11,
                                                   seq: clientSeq, ack: serverSeq), emit)
        clientSeq &+= 1
        _ = run(&pipeline, TCPFlowFixture.segment(server, client, sport: serverPort, dport: clientPort, flags: 0x11,
                                                   seq: serverSeq, ack: clientSeq), emit)
        serverSeq &+= 1
        _ = run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort, flags: 0x10,
                                                   seq: clientSeq, ack: serverSeq), emit)
    }

    /// Resets the connection from the client.
    mutating func reset(_ pipeline: inout Pipeline, emit: (Event) -> Void = { _ in }) {
        _ = run(&pipeline, TCPFlowFixture.segment(client, server, sport: clientPort, dport: serverPort, flags: 0x14,
                                                   seq: clientSeq, ack: serverSeq), emit)
    }

    mutating func run(_ pipeline: inout Pipeline, _ packet: [UInt8], _ emit: (Event) -> Void) -> Verdict {
        now += 1_000_000
        return packet.withUnsafeBytes { pipeline.process($0, timestampNanoseconds: now, emit: emit).verdict }
    }

    /// A pipeline with connection tracking, no rules (accept) and `set`.
    static func pipeline(_ set: SignatureSet) -> Pipeline {
        var p = Pipeline(ruleSet: RuleSet(rules: [], defaultAction: .allow), malformedAction: .drop,
                         conntrack: ConntrackConfig(), connectionCapacity: 4096)
        p.installSignatures(set, config: InspectionConfig(), flowCapacity: 4096)
        return p
    }
}

enum HTTPRequests {
    static func get(_ target: String, headers: String = "") -> [UInt8] {
        Array("GET \(target) HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.5.0\r\n\(headers)Accept: */*\r\n\r\n".utf8)
    }

    static func post(_ target: String, body: [UInt8], contentType: String = "application/x-www-form-urlencoded") -> [UInt8] {
        Array("POST \(target) HTTP/1.1\r\nHost: shop.example\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    /// A request that puts `payload` where a signature on `field` looks.
    static func carrying(_ payload: [UInt8], in field: SignatureBuffer) -> [UInt8] {
        switch field {
        case .httpURI, .httpRawURI:
            // Request targets cannot contain spaces on the wire.
            let text = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: " ", with: "%20")
            return get(text)
        case .httpHeader, .httpRawHeader:
            return get("/", headers: String(decoding: payload, as: UTF8.self))
        case .httpClientBody:
            return post("/submit", body: payload)
        default:
            return payload
        }
    }
}

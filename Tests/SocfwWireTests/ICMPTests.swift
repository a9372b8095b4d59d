import Testing
import SocfwWire

@Suite("ICMPv4Message and ICMPv6Message")
struct ICMPTests {
    @Test("ICMPv4 echo request fields and checksum")
    func icmpv4Echo() throws {
        try Fixtures.ipv4ICMPEcho.withUnsafeBytes { buffer in
            let message = try ICMPv4Message(checking: try IPv4Packet(checking: buffer).payload)
            #expect(message.type == ICMPv4Type.echoRequest)
            #expect(message.code == 0)
            #expect(message.checksum == 0x7d96)
            #expect(message.restOfHeader == 0x1f2e_0001)
            #expect(message.identifier == 0x1f2e)
            #expect(message.sequenceNumber == 1)
            #expect(message.isError == false)
            #expect(message.payload.count == 56)
            #expect(message.verifyChecksum())
        }
    }

    @Test("ICMPv6 echo request fields and checksum over the pseudo header")
    func icmpv6Echo() throws {
        try Fixtures.ipv6ICMPv6Echo.withUnsafeBytes { buffer in
            let packet = try IPv6Packet(checking: buffer)
            let message = try ICMPv6Message(checking: packet.payload)
            #expect(message.type == ICMPv6Type.echoRequest)
            #expect(message.code == 0)
            #expect(message.identifier == 0x2a2a)
            #expect(message.sequenceNumber == 3)
            #expect(message.isError == false)
            #expect(message.payload.count == 56)
            #expect(message.verifyChecksum(source: packet.source, destination: packet.destination))
            #expect(message.verifyChecksum(source: packet.destination, destination: ip("2001:db8::99")) == false)
        }
    }

    @Test("a captured neighbor solicitation verifies")
    func neighborSolicitation() throws {
        try Fixtures.ipv6ICMPv6NeighborSolicitation.withUnsafeBytes { buffer in
            let packet = try IPv6Packet(checking: buffer)
            let message = try ICMPv6Message(checking: packet.payload)
            #expect(message.type == ICMPv6Type.neighborSolicitation)
            #expect(message.checksum == 0x1eba)
            #expect(message.verifyChecksum(source: packet.source, destination: packet.destination))
        }
    }

    @Test("ICMPv4 error types", arguments: [
        (UInt8(0), false), (3, true), (4, true), (5, true), (8, false), (9, false), (10, false),
        (11, true), (12, true), (13, false), (14, false), (255, false),
    ])
    func icmpv4ErrorTypes(_ type: UInt8, _ isError: Bool) {
        #expect(ICMPv4Type.isError(type) == isError)
    }

    @Test("ICMPv6 error types are those below 128", arguments: [
        (UInt8(0), true), (1, true), (2, true), (3, true), (4, true), (127, true),
        (128, false), (129, false), (135, false), (137, false), (255, false),
    ])
    func icmpv6ErrorTypes(_ type: UInt8, _ isError: Bool) {
        #expect(ICMPv6Type.isError(type) == isError)
    }

    @Test("headers shorter than 8 bytes are truncated")
    func truncated() {
        let short: [UInt8] = [8, 0, 0, 0, 0]
        #expect(outcome(short) { buffer throws(WireError) in try ICMPv4Message(checking: buffer) }
                == .truncated(layer: .icmp, needed: 8, available: 5))
        #expect(outcome(short) { buffer throws(WireError) in try ICMPv6Message(checking: buffer) }
                == .truncated(layer: .icmpv6, needed: 8, available: 5))
    }

    @Test("emitHeader and fillChecksum produce messages that verify")
    func emitRoundTrip() throws {
        var v4 = [UInt8](repeating: 0x5a, count: 12)
        v4.withUnsafeMutableBytes { buffer in
            ICMPv4Message.emitHeader(into: buffer, type: ICMPv4Type.timeExceeded, code: 0)
            ICMPv4Message.fillChecksum(in: buffer)
        }
        try v4.withUnsafeBytes { buffer in
            let message = try ICMPv4Message(checking: buffer)
            #expect(message.isError)
            #expect(message.restOfHeader == 0)
            #expect(message.verifyChecksum())
        }
        let source = ip("2001:db8::1")
        let destination = ip("2001:db8::2")
        var v6 = [UInt8](repeating: 0x5a, count: 13)
        v6.withUnsafeMutableBytes { buffer in
            ICMPv6Message.emitHeader(into: buffer, type: ICMPv6Type.packetTooBig, code: 0, restOfHeader: 1280)
            ICMPv6Message.fillChecksum(in: buffer, source: source, destination: destination)
        }
        try v6.withUnsafeBytes { buffer in
            let message = try ICMPv6Message(checking: buffer)
            #expect(message.restOfHeader == 1280)
            #expect(message.verifyChecksum(source: source, destination: destination))
        }
    }
}

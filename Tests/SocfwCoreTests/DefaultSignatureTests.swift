import Foundation
import SocfwCore
import SocfwIDS
import Testing

/// The built-in seed set: every signature catches its example payloads,
/// sent as real HTTP requests over a tracked TCP connection, and lets its
/// look-alike benign payloads (and ordinary traffic) through.
@Suite struct DefaultSignatureTests {
    static let seeds = try! SeedSignatureLoader.parse(yaml: DefaultSignatures.yaml, file: DefaultSignatures.file)
    static let set = try! SignatureSet(specs: seeds.flatMap(\.specs))

    /// Sends `request` on a fresh connection; returns the sids that alerted and the request's verdicts.
    static func replay(_ request: [UInt8], segmentSize: Int = 1400) -> (sids: Set<UInt32>, verdicts: [Verdict]) {
        var pipeline = TCPFlowFixture.pipeline(set)
        var flow = TCPFlowFixture()
        var sids = Set<UInt32>()
        let emit: (Event) -> Void = { e in if let hit = e.signature { sids.insert(hit.info.sid) } }
        _ = flow.open(&pipeline, emit: emit)
        let verdicts = flow.send(request, segmentSize: segmentSize, &pipeline, emit: emit)
        return (sids, verdicts)
    }

    @Test func theDefaultSetLoadsAndCoversEveryAttackClass() {
        #expect(Self.set.skipped.isEmpty, "\(Self.set.skipped)")
        let names = Self.seeds.map { $0.specs[0].message.lowercased() }
        for attack in ["sql injection", "xss", "directory traversal", "command injection", "log4shell", "shellshock"] {
            #expect(names.contains { $0.contains(attack) }, "no default signature for \(attack)")
        }
        #expect(Self.seeds.allSatisfy { !$0.examples.isEmpty && !$0.benign.isEmpty })
        // Every one has a prefilter literal: ordinary requests run no regular expression.
        #expect(Self.set.alwaysEvaluated == 0)
    }

    @Test(arguments: seeds.flatMap { seed in seed.examples.map { (seed.specs[0].sid, seed.field, $0) } })
    func everyExampleIsCaughtAndBlocked(sid: UInt32, field: SignatureBuffer, payload: [UInt8]) {
        let request = HTTPRequests.carrying(payload, in: field)
        let r = Self.replay(request)
        #expect(r.sids.contains(sid), "sid \(sid) missed \(String(decoding: payload, as: UTF8.self))")
        #expect(r.verdicts.last == .drop, "sid \(sid) did not drop \(String(decoding: payload, as: UTF8.self))")
    }

    @Test(arguments: seeds.flatMap { seed in seed.benign.map { (seed.specs[0].sid, seed.field, $0) } })
    func benignLookAlikesRaiseNoAlert(sid: UInt32, field: SignatureBuffer, payload: [UInt8]) {
        let r = Self.replay(HTTPRequests.carrying(payload, in: field))
        #expect(r.sids.isEmpty, "benign payload for \(sid) raised \(r.sids): \(String(decoding: payload, as: UTF8.self))")
        #expect(r.verdicts.allSatisfy { $0 == .accept })
    }

    /// Ordinary browser, API and form traffic.
    static let ordinaryRequests: [[UInt8]] = [
        HTTPRequests.get("/"),
        HTTPRequests.get("/index.html?utm_source=newsletter&utm_medium=email"),
        HTTPRequests.get("/search?q=select+a+union+rep&page=2"),
        HTTPRequests.get("/api/v2/users/42/orders?sort=-created_at&limit=50"),
        HTTPRequests.get("/static/js/app.3f9a1c.js", headers: "Referer: https://shop.example/cart\r\nCookie: session=ab12; theme=dark\r\n"),
        HTTPRequests.get("/wiki/Shell_(computing)", headers: "Accept-Language: en-GB,en;q=0.9\r\n"),
        HTTPRequests.post("/login", body: Array("username=alice&password=correct+horse+battery+staple".utf8)),
        HTTPRequests.post("/api/comments", body: Array("{\"text\":\"Great post; I'd select this one. Cat & dog lovers unite!\"}".utf8),
                          contentType: "application/json"),
        HTTPRequests.post("/upload", body: [UInt8](repeating: 0x41, count: 5000)),
    ]

    @Test(arguments: ordinaryRequests)
    func ordinaryTrafficPasses(request: [UInt8]) {
        let r = Self.replay(request)
        #expect(r.sids.isEmpty, "\(String(decoding: request.prefix(80), as: UTF8.self)) raised \(r.sids)")
    }

    @Test func anAttackSplitAcrossTwoSegmentsIsStillCaught() {
        let request = HTTPRequests.get("/item.php?id=1%20UNION%20SELECT%20password%20FROM%20users")
        // Cut inside "UNION".
        let cut = request.firstIndex(of: UInt8(ascii: "N"))! + 2
        let r = Self.replay(request, segmentSize: cut)
        #expect(r.sids.contains(9_000_001))
        #expect(r.verdicts.count >= 2 && r.verdicts.last == .drop && r.verdicts.first == .accept)
    }
}

@Suite struct InspectorFlowLifetimeTests {
    @Test func streamStateIsFreedWhenTheTrackerEndsTheFlow() throws {
        var spec = SignatureSpec(action: .alert, proto: .tcp, sid: 1, message: "stream", origin: SignatureOrigin(file: "t", line: 1))
        spec.steps = [.content(ContentMatch(bytes: Array("never-present".utf8)))]
        var pipeline = TCPFlowFixture.pipeline(try SignatureSet(specs: [spec]))
        var flow = TCPFlowFixture()
        _ = flow.open(&pipeline)
        _ = flow.send(Array(repeating: 0x61, count: 3000), &pipeline)
        #expect(pipeline.inspector!.streamCounters.activeBuffers == 1)
        // Long after every timeout: the flow expires and its buffer goes with it.
        pipeline.expireFlows(now: flow.now + 10 * 86_400 * 1_000_000_000, budget: 10_000) { _ in }
        #expect(pipeline.tracker!.counters.active == 0)
        #expect(pipeline.inspector!.streamCounters.activeBuffers == 0)
    }
}

extension InspectorFlowLifetimeTests {
    /// A closed connection (both FINs and the last ACK, or a RST) gives its
    /// parser and reassembly buffers back at once, not when TIME_WAIT
    /// expires: the next connection reuses them.
    @Test(arguments: [false, true])
    func aClosedConnectionGivesItsStateBackAtOnce(byReset: Bool) throws {
        var spec = SignatureSpec(action: .alert, proto: .tcp, sid: 1, message: "stream", origin: SignatureOrigin(file: "t", line: 1))
        spec.steps = [.content(ContentMatch(bytes: Array("never-present".utf8)))]
        var pipeline = TCPFlowFixture.pipeline(try SignatureSet(specs: [spec] + DefaultSignatureTests.seeds.flatMap(\.specs)))
        for port in UInt16(41000)..<41003 {
            var flow = TCPFlowFixture()
            flow.clientPort = port
            _ = flow.open(&pipeline)
            #expect(flow.send(HTTPRequests.get("/index.html"), &pipeline) == [.accept])
            #expect(pipeline.inspector!.flowStatesInUse == 1)
            #expect(pipeline.inspector!.streamCounters.activeBuffers == 1)
            if byReset { flow.reset(&pipeline) } else { flow.close(&pipeline) }
            #expect(pipeline.inspector!.flowStatesInUse == 0, "port \(port)")
            #expect(pipeline.inspector!.streamCounters.activeBuffers == 0)
            // Still tracked (TIME_WAIT / closed), not yet expired.
            #expect(pipeline.tracker!.counters.active == Int(port - 41000) + 1)
        }
        // A late retransmission of a closed connection is inspected afresh.
        var late = TCPFlowFixture()
        late.clientPort = 41000
        _ = late.run(&pipeline, TCPFlowFixture.segment(late.client, late.server, sport: late.clientPort, dport: late.serverPort,
                                                        flags: 0x18, seq: late.clientSeq + 1,
                                                        ack: late.serverSeq + 1, payload: Array("x".utf8)), { _ in })
        #expect(pipeline.inspector!.counters.packets > 0)
    }

    /// An attack on a connection that then closes is still caught and the
    /// flow still blocked: the early release comes after inspection.
    @Test func anAttackInTheLastSegmentIsStillCaught() {
        var pipeline = TCPFlowFixture.pipeline(DefaultSignatureTests.set)
        var flow = TCPFlowFixture()
        _ = flow.open(&pipeline)
        #expect(flow.send(HTTPRequests.get("/x?id=1%20UNION%20SELECT%20pw%20FROM%20users"), &pipeline) == [.drop])
        flow.close(&pipeline)
        #expect(pipeline.inspector!.flowStatesInUse == 0)
        #expect(pipeline.counters.signatureBlocked >= 1)
    }
}

@Suite struct BlockedFlowTests {
    @Test func afterADropEveryLaterPacketOfTheFlowIsDroppedInBothDirections() {
        var pipeline = TCPFlowFixture.pipeline(DefaultSignatureTests.set)
        var flow = TCPFlowFixture()
        _ = flow.open(&pipeline)
        let verdicts = flow.send(HTTPRequests.get("/x?id=1%20UNION%20SELECT%20pw%20FROM%20users"), &pipeline)
        #expect(verdicts == [.drop])
        // The server's data (a direction the default set never inspects) and
        // the client's retransmission: both dropped, and counted.
        let fromServer = TCPFlowFixture.segment(flow.server, flow.client, sport: flow.serverPort, dport: flow.clientPort,
                                                flags: 0x18, seq: flow.serverSeq, ack: flow.clientSeq,
                                                payload: Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        #expect(flow.run(&pipeline, fromServer, { _ in }) == .drop)
        let retransmit = TCPFlowFixture.segment(flow.client, flow.server, sport: flow.clientPort, dport: flow.serverPort,
                                                flags: 0x10, seq: flow.clientSeq, ack: flow.serverSeq)
        #expect(flow.run(&pipeline, retransmit, { _ in }) == .drop)
        #expect(pipeline.counters.signatureBlocked >= 3)
        // Another connection is not affected.
        var other = TCPFlowFixture()
        other.clientPort = 40999
        _ = other.open(&pipeline)
        #expect(other.send(HTTPRequests.get("/fine"), &pipeline) == [.accept])
    }
}

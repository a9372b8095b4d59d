import SocfwIDS
import Testing

/// `segment(..., window: false)`: for consumers that want the bytes in order
/// but keep their own state (the HTTP parser).
@Suite struct StreamNoWindowTests {
    func feed(_ r: StreamReassembler, seq: UInt32, _ text: String, syn: Bool = false) -> String? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { p in
            r.segment(slot: 1, flowID: 9, newFlow: false, direction: .toServer, sequence: seq, syn: syn, fin: false,
                      rst: false, payload: p, window: false)
                .map { String(decoding: UnsafeRawBufferPointer(rebasing: $0.bytes[$0.newDataStart...]), as: UTF8.self) }
        }
    }

    @Test func inOrderDataIsHandedOutWithoutBuffering() {
        let r = StreamReassembler(config: StreamConfig(), flowCapacity: 16)
        _ = feed(r, seq: 99, "", syn: true)
        #expect(feed(r, seq: 100, "GET / HT") == "GET / HT")
        #expect(feed(r, seq: 108, "TP/1.1\r\n") == "TP/1.1\r\n")
        #expect(r.counters.activeBuffers == 0)
        // A retransmission of old data brings nothing new.
        #expect(feed(r, seq: 100, "GET / HT") == nil)
    }

    @Test func outOfOrderDataIsStillHeldAndDeliveredInOrder() {
        let r = StreamReassembler(config: StreamConfig(), flowCapacity: 16)
        _ = feed(r, seq: 99, "", syn: true)
        #expect(feed(r, seq: 100, "abc") == "abc")
        #expect(feed(r, seq: 106, "ghi") == nil)          // ahead of a gap: held
        #expect(r.counters.activeBuffers == 1)
        #expect(feed(r, seq: 103, "def") == "defghi")     // fills it: both come out in order
        #expect(feed(r, seq: 109, "jkl") == "jkl")
    }
}

import Foundation
import SocfwCapture

/// The JSON summary `socfwd --pcap FILE` prints.
public struct ReplaySummary: Sendable {
    public var file: String
    public var counters: PipelineCounters
    public var records: Int
    public var seconds: Double

    public var packetsPerSecond: Double { seconds > 0 ? Double(counters.packets) / seconds : 0 }

    public var json: String {
        var errors = counters.parseErrors.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
            .joined(separator: ",")
        errors = "{\(errors)}"
        return "{\"file\":\"\(EveJSON.escape(file))\",\"records\":\(records),\"packets\":\(counters.packets)"
            + ",\"bytes\":\(counters.bytes),\"non_ip\":\(counters.nonIP)"
            + ",\"verdicts\":{\"accept\":\(counters.accepted),\"drop\":\(counters.dropped),\"reject\":\(counters.rejected)}"
            + ",\"malformed\":\(counters.malformed),\"parse_errors\":\(errors),\"events\":\(counters.events)"
            + ",\"seconds\":\(String(format: "%.6f", seconds)),\"packets_per_second\":\(Int(packetsPerSecond))}"
    }
}

/// Offline mode: runs a capture through the same pipeline as the queues.
public enum OfflineReplay {
    public static func run(capture: CaptureFile, name: String, pipeline: inout Pipeline,
                           eve: EveWriter?) throws(CaptureError) -> ReplaySummary {
        var records = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var failure: CaptureError? = nil
        do {
            try capture.forEachRecord { record, frame in
                records += 1
                guard let network = LinkLayer.networkLayer(of: frame, linkType: record.linkType) else {
                    pipeline.counters.nonIP &+= 1
                    return
                }
                let packet = UnsafeRawBufferPointer(rebasing: frame[network.offset...])
                let missing = record.originalLength - record.capturedLength
                let wireLength = missing > 0 ? packet.count + missing : nil
                _ = pipeline.process(packet, wireLength: wireLength, timestampNanoseconds: record.timestampNanoseconds) {
                    eve?.write($0)
                }
            }
        } catch {
            failure = error
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        eve?.flush()
        if let failure { throw failure }
        return ReplaySummary(file: name, counters: pipeline.counters, records: records, seconds: seconds)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import SocfwCapture

/// tcpdump's path, if installed.
private let tcpdumpPath: String? = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/usr/local/bin/tcpdump"]
    .first { access($0, X_OK) == 0 }

/// Capturing needs CAP_NET_RAW; without it tcpdump cannot open `lo`.
private let canCapture = tcpdumpPath != nil && geteuid() == 0

/// A UDP socket bound to 127.0.0.1 on a free port, and a way to send to it.
/// Everything stays on loopback.
private struct LoopbackUDP {
    let receiver: Int32
    let sender: Int32
    let port: UInt16

    init() throws {
        let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard receiver >= 0, sender >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(receiver, pointer, length) == 0 && getsockname(receiver, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        self.receiver = receiver
        self.sender = sender
        port = UInt16(bigEndian: address.sin_port)
    }

    func send(_ payload: [UInt8]) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = port.bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                payload.withUnsafeBytes {
                    sendto(sender, $0.baseAddress, $0.count, 0, pointer, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    func closeSockets() {
        _ = close(receiver)
        _ = close(sender)
    }
}

@Suite struct TcpdumpTests {
    static let packetCount = 4
    static let marker = Array("socfw-capture-test".utf8)

    @Test("captures written by tcpdump on loopback, microsecond and nanosecond, read back correctly",
          .enabled(if: canCapture, "needs tcpdump and root"), .timeLimit(.minutes(1)))
    func tcpdumpLoopbackCaptures() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        chmod(directory.path, 0o777)  // tcpdump may drop to its own user before opening -w
        let udp = try LoopbackUDP()
        defer { udp.closeSockets() }
        let filter = "udp and dst host 127.0.0.1 and dst port \(udp.port)"
        let micro = directory.file("micro.pcap"), nano = directory.file("nano.pcap")

        let started = Int64(Date().timeIntervalSince1970 * 1e9)
        var processes: [Process] = []
        for (path, extra) in [(micro, [String]()), (nano, ["--time-stamp-precision=nano"])] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tcpdumpPath!)
            process.arguments = ["-i", "lo", "-n", "-U", "-c", "\(Self.packetCount)", "-w", path] + extra + [filter]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        // Send until both have their packets: each starts listening when it
        // is ready, so a fixed number of datagrams could be missed.
        let deadline = Date().addingTimeInterval(20)
        var sequence = 0
        while processes.contains(where: \.isRunning) && Date() < deadline {
            udp.send(Self.marker + Array(String(sequence).utf8))
            sequence += 1
            usleep(20_000)
        }
        for process in processes where process.isRunning { process.terminate() }
        for process in processes { process.waitUntilExit() }
        let finished = Int64(Date().timeIntervalSince1970 * 1e9)
        for process in processes {
            #expect(process.terminationStatus == 0, "tcpdump exited with \(process.terminationStatus)")
        }

        for (path, nanosecond) in [(micro, false), (nano, true)] {
            let file = try CaptureFile(path: path)
            #expect(file.format == .pcap)
            let magic = file.bytes.prefix(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            #expect(magic == (nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4), "\(path)")
            var count = 0
            try file.forEachRecord { record, frame in
                count += 1
                #expect(record.linkType == .ethernet)  // Linux lo is DLT_EN10MB
                #expect(record.capturedLength == record.originalLength)
                #expect(record.timestampNanoseconds >= started - 1_000_000_000
                        && record.timestampNanoseconds <= finished + 1_000_000_000)
                if !nanosecond { #expect(record.timestampNanoseconds % 1_000 == 0) }
                guard let network = LinkLayer.networkLayer(of: frame, linkType: record.linkType) else {
                    Issue.record("record \(record.index) is not IP")
                    return
                }
                #expect(network == NetworkLayer(offset: 14, ipVersion: 4))
                let headerLength = Int(frame[network.offset] & 0x0F) * 4
                #expect(frame[network.offset + 9] == 17)  // UDP
                let payload = Array(frame[(network.offset + headerLength + 8)...])
                #expect(payload.starts(with: Self.marker))
            }
            #expect(count == Self.packetCount, "\(path)")
        }
    }
}

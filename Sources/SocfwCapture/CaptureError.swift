#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong while reading or writing a capture file.
///
/// Every case carries enough context to find the problem with a hex dump:
/// the byte offset in the file and, for records, the 0-based packet number.
/// For a pcapng block that is not a packet (a section header, an interface
/// description, ...) `index` is the number the next packet would have had.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open(2)` or `read(2)` of the capture failed (including when opening a
    /// file for writing); `errno` is the system error number.
    case cannotOpen(path: String, errno: Int32)
    /// A writer's `write(2)` failed, for example `ENOSPC` on a full disk.
    case cannotWrite(path: String, errno: Int32)
    /// The file starts with neither a pcap magic number nor a pcapng Section
    /// Header Block type. `firstBytes` are the first four bytes read
    /// big-endian, so they print in the order they appear in a hex dump.
    case notACapture(firstBytes: UInt32)
    /// The file ends at byte `offset`, before its file header (pcap) or
    /// first Section Header Block (pcapng) is complete.
    case truncatedHeader(offset: Int)
    /// Record (or block) `index` starts at byte `offset` and needs `needed`
    /// bytes, but only `available` remain: the file was cut short.
    case truncatedRecord(index: Int, offset: Int, needed: Int, available: Int)
    /// Record (or block) `index` at byte `offset` is malformed: a captured
    /// length beyond any plausible snapshot length, a block length that is
    /// not a multiple of 4 or disagrees with its trailer, a packet naming an
    /// interface that was never described, and so on.
    case badRecord(index: Int, offset: Int, reason: String)
    /// The file or section announces a format version this reader does not
    /// understand (pcap accepts 2.0–2.4, pcapng 1.0–1.2).
    case unsupportedVersion(major: Int, minor: Int)

    /// One line of text naming the file offset and record number involved,
    /// e.g. `record 12 at byte 4096: truncated, needs 1514 bytes but only 80 remain`.
    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            return "cannot open '\(path)': \(Self.systemMessage(code)) (errno \(code))"
        case let .cannotWrite(path, code):
            return "cannot write '\(path)': \(Self.systemMessage(code)) (errno \(code))"
        case let .notACapture(firstBytes):
            return "not a pcap or pcapng file: bytes 0-3 are 0x\(Self.hex(firstBytes, digits: 8))"
        case let .truncatedHeader(offset):
            return "file header truncated: file ends at byte \(offset)"
        case let .truncatedRecord(index, offset, needed, available):
            return "record \(index) at byte \(offset): truncated, needs \(needed) bytes but only \(available) remain"
        case let .badRecord(index, offset, reason):
            return "record \(index) at byte \(offset): \(reason)"
        case let .unsupportedVersion(major, minor):
            return "unsupported capture format version \(major).\(minor)"
        }
    }

    static func hex(_ value: some BinaryInteger, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private static func systemMessage(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error" }
        return String(cString: message)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One record, described by offsets into the owning file's bytes (no copy).
public struct CaptureRecord: Equatable, Sendable {
    /// 0-based packet number: counts packet records only, not other pcapng blocks.
    public var index: Int
    /// Capture time in nanoseconds since the Unix epoch, converted from the
    /// file's resolution: pcap's microsecond or nanosecond magic, pcapng's
    /// `if_tsresol` (powers of 10 and of 2) plus `if_tsoffset`.
    public var timestampNanoseconds: Int64
    /// Link-layer type of the frame; for pcapng, that of the record's interface.
    public var linkType: LinkType
    /// Offset of the frame's first byte in `CaptureFile.bytes`.
    public var dataOffset: Int
    /// Bytes of the frame present in the file.
    public var capturedLength: Int
    /// Length of the frame on the wire; larger than `capturedLength` when
    /// the capture was cut at the snapshot length.
    public var originalLength: Int

    /// A record with the given fields (readers build these; tests compare them).
    @inlinable
    public init(
        index: Int, timestampNanoseconds: Int64, linkType: LinkType,
        dataOffset: Int, capturedLength: Int, originalLength: Int
    ) {
        self.index = index
        self.timestampNanoseconds = timestampNanoseconds
        self.linkType = linkType
        self.dataOffset = dataOffset
        self.capturedLength = capturedLength
        self.originalLength = originalLength
    }

    /// The frame's byte range in `CaptureFile.bytes`.
    @inlinable
    public var dataRange: Range<Int> { dataOffset..<(dataOffset + capturedLength) }
}

/// A whole capture file in memory, pcap or pcapng, validated at its header
/// and read record by record with `makeRecordIterator()`.
///
/// The file is read into one `[UInt8]` up front: offline-mode captures fit
/// in memory, and owning the bytes lets records be plain offsets into them
/// (no copy, no allocation per packet) and lets the class be `Sendable`
/// with only immutable state, so several iterators may walk it at once.
public final class CaptureFile: Sendable {
    /// The two container formats.
    public enum Format: Hashable, Sendable {
        /// libpcap's classic format (pcap-savefile(5), draft-ietf-opsawg-pcap).
        case pcap
        /// pcapng (draft-ietf-opsawg-pcapng).
        case pcapng
    }

    /// The file's complete contents; `CaptureRecord.dataOffset` indexes into it.
    public let bytes: [UInt8]
    /// Which container format the magic number announced.
    public let format: Format

    // The parsed header, copied into every new iterator.
    private let pcapStart: PcapReader?
    private let pcapngStart: PcapNGReader

    /// Reads the whole file at `path` (a regular file, pipe or device) and
    /// validates its header.
    public convenience init(path: String) throws(CaptureError) {
        try self.init(bytes: try Self.readWholeFile(path: path))
    }

    /// Validates the pcap file header or the first pcapng Section Header
    /// Block; records are checked as they are iterated.
    public init(bytes: [UInt8]) throws(CaptureError) {
        self.bytes = bytes
        let format: Format
        var pcapStart: PcapReader?
        var pcapngStart = PcapNGReader()
        try bytes.withUnsafeBufferPointer { (pointer) throws(CaptureError) in
            let buffer = UnsafeRawBufferPointer(pointer)
            guard buffer.count >= 4 else { throw .truncatedHeader(offset: buffer.count) }
            let magic = buffer.loadUInt32(at: 0, swapped: false)
            if PcapReader.isMagic(magic) {
                pcapStart = try PcapReader(header: buffer)
            } else if magic == PcapNGReader.sectionHeaderType {
                pcapngStart = try PcapNGReader(header: buffer)
            } else {
                throw .notACapture(firstBytes: buffer.leadingBytesBigEndian())
            }
        }
        format = pcapStart == nil ? .pcapng : .pcap
        self.format = format
        self.pcapStart = pcapStart
        self.pcapngStart = pcapngStart
    }

    /// An iterator over the packet records from the start of the file.
    public func makeRecordIterator() -> CaptureRecordIterator {
        CaptureRecordIterator(bytes: bytes, pcap: pcapStart, pcapng: pcapngStart)
    }

    /// Calls `body` with each record and its frame bytes, in file order.
    ///
    /// The fastest way through a file: the bytes stay pinned for the whole
    /// walk instead of once per `next()`. Throws the first `CaptureError`,
    /// after `body` has seen every record before it.
    public func forEachRecord(
        _ body: (CaptureRecord, UnsafeRawBufferPointer) -> Void
    ) throws(CaptureError) {
        var iterator = makeRecordIterator()
        try bytes.withUnsafeBufferPointer { (pointer) throws(CaptureError) in
            let buffer = UnsafeRawBufferPointer(pointer)
            while let record = try iterator.next(in: buffer) {
                body(record, UnsafeRawBufferPointer(rebasing: buffer[record.dataRange]))
            }
        }
    }

    // Plain POSIX reads: regular files are read in one go at their stat
    // size; pipes and growing files are read on to end of file in chunks.
    static func readWholeFile(path: String) throws(CaptureError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { _ = close(descriptor) }

        var status = stat()
        let sizeHint = fstat(descriptor, &status) == 0 && status.st_size > 0 ? Int(status.st_size) : 0
        var failure: Int32 = 0
        var atEnd = false
        var bytes = [UInt8](unsafeUninitializedCapacity: sizeHint) { buffer, initialized in
            initialized = 0
            while initialized < buffer.count {
                let result = read(descriptor, buffer.baseAddress! + initialized, buffer.count - initialized)
                if result > 0 {
                    initialized += result
                } else if result == 0 {
                    atEnd = true
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
        }
        let chunkLength = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkLength)
        while !atEnd && failure == 0 {
            let result = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, chunkLength) }
            if result > 0 {
                bytes.append(contentsOf: chunk[0..<result])
            } else if result == 0 {
                atEnd = true
            } else if errno != EINTR {
                failure = errno
            }
        }
        guard failure == 0 else { throw .cannotOpen(path: path, errno: failure) }
        return bytes
    }
}

/// Walks a capture file's packet records in order, without allocating per
/// packet: each record is a handful of offsets into the file's bytes.
///
/// After it throws, the iterator throws the same error on every later call.
public struct CaptureRecordIterator: Sendable {
    private let bytes: [UInt8]
    private let format: CaptureFile.Format
    private var pcap: PcapReader?
    private var pcapng: PcapNGReader
    private var failure: CaptureError?

    init(bytes: [UInt8], pcap: PcapReader?, pcapng: PcapNGReader) {
        self.bytes = bytes
        self.format = pcap == nil ? .pcapng : .pcap
        self.pcap = pcap
        self.pcapng = pcapng
    }

    /// Next packet record; skips pcapng blocks that are not packets (SHB, IDB, NRB, ISB, DSB, custom, unknown types by their length),
    /// handles Enhanced Packet Blocks and Simple Packet Blocks (and the obsolete Packet Block), both byte orders (big- and little-endian
    /// files and sections; a new SHB may switch byte order mid-file), multiple sections and interfaces. Returns nil at the clean end.
    /// A trailing partial record is an error (truncatedRecord), not silently ignored.
    public mutating func next() throws(CaptureError) -> CaptureRecord? {
        // Array.withUnsafeBytes only rethrows (untyped); the buffer-pointer
        // variant keeps the typed error.
        try bytes.withUnsafeBufferPointer { (pointer) throws(CaptureError) in
            try next(in: UnsafeRawBufferPointer(pointer))
        }
    }

    /// `next()` over the same bytes, already pinned by the caller.
    @inline(__always)
    mutating func next(in buffer: UnsafeRawBufferPointer) throws(CaptureError) -> CaptureRecord? {
        if let failure { throw failure }
        do throws(CaptureError) {
            switch format {
            case .pcap: return try pcap!.next(in: buffer)
            case .pcapng: return try pcapng.next(in: buffer)
            }
        } catch {
            failure = error
            throw error
        }
    }
}

import Foundation
import NIOCore

/// Splits the control socket's byte stream into lines (without the newline).
/// Replies have no length limit here: `rules.list` of a large rule set may be
/// far longer than the 64 KiB socfwd accepts per request line.
public struct NewlineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// How much of the buffer is known to hold no newline, so a long line is scanned once.
    private var scanned = 0

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let from = scanned
        // memchr: a page of alerts is a 60 KB line.
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count > from, let base = bytes.baseAddress,
                  let hit = memchr(base + from, Int32(UInt8(ascii: "\n")), bytes.count - from) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
        guard let length = found else {
            scanned = buffer.readableBytes
            return .needMoreData
        }
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last line without its newline is dropped: socfwd always terminates its lines.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered, write-only file for the capture writers: bytes collect in
/// memory and go to the file in large `write(2)` calls, so generating a
/// multi-gigabyte benchmark capture costs one system call per megabyte.
final class FileSink {
    static let flushThreshold = 1 << 20

    let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []

    init(path: String) throws(CaptureError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        buffer.reserveCapacity(Self.flushThreshold + (1 << 16))
    }

    deinit {
        // Errors cannot be reported from deinit; `close()` is the way to see them.
        try? flush()
        if descriptor >= 0 { _ = closeDescriptor(descriptor) }
    }

    /// Throws `cannotWrite` (EBADF) once the sink is closed, so a record
    /// written after `close()` is reported rather than silently dropped.
    @inline(__always)
    func checkOpen() throws(CaptureError) {
        if descriptor < 0 { throw .cannotWrite(path: path, errno: EBADF) }
    }

    /// Appends `value` in little-endian order, the order both writers use.
    @inline(__always)
    func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    func appendZeros(_ count: Int) {
        for _ in 0..<count { buffer.append(0) }
    }

    /// Flushes when enough has collected; called after each record.
    @inline(__always)
    func flushIfFull() throws(CaptureError) {
        if buffer.count >= Self.flushThreshold { try flush() }
    }

    func flush() throws(CaptureError) {
        guard descriptor >= 0 else {
            if buffer.isEmpty { return }
            throw .cannotWrite(path: path, errno: EBADF)
        }
        var failure: Int32 = 0
        buffer.withUnsafeBytes { bytes in
            var written = 0
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result >= 0 {
                    written += result
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        // Drop the bytes even on failure so deinit does not retry them.
        buffer.removeAll(keepingCapacity: true)
        if failure != 0 { throw .cannotWrite(path: path, errno: failure) }
    }

    /// Flushes and closes; later writes fail with `cannotWrite` (EBADF).
    /// Closing twice is harmless.
    func close() throws(CaptureError) {
        guard descriptor >= 0 else { return }
        var flushFailure: CaptureError?
        do throws(CaptureError) { try flush() } catch { flushFailure = error }
        let closeFailure = closeDescriptor(descriptor)
        descriptor = -1
        if let flushFailure { throw flushFailure }
        // close(2) can report a delayed write error (NFS, quota).
        if closeFailure != 0 { throw .cannotWrite(path: path, errno: closeFailure) }
    }
}

/// `close(2)`, returning 0 or the errno; a free function because inside
/// `FileSink` the name `close` means the method.
private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor) == 0 ? 0 : errno
}

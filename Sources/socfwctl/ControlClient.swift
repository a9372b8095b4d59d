import Foundation

/// One connection to socfwd's control socket (Docs/control-protocol.md):
/// newline-delimited JSON over a Unix stream socket. Connecting reads and
/// checks the `hello` greeting; `call` sends one request and waits for the
/// reply with its id, skipping event lines; `readEvents` follows a
/// subscription. Used from one thread; the socket is closed on deinit.
final class ControlClient {
    /// The protocol version this client speaks (`hello.data.protocol`).
    static let protocolVersion: Int64 = 1

    private let fd: Int32
    private let timeoutSeconds: Double
    /// Received bytes not yet returned as lines.
    private var buffer: [UInt8] = []
    /// How much of `buffer` is known to hold no newline, so a long line is scanned once.
    private var scanned = 0
    private var nextID: Int64 = 1

    init(socketPath: String, timeoutSeconds: Double) throws {
        // A peer that goes away must fail a write with EPIPE, not kill socfwctl.
        signal(SIGPIPE, SIG_IGN)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < capacity else { throw ControlError.pathTooLong(path: socketPath, limit: capacity - 1) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlError.io(operation: "socket()", errno: errno) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw ControlError.cannotConnect(path: socketPath, errno: code)
        }
        self.fd = fd
        self.timeoutSeconds = timeoutSeconds
        try readHello()
    }

    deinit { close(fd) }

    /// Sends `method` with `params` and returns the reply's `result`; an
    /// `error` reply throws `ControlError.server`.
    func call(_ method: String, params: [String: JSONValue] = [:]) throws -> JSONValue {
        let id = JSONValue.int(nextID)
        nextID += 1
        var request: [String: JSONValue] = ["id": id, "method": .string(method)]
        if !params.isEmpty { request["params"] = .object(params) }
        try send(JSONValue.object(request).compactText + "\n")

        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while true {
            guard let message = try readMessage(deadline: deadline, waitingFor: "the reply to '\(method)'") else {
                throw ControlError.timedOut(method: method, seconds: timeoutSeconds)
            }
            if message["event"] != nil { continue }
            let replyID = message["id"]
            // An error without an id (or with id null) is about the connection itself: the server
            // could not read our request, or is dropping us.
            if replyID == id || replyID == nil || replyID == .null {
                if let error = message["error"] { throw Self.serverError(error) }
                if replyID == id { return message["result"] ?? .null }
            }
        }
    }

    /// Hands every event (`event`, `data`) to `handle` until the server closes
    /// the connection (an error). No timeout: a subscriber waits as long as
    /// the operator watches.
    func readEvents(_ handle: (String, JSONValue) throws -> Void) throws -> Never {
        while true {
            guard let message = try readMessage(deadline: nil, waitingFor: "events") else { continue }
            if let error = message["error"] { throw Self.serverError(error) }
            guard let name = message["event"]?.string else { continue }
            try handle(name, message["data"] ?? .null)
        }
    }

    // MARK: - Lines

    private func readHello() throws {
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        guard let message = try readMessage(deadline: deadline, waitingFor: "the hello greeting") else {
            throw ControlError.timedOut(method: "hello", seconds: timeoutSeconds)
        }
        // A peer refused at connect (permissions, too many clients) gets an error instead of hello.
        if let error = message["error"] { throw Self.serverError(error) }
        guard message["event"]?.string == "hello", let data = message["data"] else {
            throw ControlError.malformed("expected the hello greeting, got \(message.compactText)")
        }
        guard let version = data["protocol"]?.int, version == Self.protocolVersion else {
            let named = data["protocol"].map { "protocol \($0.compactText)" } ?? "no protocol version"
            throw ControlError.incompatibleProtocol(server: named)
        }
    }

    /// The next line as JSON; nil when `deadline` passed first.
    private func readMessage(deadline: ContinuousClock.Instant?, waitingFor: String) throws -> JSONValue? {
        guard let line = try readLine(deadline: deadline, waitingFor: waitingFor) else { return nil }
        do {
            return try JSONValue(line: line)
        } catch {
            let text = String(decoding: line.prefix(200), as: UTF8.self)
            throw ControlError.malformed("a line that is not JSON: \(text)")
        }
    }

    /// The next line without its newline; nil when `deadline` passed first.
    /// Lines have no length limit here: a reply (`rules.list` of a large rule
    /// set) may be far longer than the 64 KiB the server accepts per request.
    private func readLine(deadline: ContinuousClock.Instant?, waitingFor: String) throws -> ArraySlice<UInt8>? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[..<newline]
                buffer.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffer.count
            guard try waitReadable(deadline: deadline) else { return nil }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.append(contentsOf: chunk[..<n])
            } else if n == 0 {
                throw ControlError.connectionClosed(waitingFor: waitingFor)
            } else if errno != EINTR && errno != EAGAIN {
                throw ControlError.io(operation: "read", errno: errno)
            }
        }
    }

    /// poll(2) for input until `deadline` (nil: forever); false when it passed.
    private func waitReadable(deadline: ContinuousClock.Instant?) throws -> Bool {
        while true {
            var timeoutMilliseconds: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return false }
                timeoutMilliseconds = Int32(min((left.inSeconds * 1000).rounded(.up), Double(Int32.max)))
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&descriptor, 1, timeoutMilliseconds)
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR { throw ControlError.io(operation: "poll", errno: errno) }
        }
    }

    private func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 {
                sent += n
            } else if errno != EINTR {
                throw ControlError.io(operation: "write", errno: errno)
            }
        }
    }

    private static func serverError(_ error: JSONValue) -> ControlError {
        .server(code: error["code"]?.int ?? 0, message: error["message"]?.string ?? error.compactText)
    }
}

import CSocfwNetlink
import Foundation
import Logging
import SocfwCore
import Synchronization

/// The control socket (Docs/control-protocol.md): a Unix stream socket
/// served by one thread with poll(2), off the packet path. Each client has
/// a bounded input line and a bounded output buffer: a client that sends an
/// over-long line, or stops reading, is disconnected; it never holds up the
/// server or socfwd.
public final class ControlServer: @unchecked Sendable {
    // @unchecked: the client table and sockets belong to the server thread;
    // other threads only use `publish` (a Mutex) and `stop` (an atomic + pipe).

    /// What a connected peer is, from SO_PEERCRED / SO_PEERGROUPS.
    public struct Peer: Sendable, Equatable {
        public var pid: Int32
        public var uid: UInt32
        public var groups: [UInt32]
        public var canRead: Bool
        public var canWrite: Bool
    }

    public let path: String
    private let methods: [String: ControlMethod]
    private let maxClients: Int
    private let readGroup: (name: String, gid: UInt32?)
    private let adminGroup: (name: String, gid: UInt32?)
    private let version: String
    private let logger: Logger
    /// Called once a second while someone subscribes to `stats`.
    private let statsProvider: @Sendable () -> JSONValue
    /// Told of every mutating request that succeeded (method, actor, params): the audit log.
    private let auditor: (@Sendable (String, String, JSONValue) -> Void)?

    private var listener: Int32 = -1
    private var wake: (read: Int32, write: Int32) = (-1, -1)
    private let stopping = Atomic<Bool>(false)
    private let outbox = Mutex<[(topic: String, line: String)]>([])

    /// Unsent output beyond which a client is disconnected.
    static let maxPendingBytes = 4 << 20

    public init(path: String, methods: [ControlMethod], config: ControlConfig, version: String, logger: Logger,
                stats: @escaping @Sendable () -> JSONValue,
                audit: (@Sendable (String, String, JSONValue) -> Void)? = nil) {
        self.auditor = audit
        self.path = path
        self.methods = Dictionary(methods.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.maxClients = config.maxClients
        self.readGroup = (config.group, ControlServer.gid(of: config.group))
        self.adminGroup = (config.adminGroup, ControlServer.gid(of: config.adminGroup))
        self.version = version
        self.logger = logger
        self.statsProvider = stats
    }

    static func gid(of group: String) -> UInt32? {
        group.withCString { getgrnam($0) }.map { $0.pointee.gr_gid }
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates the socket (its directory too), then serves it on a thread.
    public func start() throws(StartError) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { mkdir(dir, 0o755) }
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
            throw StartError(description: "control socket path is too long (at most 107 bytes): \(path)")
        }
        // A socket file nobody answers on is left over from a crash.
        if FileManager.default.fileExists(atPath: path) {
            let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(probe) }
            if withAddress({ connect(probe, $0, $1) }) == 0 {
                throw StartError(description: "another process serves the control socket \(path) (is socfwd already running?)")
            }
            unlink(path)
        }
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard listener >= 0 else { throw StartError(description: "control socket: \(String(cString: strerror(errno)))") }
        // Create it with no access for others, then open it to the group.
        let oldMask = umask(0o117)
        let bound = withAddress { bind(listener, $0, $1) }
        umask(oldMask)
        // A backlog as large as the clients allowed: a burst of connects while
        // the poll thread is busy must wait in the kernel, not fail with
        // EAGAIN (non-blocking Unix-socket clients do not retry).
        guard bound == 0, listen(listener, Int32(max(128, maxClients))) == 0 else {
            let message = String(cString: strerror(errno))
            close(listener)
            throw StartError(description: "cannot listen on the control socket \(path): \(message)")
        }
        chmod(path, 0o660)
        if let gid = readGroup.gid, chown(path, UInt32.max, gid) != 0 {
            logger.warning("cannot give the control socket to group '\(readGroup.name)': \(String(cString: strerror(errno))) (run socfwd with that group, e.g. Group=\(readGroup.name) in its unit)")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw StartError(description: "control socket: pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wake = (fds[0], fds[1])
        let thread = Thread { [self] in self.run() }
        thread.name = "socfw-control"
        thread.start()
        if readGroup.gid == nil {
            logger.notice("group '\(readGroup.name)' does not exist: the control socket is for root only (create the group and add operators to it)")
        }
    }

    public func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = write(wake.write, "x", 1)
    }

    /// Sends an event to the clients subscribed to `topic` (any thread).
    public func publish(topic: String, event: String, data: JSONValue) {
        let line = ControlProtocol.event(event, data: data)
        outbox.withLock { $0.append((topic, line)) }
        _ = write(wake.write, "x", 1)
    }

    private func withAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    // MARK: The server thread

    final class Client {
        let fd: Int32
        let peer: Peer
        var input: [UInt8] = []
        var output: [UInt8] = []
        var topics: Set<String> = []
        /// Close once the output is written.
        var closing = false

        init(fd: Int32, peer: Peer) {
            self.fd = fd
            self.peer = peer
        }

        func send(_ line: String) {
            output += line.utf8
            output.append(0x0a)
        }

        /// A successful reply, written straight into the output (a page of
        /// alerts is ~60 KB: no String of it is made).
        func sendResult(id: JSONValue, _ result: JSONValue) {
            ControlProtocol.appendReply(id: id, result: result, to: &output)
            output.append(0x0a)
        }
    }

    private func run() {
        var clients: [Int32: Client] = [:]
        var lastStats = monotonicNanoseconds()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !stopping.load(ordering: .relaxed) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            for c in clients.values {
                let events = (c.closing ? 0 : Int16(POLLIN)) | (c.output.isEmpty ? 0 : Int16(POLLOUT))
                fds.append(pollfd(fd: c.fd, events: events, revents: 0))
            }
            _ = poll(&fds, nfds_t(fds.count), 250)
            if fds[1].revents != 0 { while read(wake.read, &buffer, buffer.count) > 0 {} }
            if fds[0].revents & Int16(POLLIN) != 0 { accept(into: &clients) }
            for p in fds.dropFirst(2) where p.revents != 0 {
                guard let c = clients[p.fd] else { continue }
                if p.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !c.closing {
                    let n = read(c.fd, &buffer, buffer.count)
                    if n <= 0 {
                        if n == 0 || (errno != EAGAIN && errno != EINTR) { drop(c, from: &clients); continue }
                    } else {
                        c.input += buffer[..<n]
                        handleLines(c)
                    }
                }
            }
            // Events.
            let pending = outbox.withLock { o -> [(topic: String, line: String)] in
                defer { o.removeAll(keepingCapacity: true) }
                return o
            }
            let now = monotonicNanoseconds()
            var lines = pending
            if now - lastStats >= 1_000_000_000 {
                lastStats = now
                if clients.values.contains(where: { $0.topics.contains("stats") }) {
                    lines.append(("stats", ControlProtocol.event("stats", data: statsProvider())))
                }
            }
            for (topic, line) in lines {
                for c in clients.values where c.topics.contains(topic) && !c.closing { c.send(line) }
            }
            // Output, and the clients that stopped reading.
            for c in Array(clients.values) {
                flush(c)
                if c.output.count > ControlServer.maxPendingBytes {
                    logger.warning("control client pid \(c.peer.pid) uid \(c.peer.uid) is not reading its replies: disconnected")
                    drop(c, from: &clients)
                } else if c.closing && c.output.isEmpty {
                    drop(c, from: &clients)
                }
            }
        }
        for c in clients.values { close(c.fd) }
        close(listener)
        unlink(path)
        close(wake.read)
        close(wake.write)
    }

    private func accept(into clients: inout [Int32: Client]) {
        while true {
            let fd = socfw_control_accept(listener)
            guard fd >= 0 else { return }
            let peer = credentials(fd)
            let c = Client(fd: fd, peer: peer)
            clients[fd] = c
            if clients.count > maxClients {
                c.send(ControlProtocol.reply(id: .null, error: ControlError(.limit, "too many control clients (at most \(maxClients))")))
                c.closing = true
            } else if !peer.canRead {
                c.send(ControlProtocol.reply(id: .null, error: ControlError(.permissionDenied,
                    "permission denied: uid \(peer.uid) is not root and not in group '\(readGroup.name)'")))
                c.closing = true
            } else {
                c.send(ControlProtocol.event("hello", data: .object([
                    ("protocol", .int(Int64(ControlProtocol.version))), ("server", .string("socfwd")),
                    ("version", .string(version)), ("pid", .int(Int64(getpid()))),
                    ("read", .bool(peer.canRead)), ("write", .bool(peer.canWrite)),
                ])))
            }
            flush(c)
        }
    }

    private func credentials(_ fd: Int32) -> Peer {
        var cred = socfw_peer()
        guard socfw_control_peer(fd, &cred) == 0 else {
            return Peer(pid: 0, uid: UInt32.max, groups: [], canRead: false, canWrite: false)
        }
        var groups = withUnsafeBytes(of: cred.groups) { Array($0.bindMemory(to: UInt32.self).prefix(Int(cred.ngroups))) }
        groups.append(cred.gid)
        let trusted = cred.uid == 0 || cred.uid == geteuid()
        let canWrite = trusted || adminGroup.gid.map(groups.contains) == true
        let canRead = canWrite || readGroup.gid.map(groups.contains) == true
        return Peer(pid: cred.pid, uid: cred.uid, groups: groups, canRead: canRead, canWrite: canWrite)
    }

    private func handleLines(_ c: Client) {
        while let newline = c.input.firstIndex(of: 0x0a) {
            guard newline <= ControlProtocol.maxLineBytes else { break }
            let line = String(decoding: c.input[..<newline], as: UTF8.self)
            c.input.removeSubrange(...newline)
            guard !line.allSatisfy({ $0 == " " || $0 == "\r" || $0 == "\t" }) else { continue }
            switch answer(line, peer: c.peer, client: c) {
            case let .line(text): c.send(text)
            case let .result(id, result): c.sendResult(id: id, result)
            }
        }
        if c.input.count > ControlProtocol.maxLineBytes && (c.input.firstIndex(of: 0x0a) ?? Int.max) > ControlProtocol.maxLineBytes {
            c.input.removeAll()
            c.send(ControlProtocol.reply(id: .null, error: ControlError(.limit,
                "request line longer than \(ControlProtocol.maxLineBytes) bytes: closing the connection")))
            c.closing = true
        }
    }

    /// What a request line is answered with: a line of text (errors,
    /// subscriptions), or a method's result to be written out as bytes.
    private enum Answer {
        case line(String)
        case result(id: JSONValue, JSONValue)
    }

    private func answer(_ line: String, peer: Peer, client: Client) -> Answer {
        var request: ControlRequest
        switch ControlProtocol.parseRequest(line) {
        case let .failure(f): return .line(ControlProtocol.reply(id: f.id, error: f.error))
        case let .success(r): request = r
        }
        request.callerUID = peer.uid
        request.callerCanWrite = peer.canWrite
        do throws(ControlError) { try request.takeActor() } catch {
            return .line(ControlProtocol.reply(id: request.id, error: error))
        }
        if request.method == "subscribe" {
            return .line(subscribe(request, client: client))
        }
        guard let method = methods[request.method] else {
            let known = (methods.keys + ["subscribe"]).sorted().joined(separator: ", ")
            return .line(ControlProtocol.reply(id: request.id, error: ControlError(.unknownMethod,
                "unknown method '\(request.method)' (methods: \(known))")))
        }
        if method.mutating && !peer.canWrite {
            return .line(ControlProtocol.reply(id: request.id, error: ControlError(.permissionDenied,
                "permission denied: \(request.method) changes socfwd; uid \(peer.uid) needs to be root or in group '\(adminGroup.name)'")))
        }
        do throws(ControlError) {
            let result = try method.handler(request)
            if method.mutating {
                logger.info("control: \(request.method) by uid \(peer.uid) pid \(peer.pid)")
                auditor?(request.method, request.actor, request.params)
            }
            return .result(id: request.id, result)
        } catch {
            return .line(ControlProtocol.reply(id: request.id, error: error))
        }
    }

    static let topics = ["alerts", "quarantine", "reloads", "stats", "tokens"]

    private func subscribe(_ request: ControlRequest, client: Client) -> String {
        do throws(ControlError) {
            try request.allowOnly(["topics"])
            guard case let .array(items)? = request.params["topics"] else {
                throw ControlError(.invalidParams, "params.topics is required: a list of \(ControlServer.topics.joined(separator: ", "))")
            }
            var topics: [String] = []
            for item in items {
                guard let t = item.stringValue, ControlServer.topics.contains(t) else {
                    throw ControlError(.invalidParams, "unknown topic \(item.serialized) (topics: \(ControlServer.topics.joined(separator: ", ")))")
                }
                topics.append(t)
            }
            client.topics.formUnion(topics)
            return ControlProtocol.reply(id: request.id, result: .object([("topics", .array(client.topics.sorted().map { .string($0) }))]))
        } catch {
            return ControlProtocol.reply(id: request.id, error: error)
        }
    }

    private func flush(_ c: Client) {
        while !c.output.isEmpty {
            let n = c.output.withUnsafeBytes { send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                c.output.removeFirst(n)
            } else {
                if n < 0 && errno != EAGAIN && errno != EINTR { c.output.removeAll(); c.closing = true }
                return
            }
        }
    }

    private func drop(_ c: Client, from clients: inout [Int32: Client]) {
        close(c.fd)
        clients[c.fd] = nil
    }
}

import CNftables
import CSocfwNetlink
import Glibc
import SocfwCore
import SocfwWire

/// How packets reach the queues on this kernel.
public enum Diversion: String, Sendable {
    /// nf_tables' own `queue` expression.
    case native = "nft-queue"
    /// The xtables NFQUEUE target through nft_compat, as iptables-nft emits
    /// it; for kernels built without the native expression.
    case xtables = "xtables-nfqueue"
}

public struct NftablesError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Installs and removes socfwd's own table; never touches other tables.
/// The table text goes through libnftables (nft's own parser, one
/// transaction); the queue rule, which nft's language cannot write for the
/// xtables target, goes through libnftnl.
public struct NftablesInstaller: Sendable {
    public let ruleset: NftRuleset
    public let queues: QueueConfig
    public let choice: DiversionChoice

    /// Elements the sets start with (set name → element texts).
    public let initialElements: [String: [String]]

    public init(config: SocfwConfig, quarantine: [(IPPrefix, timeoutMilliseconds: UInt64?)] = []) {
        ruleset = NftRuleset(config: config)
        queues = config.queues
        choice = config.nftables.diversion
        var elements: [String: [String]] = [:]
        for (prefix, timeout) in quarantine {
            let text = prefix.compactDescription
            elements[prefix.network.isV6 ? "quarantine6" : "quarantine4", default: []]
                .append(text + (timeout.map { " timeout \($0)ms" } ?? ""))
        }
        initialElements = elements
    }

    /// Installs the table (with the initial set elements) and the queue
    /// rule; returns the diversion used.
    public func install() throws(NftablesError) -> Diversion {
        try run(ruleset.installScript(elements: initialElements), what: "installing table inet \(ruleset.table)")
        let attempts: [Diversion]
        switch choice {
        case .auto: attempts = [.native, .xtables]
        case .native: attempts = [.native]
        case .xtables: attempts = [.xtables]
        }
        var lastError: Int32 = 0
        for diversion in attempts {
            let rc = socfw_nft_add_queue_rule(
                1 /* NFPROTO_INET */, ruleset.table, NftRuleset.inspectChain, UInt16(queues.first),
                UInt16(queues.count), queues.bypass ? 1 : 0, queues.cpuFanout ? 1 : 0, ruleset.markMask,
                diversion == .native ? 1 : 0)
            if rc == 0 { return diversion }
            lastError = -rc
            // ENOENT / EOPNOTSUPP: this kernel lacks the expression; try the next.
            if lastError != ENOENT && lastError != EOPNOTSUPP { break }
        }
        let reason = String(cString: strerror(lastError))
        try? remove()
        throw NftablesError(description: "adding the queue rule (\(attempts.map(\.rawValue).joined(separator: " then "))) failed: \(reason)"
            + (lastError == ENOENT ? " (the kernel has neither nft `queue` nor the xt_NFQUEUE target: load nft_queue or xt_NFQUEUE)" : ""))
    }

    public func remove() throws(NftablesError) {
        try run(ruleset.removeScript, what: "removing table inet \(ruleset.table)")
    }

    private func run(_ script: String, what: String) throws(NftablesError) {
        guard let ctx = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            throw NftablesError(description: "\(what): cannot create an nftables context")
        }
        defer { nft_ctx_free(ctx) }
        nft_ctx_buffer_output(ctx)
        nft_ctx_buffer_error(ctx)
        let rc = nft_run_cmd_from_buffer(ctx, script)
        if rc != 0 {
            let message = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? "unknown error"
            throw NftablesError(description: "\(what): \(message.trimmingCharacters())")
        }
    }
}

extension String {
    /// A message the C shim wrote into a NUL-terminated buffer.
    init(cMessage buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s.removeLast() }
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        return String(s)
    }
}

/// br_netfilter switches for bridge mode: bridged IPv4/IPv6 must traverse
/// the inet hooks. The previous values are restored on stop.
public struct BridgeNetfilter: Sendable {
    static let keys = ["net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"]
    public private(set) var previous: [String: String] = [:]

    public init() {}

    public mutating func enable() throws(NftablesError) {
        if access("/proc/sys/net/bridge", F_OK) != 0 {
            // Fixed arguments, no user input.
            var pid: pid_t = 0
            let args = ["/sbin/modprobe", "br_netfilter"]
            var cargs = args.map { strdup($0) } + [nil]
            defer { cargs.forEach { free($0) } }
            if posix_spawn(&pid, args[0], nil, nil, &cargs, environ) == 0 {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        guard access("/proc/sys/net/bridge", F_OK) == 0 else {
            throw NftablesError(description: "bridge mode needs br_netfilter: /proc/sys/net/bridge is missing (modprobe br_netfilter)")
        }
        for key in BridgeNetfilter.keys {
            let path = "/proc/sys/\(key)"
            previous[path] = readSmallFile(path)
            guard writeSmallFile(path, "1\n") else {
                throw NftablesError(description: "cannot enable \(key): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func restore() {
        for (path, value) in previous { _ = writeSmallFile(path, value) }
    }
}

func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

func writeSmallFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return text.withCString { write(fd, $0, strlen($0)) } >= 0
}

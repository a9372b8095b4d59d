import Foundation

/// Everything that can stop a socfwctl command after its arguments parsed,
/// with the message an operator reads and the exit code a script tests.
enum ControlError: Error {
    /// connect(2) failed; `errno` says why.
    case cannotConnect(path: String, errno: Int32)
    /// The socket path does not fit in `sockaddr_un.sun_path`.
    case pathTooLong(path: String, limit: Int)
    /// The server's greeting names a protocol version this client does not speak.
    case incompatibleProtocol(server: String)
    /// No complete reply line within the timeout.
    case timedOut(method: String, seconds: Double)
    /// The server closed the connection before the reply.
    case connectionClosed(waitingFor: String)
    /// A line that is not the JSON the protocol promises.
    case malformed(String)
    /// A socket read or write failed.
    case io(operation: String, errno: Int32)
    /// The server answered with an error object.
    case server(code: Int64, message: String)
    /// A local file (rules file to check) could not be read.
    case unreadableFile(path: String, reason: String)

    /// JSON-RPC style codes of the protocol (Docs/control-protocol.md, "Errors").
    static let permissionDeniedCode: Int64 = -32001

    /// 1: refused or failed, 3: permission denied, 4: cannot connect.
    /// (2, usage errors, is set in `Socfwctl.main`.)
    var exitCode: Int32 {
        switch self {
        case let .cannotConnect(_, code): return code == EACCES || code == EPERM ? 3 : 4
        case .pathTooLong: return 4
        case let .server(code, _): return code == Self.permissionDeniedCode ? 3 : 1
        case .incompatibleProtocol, .timedOut, .connectionClosed, .malformed, .io, .unreadableFile: return 1
        }
    }

    var message: String {
        switch self {
        case let .cannotConnect(path, code):
            switch code {
            case ENOENT:
                return "the socket \(path) does not exist — is socfwd running? (systemctl status socfwd)\n"
                    + "  another socket: --socket PATH or SOCFW_SOCKET=PATH (control.socket in socfwd's configuration)"
            case ECONNREFUSED:
                return "socfwd is not listening on \(path) (a stale socket left by a stopped socfwd?)\n"
                    + "  check: systemctl status socfwd"
            case EACCES, EPERM:
                return "permission denied on the socket \(path)\n"
                    + "  add the user to group socfw (control.group): usermod -aG socfw \(Self.userName), then log in again"
            default:
                return "cannot connect to \(path): \(String(cString: strerror(code)))"
            }
        case let .pathTooLong(path, limit):
            return "the socket path \(path) is longer than \(limit) bytes, the limit of a Unix socket address"
        case let .incompatibleProtocol(server):
            return "incompatible protocol: socfwd speaks \(server), this socfwctl speaks protocol 1 — "
                + "use the socfwctl of the same socfw release"
        case let .timedOut(method, seconds):
            return "no reply to '\(method)' within \(Self.seconds(seconds)) s (socfwd busy or hung? --timeout sets the limit)"
        case let .connectionClosed(waitingFor):
            return "socfwd closed the connection while socfwctl waited for \(waitingFor)"
        case let .malformed(what):
            return "unexpected data from socfwd: \(what)"
        case let .io(operation, code):
            return "\(operation) on the control socket failed: \(String(cString: strerror(code)))"
        case let .server(_, message):
            return message
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        }
    }

    private static var userName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "USER" }
        return String(cString: name)
    }

    private static func seconds(_ s: Double) -> String {
        s.rounded() == s ? String(Int(s)) : String(s)
    }
}

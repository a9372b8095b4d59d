import Foundation

/// One line of `/ready`'s `checks`.
struct ReadinessCheck {
    var name: String
    var ok: Bool
    var detail: String
    /// Could not be evaluated and does not count (`database_writable` on a socfwd that does not report it).
    var skipped = false

    var json: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "ok": .bool(ok), "detail": .string(detail)]
        if skipped { object["skipped"] = true }
        return .object(object)
    }
}

/// The checks behind `/ready`: socfwd reachable, queues bound (socfwd
/// inspecting), its database writable (when socfwd's status reports it),
/// free disk space and socfw-api's own memory.
struct Readiness {
    let socfwd: Socfwd
    let configuration: APIConfig.Ready

    func evaluate() async -> [ReadinessCheck] {
        var checks: [ReadinessCheck] = []
        var status: JSONValue?
        if let reason = socfwd.unreachableReason() {
            checks.append(ReadinessCheck(name: "socfwd", ok: false, detail: "not reachable (\(reason))"))
        } else {
            do {
                status = try await socfwd.call("status")
                checks.append(ReadinessCheck(name: "socfwd", ok: true, detail: "connected, version \(status?["version"]?.string ?? "?")"))
            } catch {
                checks.append(ReadinessCheck(name: "socfwd", ok: false, detail: "status failed (\(ControlConnection.describe(error)))"))
            }
        }
        checks.append(queuesBound(status))
        checks.append(databaseWritable(status))
        checks.append(diskSpace())
        checks.append(memory())
        return checks
    }

    private func queuesBound(_ status: JSONValue?) -> ReadinessCheck {
        guard let status else { return ReadinessCheck(name: "queues_bound", ok: false, detail: "unknown: socfwd's status is not available") }
        let inspecting = status["inspecting"]?.bool ?? false
        let first = status["queues"]?["first"]?.int
        let count = status["queues"]?["count"]?.int
        let range = first.flatMap { f in count.map { c in c > 1 ? "\(f)-\(f + c - 1)" : "\(f)" } } ?? "?"
        return inspecting
            ? ReadinessCheck(name: "queues_bound", ok: true, detail: "inspecting NFQUEUE \(range)")
            : ReadinessCheck(name: "queues_bound", ok: false, detail: "socfwd is not inspecting (no NFQUEUE bound)")
    }

    private func databaseWritable(_ status: JSONValue?) -> ReadinessCheck {
        let reported = status?["database"]?["writable"]?.bool ?? status?["database_writable"]?.bool
        guard let reported else {
            return ReadinessCheck(name: "database_writable", ok: true, detail: "skipped: socfwd's status does not report it", skipped: true)
        }
        return ReadinessCheck(name: "database_writable", ok: reported, detail: reported ? "writable" : "socfwd reports its database is not writable")
    }

    private func diskSpace() -> ReadinessCheck {
        var fs = statvfs()
        guard statvfs(configuration.diskPath, &fs) == 0 else {
            return ReadinessCheck(name: "disk_space", ok: false, detail: "cannot examine \(configuration.diskPath): \(String(cString: strerror(errno)))")
        }
        let freeMegabytes = Int(UInt64(fs.f_bavail) * UInt64(fs.f_frsize) / 1_048_576)
        let ok = freeMegabytes >= configuration.minFreeDiskMegabytes
        return ReadinessCheck(name: "disk_space", ok: ok,
                              detail: "\(freeMegabytes) MB free on \(configuration.diskPath) (minimum \(configuration.minFreeDiskMegabytes) MB)")
    }

    private func memory() -> ReadinessCheck {
        guard let rss = ProcessSample.current().residentBytes else {
            return ReadinessCheck(name: "memory", ok: true, detail: "skipped: resident size unknown", skipped: true)
        }
        let megabytes = Int(rss / 1_048_576)
        return ReadinessCheck(name: "memory", ok: megabytes <= configuration.maxRSSMegabytes,
                              detail: "\(megabytes) MB resident (maximum \(configuration.maxRSSMegabytes) MB)")
    }
}

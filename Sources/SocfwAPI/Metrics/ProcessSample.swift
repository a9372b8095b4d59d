import Foundation

/// This process's resident memory and CPU time, from /proc/self (Linux).
struct ProcessSample {
    var residentBytes: Int64?
    var cpuSeconds: Double?

    static func current() -> ProcessSample {
        var sample = ProcessSample()
        // /proc/self/statm: size resident shared ... in pages.
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Int64(fields[1]) {
                sample.residentBytes = pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
            }
        }
        var usage = rusage()
        if getrusage(RUSAGE_SELF.rawValue, &usage) == 0 {
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            sample.cpuSeconds = user + system
        }
        return sample
    }
}

import Foundation

/// Runs `body` with the path of a new, empty directory, removed afterwards whatever happens.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array((NSTemporaryDirectory() + "socfw-store-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    let path = String(cString: made)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Now in ns since the epoch, like the store's timestamps.
func nowNanoseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000_000)
}

func posixMode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

import Foundation

/// A text table: each column as wide as its widest cell, two spaces between
/// columns, numbers right-aligned, and no trailing spaces.
struct TextTable {
    enum Alignment { case left, right }

    /// A column's heading and how its cells line up.
    struct Column {
        var title: String
        var alignment: Alignment

        static func left(_ title: String) -> Column { Column(title: title, alignment: .left) }
        static func right(_ title: String) -> Column { Column(title: title, alignment: .right) }
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "a row needs one cell per column")
        rows.append(row)
    }

    var rendered: String {
        let lines = [columns.map(\.title)] + rows
        var widths = columns.map { _ in 0 }
        for line in lines {
            for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        return lines.map { line in
            var text = ""
            for (i, cell) in line.enumerated() {
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { text += "  " }
                text += columns[i].alignment == .left ? cell + padding : padding + cell
            }
            return Format.trimmingTrailingSpaces(text)
        }.joined(separator: "\n")
    }
}

/// `label: value` lines with the values aligned, for one object's fields.
struct FieldList {
    private var fields: [(label: String, value: String)] = []

    mutating func add(_ label: String, _ value: String) {
        fields.append((label, value))
    }

    var rendered: String {
        let width = fields.map(\.label.count).max() ?? 0
        return fields.map { field in
            let label = field.label + ":" + String(repeating: " ", count: width - field.label.count)
            return Format.trimmingTrailingSpaces("\(label) \(field.value)")
        }.joined(separator: "\n")
    }
}

/// Numbers and durations as an operator reads them.
enum Format {
    /// `1234567` → `1,234,567`; nil → `-`.
    /// `90s`, `30m`, `1h`, `2d`, `1w` in seconds; nil for anything else.
    static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let n = Int64(text.dropLast()), n > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3_600
        case "d": scale = 86_400
        case "w": scale = 604_800
        default: return nil
        }
        let (product, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow || product > 100 * 365 * 86_400 ? nil : product
    }

    static func count(_ value: JSONValue?) -> String {
        guard let value else { return "-" }
        guard let n = value.int else { return value.displayText }
        return count(n)
    }

    static func count(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var grouped = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return n < 0 ? "-" + grouped : grouped
    }

    /// `1 rule`, `1,024 rules`: a count with its noun (plural with an s).
    static func count(_ value: JSONValue?, _ noun: String) -> String {
        "\(count(value)) \(value?.int == 1 ? noun : noun + "s")"
    }

    static func count(_ n: Int, _ noun: String) -> String {
        count(.int(Int64(n)), noun)
    }

    /// `1536` → `1.5 KiB`; below 1 KiB exact bytes.
    static func bytes(_ value: JSONValue?) -> String {
        guard let n = value?.double else { return value?.displayText ?? "-" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var scaled = n
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int64(n)) B" : String(format: "%.1f %@", scaled, units[unit])
    }

    /// Milliseconds with at most one decimal: `2.1 ms`.
    static func milliseconds(_ value: JSONValue?) -> String {
        guard let ms = value?.double else { return "-" }
        return String(format: ms < 10 ? "%.1f ms" : "%.0f ms", ms)
    }

    /// Packets per second: whole numbers with separators (`12,346`), one decimal below 100 (`89.8`).
    static func rate(_ value: JSONValue?) -> String {
        guard let r = value?.double else { return "-" }
        if r >= 100 || r.rounded() == r { return count(Int64(r.rounded())) }
        return String(format: "%.1f", r)
    }

    /// `93784` seconds → `1d 2h 3m 4s`.
    static func duration(seconds value: JSONValue?) -> String {
        guard let total = value?.double.map({ Int64($0) }) else { return "-" }
        let parts: [(Int64, String)] = [(total / 86_400, "d"), (total % 86_400 / 3_600, "h"), (total % 3_600 / 60, "m"), (total % 60, "s")]
        let shown = parts.drop { $0.0 == 0 }.map { "\($0.0)\($0.1)" }
        return shown.isEmpty ? "0s" : shown.joined(separator: " ")
    }

    /// Nanoseconds since the epoch as local time; 0 or missing → `never`.
    static func timestamp(nanoseconds value: JSONValue?) -> String {
        guard let ns = value?.double, ns > 0 else { return "never" }
        // Below 2001 it is not wall-clock time (a monotonic clock): show the number.
        guard ns > 1e18 else { return count(value) + " ns" }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: ns / 1e9))
    }

    /// `14:03:59`, local time.
    static func clockTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date)
    }

    static func yesNo(_ value: JSONValue?) -> String {
        guard let value else { return "-" }
        return value.bool.map { $0 ? "yes" : "no" } ?? value.displayText
    }

    static func trimmingTrailingSpaces(_ s: String) -> String {
        var s = Substring(s)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension Duration {
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// The process's terminal: errors on stderr, screen control for `--watch`.
enum Terminal {
    static func writeError(_ message: String) {
        FileHandle.standardError.write(Data("socfwctl: \(message)\n".utf8))
    }

    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Moves the cursor home and clears the screen (ANSI), so a watched table redraws in place.
    static func clearScreen() {
        print("\u{1B}[H\u{1B}[2J", terminator: "")
    }

    static func flush() {
        fflush(nil)  // all output streams; naming `stdout` is not concurrency-safe in Swift 6
    }
}

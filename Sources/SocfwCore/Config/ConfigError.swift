/// A configuration or rules problem, located precisely enough to fix it:
/// `rules.yaml:7:13: field 'action': unknown action 'DROPP' (expected ...)`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the problem is about the file as a whole.
    public var line: Int
    public var column: Int
    /// Dotted path of the offending field, e.g. `rules[2].conditions[0].value`.
    public var field: String
    public var message: String

    public init(file: String, line: Int = 0, column: Int = 0, field: String = "", message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if line > 0 { s += ":\(line)" }
        if column > 0 { s += ":\(column)" }
        s += ": "
        if !field.isEmpty { s += "field '\(field)': " }
        return s + message
    }
}

// socfw-nftset: drives NftSetClient from the command line, for the lab tests
// (Tests/lab/test_nftsets.py) and the quarantine benchmark. Not installed.
//
//   socfw-nftset [--table T] add SET PREFIX[,TIMEOUT_MS] ...
//   socfw-nftset [--table T] add-random SET N [--timeout MS] [--seed S]
//   socfw-nftset [--table T] del SET PREFIX ...
//   socfw-nftset [--table T] list SET
//   socfw-nftset [--table T] flush SET
//
// SET is the base name: IPv4 prefixes go to SET4, IPv6 ones to SET6, in
// `table inet socfw` unless --table says otherwise. Output is one JSON
// object. Exit status: 0 done, 1 some element refused or the call failed,
// 2 usage.
import Glibc
import SocfwKernel
import SocfwWire

let usage = """
    usage: socfw-nftset [--table TABLE] COMMAND ...
      add SET PREFIX[,TIMEOUT_MS] ...          add prefixes to SET4/SET6 (one call, merged)
      add-random SET N [--timeout MS] [--seed S]
                                               add N random IPv4 addresses and prefixes, timed
      del SET PREFIX ...                       delete prefixes
      list SET                                 the elements of SET4 and SET6
      flush SET                                empty SET4 and SET6
    SET is a base name: IPv4 goes to SET4, IPv6 to SET6 (table inet socfw by default).
    """

func fail(_ message: String, status: Int32 = 2) -> Never {
    let text = "socfw-nftset: \(message)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func json(_ value: UInt64?) -> String { value.map { String($0) } ?? "null" }

func json(_ result: NftSetResult, extra: [(String, String)] = []) -> String {
    let failures = result.failures.map { f in
        "{\"prefixes\":[\(f.prefixes.map { jsonString($0.description) }.joined(separator: ","))],"
            + "\"set\":\(jsonString(f.set)),\"errno\":\(f.errno),\"kind\":\(jsonString(f.kind.rawValue)),"
            + "\"reason\":\(jsonString(f.reason))}"
    }
    let c = result.counters
    var fields: [(String, String)] = [
        ("requested", "\(result.requested)"), ("ranges", "\(result.ranges)"), ("added", "\(result.added)"),
        ("deleted", "\(result.deleted)"), ("absent", "\(result.absent)"),
        ("counters", "{\"overlap\":\(c.overlap),\"not_found\":\(c.notFound),\"set_full\":\(c.setFull),\"other\":\(c.other)}"),
        ("batches", "\(result.batches)"), ("messages", "\(result.messages)"),
        ("retried_messages", "\(result.retriedMessages)"),
        ("failures", "[\(failures.joined(separator: ","))]"),
        ("error", result.error.map { jsonString($0.description) } ?? "null"),
    ]
    fields += extra
    return "{" + fields.map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
}

func parsePrefix(_ text: Substring) -> IPPrefix {
    guard let p = IPPrefix(text, strict: true) else {
        fail("not an address or prefix with zero host bits: \(text)")
    }
    return p
}

/// N random IPv4 entries: nine in ten single addresses, the rest prefixes
/// from /20 to /30, anywhere in the space (they are only set elements; no
/// traffic is sent).
func randomEntries(count: Int, seed: UInt64) -> [IPPrefix] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        let value = UInt32(truncatingIfNeeded: rng.next())
        let length = rng.below(10) == 0 ? 20 + rng.below(11) : 32
        return IPPrefix(network: IPAddress(v4: value), length: length)
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

// ---------------------------------------------------------------- main
var args = Array(CommandLine.arguments.dropFirst())
var table = "socfw"
if let i = args.firstIndex(of: "--table") {
    guard i + 1 < args.count else { fail("--table needs a name\n\(usage)") }
    table = args[i + 1]
    args.removeSubrange(i...(i + 1))
}
guard args.count >= 2 else { fail(usage) }
let command = args[0]
let set = args[1]
let operands = Array(args.dropFirst(2))

let client: NftSetClient
do {
    client = try NftSetClient(table: table)
} catch {
    fail("\(error)", status: 1)
}

switch command {
case "add":
    guard !operands.isEmpty else { fail("add needs at least one PREFIX[,TIMEOUT_MS]") }
    let entries = operands.map { operand -> (IPPrefix, timeoutMilliseconds: UInt64?) in
        let parts = operand.split(separator: ",", maxSplits: 1)
        var timeout: UInt64? = nil
        if parts.count == 2 {
            guard let t = UInt64(parts[1]) else { fail("not a timeout in milliseconds: \(parts[1])") }
            timeout = t
        }
        return (parsePrefix(parts[0]), timeoutMilliseconds: timeout)
    }
    let result = client.add(entries, to: set)
    print(json(result))
    exit(result.succeeded ? 0 : 1)

case "add-random":
    guard let n = operands.first.flatMap({ Int($0) }), n > 0 else { fail("add-random needs a count N > 0") }
    var timeout: UInt64? = nil
    var seed = UInt64(truncatingIfNeeded: time(nil))
    var rest = operands.dropFirst()
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--timeout":
            guard let t = UInt64(value) else { fail("not a timeout in milliseconds: \(value)") }
            timeout = t
        case "--seed":
            guard let s = UInt64(value) else { fail("not a seed: \(value)") }
            seed = s
        default: fail("unknown option \(flag)")
        }
    }
    let prefixes = randomEntries(count: n, seed: seed)
    let entries = prefixes.map { ($0, timeoutMilliseconds: timeout) }
    let clock = ContinuousClock()
    let start = clock.now
    let result = client.add(entries, to: set)
    let elapsed = seconds(clock.now - start)
    print(json(result, extra: [("seconds", String(format6(elapsed))), ("seed", "\(seed)")]))
    exit(result.succeeded ? 0 : 1)

case "del", "delete":
    guard !operands.isEmpty else { fail("del needs at least one PREFIX") }
    let result = client.delete(operands.map { parsePrefix(Substring($0)) }, from: set)
    print(json(result))
    exit(result.succeeded ? 0 : 1)

case "list":
    do {
        let elements = try client.list(set)
        let items = elements.map {
            "{\"prefix\":\(jsonString($0.prefix.description)),\"timeout_ms\":\(json($0.timeoutMilliseconds)),"
                + "\"expires_ms\":\(json($0.expiresInMilliseconds))}"
        }
        print("{\"set\":\(jsonString(set)),\"table\":\(jsonString(table)),\"elements\":[\(items.joined(separator: ","))]}")
    } catch {
        print("{\"set\":\(jsonString(set)),\"error\":\(jsonString(error.description))}")
        exit(1)
    }

case "flush":
    do {
        try client.flush(set)
        print("{\"set\":\(jsonString(set)),\"flushed\":true}")
    } catch {
        print("{\"set\":\(jsonString(set)),\"error\":\(jsonString(error.description))}")
        exit(1)
    }

default:
    fail("unknown command \(command)\n\(usage)")
}

/// Seconds with six decimals, without Foundation.
func format6(_ value: Double) -> String {
    let micros = Int((value * 1_000_000).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
}

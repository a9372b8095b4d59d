import SocfwWire

/// A signature that parsed but could not be compiled.
public struct SignatureSkip: Sendable, CustomStringConvertible {
    public var origin: SignatureOrigin
    public var sid: UInt32
    public var error: SignatureCompileError
    public var description: String { "\(origin): sid \(sid): \(error)" }
}

/// The prefilter of one context and buffer: a literal database and, per
/// literal, the signatures whose fast pattern it is.
final class BufferPrefilter: Sendable {
    let buffer: SignatureBuffer
    let database: LiteralDatabase
    /// Signatures of literal `i`: `signatures[starts[i]..<starts[i + 1]]`.
    let starts: [Int32]
    let signatures: [Int32]

    init(buffer: SignatureBuffer, literals: [(Literal, [Int32])]) throws(LiteralDatabaseError) {
        self.buffer = buffer
        database = try LiteralDatabase(literals: literals.map(\.0))
        var starts: [Int32] = [0]
        var signatures: [Int32] = []
        for (_, sigs) in literals {
            signatures += sigs
            starts.append(Int32(signatures.count))
        }
        self.starts = starts
        self.signatures = signatures
    }
}

/// The signatures of one context: prefilters per buffer plus the signatures
/// no literal selects (evaluated whenever the context is).
struct ContextGroup: Sendable {
    var prefilters: [BufferPrefilter] = []
    var unfiltered: [Int32] = []
    var count = 0
}

/// Compiled signatures, immutable and shared by every worker; a reload
/// builds a new set and the workers switch between batches.
public final class SignatureSet: Sendable {
    let signatures: [CompiledSignature]
    let groups: [ContextGroup]
    /// Header-only signatures, indexed by addresses.
    let headerIndex: HeaderSignatureIndex
    /// Flowbit names, by bit number.
    public let flowbitNames: [String]
    /// Signatures that parsed but did not compile.
    public let skipped: [SignatureSkip]
    /// Signatures per context, for reports.
    public let countsByContext: [String: Int]
    /// Payload signatures without a prefilter literal: verified whenever
    /// their context is inspected (pcre-only rules). Header-only signatures
    /// are indexed by address instead and not counted here.
    public var alwaysEvaluated: Int { groups.reduce(0) { $0 + $1.unfiltered.count } }
    /// Bytes of compiled literal databases.
    public let prefilterBytes: Int
    /// Stream signatures exist that can match data toward the server / the
    /// client: a direction nobody inspects is not reassembled.
    let streamToServer: Bool
    let streamToClient: Bool
    /// HTTP signatures exist (requests are parsed).
    let inspectsHTTP: Bool
    /// Some signature reads a buffer built from the header lines (not the raw header).
    let readsHeaderBuffers: Bool

    public var count: Int { signatures.count }

    /// The report information of signature `index`.
    public func info(_ index: Int) -> SignatureInfo { signatures[index].info }
    public func context(_ index: Int) -> InspectionContext { signatures[index].context }

    public static let empty = try! SignatureSet(specs: [])

    public init(specs: [SignatureSpec]) throws(LiteralDatabaseError) {
        var compiled: [CompiledSignature] = []
        var skipped: [SignatureSkip] = []
        var flowbitNumbers: [String: Int] = [:]
        compiled.reserveCapacity(specs.count)
        for spec in specs {
            do {
                compiled.append(try CompiledSignature(spec: spec, index: Int32(compiled.count),
                                                      flowbitNumbers: &flowbitNumbers))
            } catch {
                skipped.append(SignatureSkip(origin: spec.origin, sid: spec.sid, error: error))
            }
        }
        signatures = compiled
        self.skipped = skipped
        var names = [String](repeating: "", count: flowbitNumbers.count)
        for (name, n) in flowbitNumbers { names[n] = name }
        flowbitNames = names

        var groups = [ContextGroup](repeating: ContextGroup(), count: InspectionContext.allCases.count)
        var literalsByKey: [Int: [Literal: [Int32]]] = [:]
        var literalOrder: [Int: [Literal]] = [:]
        var headerOnly: [CompiledSignature] = []
        var counts: [String: Int] = [:]
        for sig in compiled {
            let c = Int(sig.context.rawValue)
            groups[c].count += 1
            counts[sig.context.name, default: 0] += 1
            if sig.context == .header {
                headerOnly.append(sig)
                continue
            }
            guard !sig.fastPatterns.isEmpty else {
                groups[c].unfiltered.append(sig.index)
                continue
            }
            for (buffer, literal) in sig.fastPatterns {
                let key = c * 64 + Int(buffer.rawValue)
                if literalsByKey[key]?[literal] == nil { literalOrder[key, default: []].append(literal) }
                if literalsByKey[key]?[literal]?.last != sig.index {
                    literalsByKey[key, default: [:]][literal, default: []].append(sig.index)
                }
            }
        }
        var bytes = 0
        for key in literalOrder.keys.sorted() {
            let literals = literalOrder[key]!.map { ($0, literalsByKey[key]![$0]!) }
            let prefilter = try BufferPrefilter(buffer: SignatureBuffer(rawValue: UInt8(key % 64))!, literals: literals)
            bytes += prefilter.database.sizeBytes
            groups[key / 64].prefilters.append(prefilter)
        }
        self.groups = groups
        prefilterBytes = bytes
        headerIndex = HeaderSignatureIndex(headerOnly)
        countsByContext = counts
        let stream = compiled.filter { $0.context == .stream }
        streamToServer = stream.contains { !$0.flow.toClient }
        streamToClient = stream.contains { !$0.flow.toServer }
        inspectsHTTP = compiled.contains { $0.context == .httpRequest || $0.context == .httpBody }
        let fromHeaderLines: Set<SignatureBuffer> = [
            .httpHeader, .httpStart, .httpHeaderNames, .httpCookie, .httpUserAgent, .httpReferer, .httpContentType,
            .httpAccept, .httpAcceptLanguage, .httpAcceptEncoding, .httpConnection, .httpContentLength,
        ]
        readsHeaderBuffers = compiled.contains { sig in
            sig.programs.contains { fromHeaderLines.contains($0.buffer) }
                || sig.fastPatterns.contains { fromHeaderLines.contains($0.buffer) }
        }
    }
}

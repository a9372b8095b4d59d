import SocfwWire

/// Finds the header-only signatures (no payload test: IP reputation lists
/// such as ET's tor, ciarmy and drop rules, scans by flags) that can apply to
/// a packet, from its addresses, without looking at the others.
///
/// Each signature is indexed by one side of its header: the source list if
/// it names addresses, else the destination list. The prefixes of a side cut
/// the address space into elementary intervals, each with the signatures
/// whose prefixes cover it; a lookup is one binary search. Signatures with
/// `any` on both sides, `<>`, or a prefix so wide it would be copied into
/// very many intervals are checked for every packet of their protocol.
struct HeaderSignatureIndex: Sendable {
    struct Side: Sendable {
        /// Sorted interval starts.
        var starts: [IPAddress] = []
        /// Signatures of interval `i`: `signatures[lists[i]..<lists[i + 1]]`.
        var lists: [Int32] = [0]
        var signatures: [Int32] = []

        func candidates(_ address: IPAddress) -> ArraySlice<Int32> {
            // Last start <= address.
            var lo = 0
            var hi = starts.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if starts[mid] <= address { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0 else { return [] }
            return signatures[Int(lists[lo - 1])..<Int(lists[lo])]
        }
    }

    var bySource = Side()
    var byDestination = Side()
    /// Checked for every packet.
    var unindexed: [Int32] = []
    var count = 0

    /// An interval list longer than this for one prefix sends the signature to `unindexed`.
    static let widePrefixIntervals = 1024

    init(_ signatures: [CompiledSignature]) {
        count = signatures.count
        var sourceSigs: [(CompiledSignature, [IPPrefix])] = []
        var destinationSigs: [(CompiledSignature, [IPPrefix])] = []
        for sig in signatures {
            if sig.bidirectional {
                unindexed.append(sig.index)
            } else if !sig.source.any && !sig.source.include.isEmpty {
                sourceSigs.append((sig, sig.source.include))
            } else if !sig.destination.any && !sig.destination.include.isEmpty {
                destinationSigs.append((sig, sig.destination.include))
            } else {
                unindexed.append(sig.index)
            }
        }
        var wide: [Int32] = []
        bySource = HeaderSignatureIndex.build(sourceSigs, wide: &wide)
        byDestination = HeaderSignatureIndex.build(destinationSigs, wide: &wide)
        unindexed += wide
        unindexed.sort()
    }

    static func build(_ entries: [(CompiledSignature, [IPPrefix])], wide: inout [Int32]) -> Side {
        var boundaries = Set<IPAddress>()
        for (_, prefixes) in entries {
            for p in prefixes {
                boundaries.insert(p.network)
                if let next = p.last.successor { boundaries.insert(next) }
            }
        }
        let starts = boundaries.sorted()
        guard !starts.isEmpty else { return Side() }
        var perInterval = [[Int32]](repeating: [], count: starts.count)
        for (sig, prefixes) in entries {
            var ranges: [Range<Int>] = []
            var total = 0
            for p in prefixes {
                let first = lowerBound(starts, p.network)
                let end = p.last.successor.map { lowerBound(starts, $0) } ?? starts.count
                ranges.append(first..<end)
                total += end - first
            }
            if total > widePrefixIntervals * max(1, prefixes.count) || total > 200_000 {
                wide.append(sig.index)
                continue
            }
            for r in ranges { for i in r where perInterval[i].last != sig.index { perInterval[i].append(sig.index) } }
        }
        var side = Side()
        side.starts = starts
        side.lists.reserveCapacity(starts.count + 1)
        for list in perInterval {
            side.signatures += list
            side.lists.append(Int32(side.signatures.count))
        }
        return side
    }

    private static func lowerBound(_ a: [IPAddress], _ x: IPAddress) -> Int {
        var lo = 0
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension IPPrefix {
    /// The last address of the prefix.
    var last: IPAddress {
        if !network.isV6 {
            let hostBits = 32 - length
            let mask: UInt64 = hostBits == 0 ? 0 : (UInt64(1) << hostBits) - 1
            return IPAddress(v4: UInt32(network.low | mask))
        }
        if length <= 64 {
            let hostBits = 64 - length
            let mask: UInt64 = hostBits == 64 ? .max : (UInt64(1) << hostBits) - 1
            return IPAddress(v6High: network.high | mask, low: .max)
        }
        let hostBits = 128 - length
        let mask: UInt64 = hostBits == 0 ? 0 : (UInt64(1) << hostBits) - 1
        return IPAddress(v6High: network.high, low: network.low | mask)
    }
}

extension IPAddress {
    /// The next address of the same family, nil after the last one.
    var successor: IPAddress? {
        if !isV6 { return v4 == .max ? nil : IPAddress(v4: v4 + 1) }
        if low != .max { return IPAddress(v6High: high, low: low + 1) }
        return high == .max ? nil : IPAddress(v6High: high + 1, low: 0)
    }
}

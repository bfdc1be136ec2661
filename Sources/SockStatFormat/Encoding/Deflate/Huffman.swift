/// A Huffman code over `symbols` symbols: frequencies in, lengths and
/// (bit-reversed, as DEFLATE sends them) codes out.
final class HuffmanTable {
    let symbols: Int
    let frequencies: UnsafeMutablePointer<UInt32>
    let lengths: UnsafeMutablePointer<UInt8>
    let codes: UnsafeMutablePointer<UInt16>

    init(symbols: Int) {
        self.symbols = symbols
        frequencies = .allocate(capacity: symbols)
        frequencies.initialize(repeating: 0, count: symbols)
        lengths = .allocate(capacity: symbols)
        lengths.initialize(repeating: 0, count: symbols)
        codes = .allocate(capacity: symbols)
        codes.initialize(repeating: 0, count: symbols)
    }

    deinit {
        frequencies.deallocate()
        lengths.deallocate()
        codes.deallocate()
    }

    /// Canonical codes from the lengths (RFC 1951, 3.2.2), bit-reversed.
    func assignCodes() {
        var countOfLength = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var next = countOfLength
        withUnsafeMutableBytes(of: &countOfLength) { raw in
            let count = raw.bindMemory(to: Int.self)
            for symbol in 0..<symbols { count[Int(lengths[symbol])] += 1 }
            count[0] = 0
            withUnsafeMutableBytes(of: &next) { raw in
                let next = raw.bindMemory(to: Int.self)
                var code = 0
                for length in 1..<16 {
                    code = (code + count[length - 1]) << 1
                    next[length] = code
                }
                for symbol in 0..<symbols {
                    let length = Int(lengths[symbol])
                    guard length > 0 else { continue }
                    let code = next[length]
                    next[length] += 1
                    codes[symbol] = UInt16(truncatingIfNeeded: code).bitReversed(length)
                }
            }
        }
    }
}

extension UInt16 {
    /// The low `count` (1…15) bits in reverse order.
    fileprivate func bitReversed(_ count: Int) -> UInt16 {
        return (UInt16(reverseByte(UInt8(truncatingIfNeeded: self))) << 8
            | UInt16(reverseByte(UInt8(truncatingIfNeeded: self >> 8)))) >> (16 - count)
    }
}

@inline(__always)
private func reverseByte(_ byte: UInt8) -> UInt8 {
    // Swap nibbles, pairs, then bits.
    var value = byte
    value = value >> 4 | value << 4
    value = (value & 0xCC) >> 2 | (value & 0x33) << 2
    value = (value & 0xAA) >> 1 | (value & 0x55) << 1
    return value
}

/// Builds length-limited Huffman codes without allocating: symbols sorted by
/// frequency (two radix passes), code lengths by Moffat and Katajainen's
/// in-place method, lengths over the limit folded back (as miniz does), the
/// shortest lengths to the most frequent symbols, ties by symbol.
final class HuffmanBuilder {
    private let keys: UnsafeMutablePointer<UInt32>
    private let order: UnsafeMutablePointer<UInt16>
    private let scratchKeys: UnsafeMutablePointer<UInt32>
    private let scratchOrder: UnsafeMutablePointer<UInt16>
    /// Codes per length; a Huffman tree over n symbols is at most n − 1
    /// deep, and lengths up to the limit (at most 15) are read.
    private let perLength: UnsafeMutablePointer<Int>
    private let buckets: UnsafeMutablePointer<Int>
    private let maxSymbols: Int

    init(maxSymbols: Int) {
        self.maxSymbols = maxSymbols
        keys = .allocate(capacity: maxSymbols)
        order = .allocate(capacity: maxSymbols)
        scratchKeys = .allocate(capacity: maxSymbols)
        scratchOrder = .allocate(capacity: maxSymbols)
        perLength = .allocate(capacity: maxSymbols + 16)
        buckets = .allocate(capacity: 256)
    }

    deinit {
        keys.deallocate()
        order.deallocate()
        scratchKeys.deallocate()
        scratchOrder.deallocate()
        perLength.deallocate()
        buckets.deallocate()
    }

    /// Sets `table`'s lengths (at most `limit`) and codes from its
    /// frequencies, each of which must be below 65,536. At least two symbols
    /// get a code, so the code is always complete.
    func build(_ table: HuffmanTable, limit: Int) {
        let symbols = table.symbols
        precondition(symbols <= maxSymbols && symbols >= 2)
        var used = 0
        for symbol in 0..<symbols where table.frequencies[symbol] != 0 {
            precondition(table.frequencies[symbol] < 65_536)
            scratchKeys[used] = table.frequencies[symbol]
            scratchOrder[used] = UInt16(symbol)
            used += 1
        }
        // Fewer than two: add unused symbols (the first ones) as if seen once.
        var filler = 0
        while used < 2 {
            if table.frequencies[filler] == 0, used == 0 || Int(scratchOrder[0]) != filler {
                scratchKeys[used] = 1
                scratchOrder[used] = UInt16(filler)
                used += 1
            }
            filler += 1
        }
        sortByKey(used)

        minimumRedundancyLengths(used)
        perLength.update(repeating: 0, count: max(used, limit) + 1)
        for index in 0..<used { perLength[Int(keys[index])] += 1 }
        limitLengths(used: used, limit: limit)

        table.lengths.update(repeating: 0, count: symbols)
        var index = used
        for length in 1...limit {
            for _ in 0..<perLength[length] {
                index -= 1
                table.lengths[Int(order[index])] = UInt8(length)
            }
        }
        table.assignCodes()
    }

    /// Stable sort of the first `count` scratch entries by key (below
    /// 65,536) into `keys`/`order`: low byte, then high byte.
    private func sortByKey(_ count: Int) {
        // Few symbols (the code-length code, most distance codes): insertion
        // sort, which is as stable as the radix passes.
        if count <= 32 {
            for index in 0..<count {
                let key = scratchKeys[index]
                let symbol = scratchOrder[index]
                var slot = index
                while slot > 0, keys[slot - 1] > key {
                    keys[slot] = keys[slot - 1]
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                keys[slot] = key
                order[slot] = symbol
            }
            return
        }
        let start = buckets
        func pass(_ fromKeys: UnsafeMutablePointer<UInt32>, _ fromOrder: UnsafeMutablePointer<UInt16>,
                  _ toKeys: UnsafeMutablePointer<UInt32>, _ toOrder: UnsafeMutablePointer<UInt16>, shift: UInt32) {
            start.update(repeating: 0, count: 256)
            for index in 0..<count { start[Int(fromKeys[index] >> shift & 0xFF)] += 1 }
            var total = 0
            for bucket in 0..<256 {
                let size = start[bucket]
                start[bucket] = total
                total += size
            }
            for index in 0..<count {
                let bucket = Int(fromKeys[index] >> shift & 0xFF)
                toKeys[start[bucket]] = fromKeys[index]
                toOrder[start[bucket]] = fromOrder[index]
                start[bucket] += 1
            }
        }
        pass(scratchKeys, scratchOrder, keys, order, shift: 0)
        // In a small block every frequency is below 256: the low byte sorted
        // them all, and the high-byte pass would keep the order.
        var highBytes: UInt32 = 0
        for index in 0..<count { highBytes |= keys[index] }
        guard highBytes >= 256 else { return }
        pass(keys, order, scratchKeys, scratchOrder, shift: 8)
        keys.update(from: scratchKeys, count: count)
        order.update(from: scratchOrder, count: count)
    }

    /// Replaces the `count` ascending frequencies in `keys` by the code
    /// lengths of an optimal prefix code (A. Moffat and J. Katajainen, "In-place
    /// calculation of minimum-redundancy codes", 1995), longest first.
    private func minimumRedundancyLengths(_ count: Int) {
        let a = keys
        if count == 1 {
            a[0] = 1
            return
        }
        // Phase 1: build the tree, parents' weights and then indices in place.
        a[0] += a[1]
        var root = 0
        var leaf = 2
        for next in 1..<(count - 1) {
            if leaf >= count || a[root] < a[leaf] {
                a[next] = a[root]
                a[root] = UInt32(next)
                root += 1
            } else {
                a[next] = a[leaf]
                leaf += 1
            }
            if leaf >= count || (root < next && a[root] < a[leaf]) {
                a[next] += a[root]
                a[root] = UInt32(next)
                root += 1
            } else {
                a[next] += a[leaf]
                leaf += 1
            }
        }
        // Phase 2: internal node depths.
        a[count - 2] = 0
        if count >= 3 {
            for next in stride(from: count - 3, through: 0, by: -1) {
                a[next] = a[Int(a[next])] + 1
            }
        }
        // Phase 3: leaf depths.
        var available = 1
        var usedNodes = 0
        var depth: UInt32 = 0
        var rootIndex = count - 2
        var next = count - 1
        while available > 0 {
            while rootIndex >= 0, a[rootIndex] == depth {
                usedNodes += 1
                rootIndex -= 1
            }
            while available > usedNodes {
                a[next] = depth
                next -= 1
                available -= 1
            }
            available = 2 * usedNodes
            depth += 1
            usedNodes = 0
        }
    }

    /// Folds codes longer than `limit` back in, keeping the Kraft sum exactly
    /// one, so the code stays complete.
    private func limitLengths(used: Int, limit: Int) {
        guard used > 1 else { return }
        if used > limit {
            for length in (limit + 1)...used { perLength[limit] += perLength[length]; perLength[length] = 0 }
        }
        var total = 0
        for length in 1...limit { total += perLength[length] << (limit - length) }
        while total != 1 << limit {
            perLength[limit] -= 1
            for length in stride(from: limit - 1, through: 1, by: -1) where perLength[length] != 0 {
                perLength[length] -= 1
                perLength[length + 1] += 2
                break
            }
            total -= 1
        }
    }
}

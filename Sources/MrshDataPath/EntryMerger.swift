/// k-way merge of sorted entry streams with a tree of losers. Ties go to the earlier stream, so the merge
/// is stable: with streams in map task order, equal entries come out in input order, and the entries of a
/// job's sources (sides) in side order.
///
/// Each stream comes from one source of the job (every map task reads one), so the side of an entry is its
/// stream's: `topSide` tells the reduce side where the current entry came from without a tag per entry.
///
/// Each stream's current entry carries the first 8 bytes of its sort key as a number (the prefix rule of
/// `ShuffleBuffer`), so most comparisons are one integer comparison on a contiguous array; the entries'
/// bytes are compared only when prefixes tie. Advancing the winner replays one leaf-to-root path:
/// ⌈log2 k⌉ comparisons (a binary heap needs about twice as many).
package final class EntryMerger {
    let readers: [EntryReader]
    /// The source (side) of each stream.
    private let sides: [Int]
    private let layout: ShuffleLayout
    private let rule: ShuffleBuffer.PrefixRule
    private let k: Int
    /// `tree[0]`: the winning stream; `tree[1..<k]`: the loser at each internal node (the leaf of stream
    /// s is node k + s, the parent of node n is n / 2).
    private let tree: UnsafeMutablePointer<Int>
    /// The current entry's key prefix of each stream.
    private let prefixes: UnsafeMutablePointer<UInt64>
    /// Whether each stream is exhausted (an exhausted stream loses to every other).
    private let done: UnsafeMutablePointer<Bool>

    /// `sides`: the source of each reader (nil: all from source 0).
    init(readers: [EntryReader], layout: ShuffleLayout, sides: [Int]? = nil) throws {
        self.readers = readers
        self.sides = sides ?? Array(repeating: 0, count: readers.count)
        precondition(self.sides.count == readers.count, "one side per reader")
        self.layout = layout
        self.rule = layout.prefixRule
        let k = readers.count
        self.k = k
        tree = .allocate(capacity: max(1, k))
        tree.initialize(repeating: 0, count: max(1, k))
        prefixes = .allocate(capacity: max(1, k))
        prefixes.initialize(repeating: 0, count: max(1, k))
        done = .allocate(capacity: max(1, k))
        done.initialize(repeating: true, count: max(1, k))
        for s in 0..<k where try readers[s].next() {
            done[s] = false
            prefixes[s] = rule.prefix(of: readers[s].a)
        }
        if k > 0 { build() }
    }

    deinit {
        tree.deallocate()
        prefixes.deallocate()
        done.deallocate()
    }

    /// The stream holding the smallest current entry, or nil when all are exhausted.
    @inline(__always)
    package var top: EntryReader? {
        if k == 0 { return nil }
        let w = tree[0]
        return done[w] ? nil : readers[w]
    }

    /// The source (side) of the top entry (0 when the merge is exhausted).
    package var topSide: Int {
        if k == 0 { return 0 }
        return sides[tree[0]]
    }

    /// Moves the top stream to its next entry.
    package func advanceTop() throws {
        if k == 0 { return }
        let w = tree[0]
        if done[w] { return }
        let reader = readers[w]
        if try reader.next() {
            prefixes[w] = rule.prefix(of: reader.a)
        } else {
            done[w] = true
        }
        var winner = w
        var node = (w + k) >> 1
        while node > 0 {
            let contender = tree[node]
            if less(contender, winner) {
                tree[node] = winner
                winner = contender
            }
            node >>= 1
        }
        tree[0] = winner
    }

    /// Plays every match bottom-up: winners climb, losers stay at the internal nodes.
    private func build() {
        var winners = [Int](repeating: 0, count: 2 * k)
        for s in 0..<k { winners[k + s] = s }
        var node = k - 1
        while node > 0 {
            let x = winners[2 * node]
            let y = winners[2 * node + 1]
            if less(y, x) {
                winners[node] = y
                tree[node] = x
            } else {
                winners[node] = x
                tree[node] = y
            }
            node -= 1
        }
        tree[0] = k == 1 ? 0 : winners[1]
    }

    /// Whether stream i's entry comes before stream j's (exhausted streams last, ties to the lower index).
    @inline(__always)
    private func less(_ i: Int, _ j: Int) -> Bool {
        if done[i] { return false }
        if done[j] { return true }
        let pi = prefixes[i]
        let pj = prefixes[j]
        if pi != pj { return pi < pj }
        let x = readers[i]
        let y = readers[j]
        let c = layout.compare(x.a, x.b, y.a, y.b)
        return c < 0 || (c == 0 && i < j)
    }
}

/// k-way merge of sorted entry streams with a binary heap. Ties go to the earlier stream, so the merge is
/// stable: with streams in map task order, equal entries come out in input order.
final class EntryMerger {
    let readers: [EntryReader]
    private let layout: ShuffleLayout
    private var heap: [Int] = []

    init(readers: [EntryReader], layout: ShuffleLayout) throws {
        self.readers = readers
        self.layout = layout
        heap.reserveCapacity(readers.count)
        for (i, reader) in readers.enumerated() where try reader.next() {
            heap.append(i)
            siftUp(heap.count - 1)
        }
    }

    /// The stream holding the smallest current entry, or nil when all are exhausted.
    @inline(__always)
    var top: EntryReader? { heap.first.map { readers[$0] } }

    /// Moves the top stream to its next entry.
    func advanceTop() throws {
        guard let first = heap.first else { return }
        if try readers[first].next() {
            siftDown(0)
        } else {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
    }

    @inline(__always)
    private func less(_ i: Int, _ j: Int) -> Bool {
        let x = readers[i]
        let y = readers[j]
        let c = layout.compare(x.a, x.b, y.a, y.b)
        return c < 0 || (c == 0 && i < j)
    }

    private func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            if less(heap[child], heap[parent]) {
                heap.swapAt(child, parent)
                child = parent
            } else {
                return
            }
        }
    }

    private func siftDown(_ index: Int) {
        var parent = index
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            if left >= count { return }
            var smallest = left
            let right = left + 1
            if right < count && less(heap[right], heap[left]) { smallest = right }
            if less(heap[smallest], heap[parent]) {
                heap.swapAt(smallest, parent)
                parent = smallest
            } else {
                return
            }
        }
    }
}

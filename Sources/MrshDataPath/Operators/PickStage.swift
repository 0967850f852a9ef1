#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `pick`: keeps the listed TAB-separated fields (1-based), in the listed order, joined by TAB.
/// A field past the end of the record is empty. Only the first `max(fields)` fields are located.
final class PickStage: RecordStage {
    private let fields: [Int]
    private let maxField: Int
    /// Start and end offsets of fields 1...maxField, reused for every record.
    private let starts: UnsafeMutablePointer<Int>
    private let ends: UnsafeMutablePointer<Int>
    private let out = ScratchBuffer()

    init(_ fields: [Int]) throws {
        if let bad = fields.first(where: { $0 < 1 }) {
            throw OperatorError("pick: field numbers start at 1, got \(bad)")
        }
        self.fields = fields
        maxField = fields.max() ?? 0
        starts = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(maxField, 1))
        ends = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(maxField, 1))
    }

    deinit {
        starts.deallocate()
        ends.deallocate()
    }

    func process(
        _ record: UnsafeRawBufferPointer, file: UnsafeRawBufferPointer,
        next: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let found = locateFields(record)
        out.removeAll()
        var first = true
        for field in fields {
            if !first { out.append(0x09) }
            first = false
            if field <= found {
                out.append(UnsafeRawBufferPointer(rebasing: record[starts[field - 1]..<ends[field - 1]]))
            }
        }
        try next(out.bytes)
    }

    /// Fills `starts`/`ends` for the first fields; returns how many fields were found (<= maxField).
    private func locateFields(_ record: UnsafeRawBufferPointer) -> Int {
        let n = record.count
        guard let base = record.baseAddress else {
            // An empty record has one (empty) field.
            if maxField > 0 {
                starts[0] = 0
                ends[0] = 0
                return 1
            }
            return 0
        }
        var count = 0
        var start = 0
        while count < maxField {
            starts[count] = start
            let tab = memchr(base + start, 0x09, n - start)
            if let tab {
                let end = UnsafeRawPointer(tab) - base
                ends[count] = end
                count += 1
                start = end + 1
            } else {
                ends[count] = n
                count += 1
                break
            }
        }
        return count
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX extended regular expression, compiled once and matched on raw bytes.
///
/// Matching uses `REG_STARTEND` (glibc and the BSDs), so records need no NUL terminator and may contain
/// NUL bytes; offsets are relative to the start of the record, so `^` only matches at the record's start
/// even when a search starts later. Not thread-safe: one instance per task thread.
final class PosixRegex {
    private let compiled: UnsafeMutablePointer<regex_t>
    /// Two slots: the whole match and capture group 1.
    private let slots: UnsafeMutablePointer<regmatch_t>
    /// A valid pointer to hand to `regexec` for empty records (whose base address may be nil).
    private let emptyString: UnsafeMutablePointer<CChar>
    /// Number of parenthesized groups in the pattern.
    let groupCount: Int
    private let wantsPositions: Bool
    /// Bytes every match contains (case-sensitive patterns only): records without them skip regexec.
    private let prefilter: LiteralSearch?

    /// Compiles `pattern`. With `positions == false` the regex only answers "does it match" (REG_NOSUB,
    /// faster); `firstMatch` then must not be called.
    /// - Throws: `OperatorError` naming the pattern and glibc's reason when it does not compile.
    init(_ pattern: String, caseInsensitive: Bool, positions: Bool, context: String) throws {
        var flags = REG_EXTENDED
        if caseInsensitive { flags |= REG_ICASE }
        if !positions { flags |= REG_NOSUB }
        compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = regcomp(compiled, pattern, flags)
        if status != 0 {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &message, message.count)
            compiled.deallocate()
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw OperatorError("\(context): bad regular expression \"\(pattern)\": \(reason)")
        }
        groupCount = Int(compiled.pointee.re_nsub)
        wantsPositions = positions
        prefilter = caseInsensitive ? nil : RequiredLiteral.of(pattern).map(LiteralSearch.init(bytes:))
        slots = UnsafeMutablePointer<regmatch_t>.allocate(capacity: 2)
        slots.initialize(repeating: regmatch_t(), count: 2)
        emptyString = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        emptyString.initialize(to: 0)
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
        slots.deallocate()
        emptyString.deallocate()
    }

    @inline(__always)
    private func cString(_ bytes: UnsafeRawBufferPointer) -> UnsafePointer<CChar> {
        guard let base = bytes.baseAddress else { return UnsafePointer(emptyString) }
        // Bytes and CChar are layout-compatible; regexec only reads them.
        return base.assumingMemoryBound(to: CChar.self)
    }

    /// Runs the matcher on `bytes[from...]`; true when it matched (positions then in `slots`).
    /// glibc offsets are 32-bit: a record longer than 2 GiB is only searched in its first 2 GiB.
    @inline(__always)
    private func exec(_ bytes: UnsafeRawBufferPointer, from: Int) -> Bool {
        if let prefilter, prefilter.firstIndex(in: bytes, from: from) == nil {
            return false
        }
        let limit = Int(regoff_t.max)
        slots[0].rm_so = regoff_t(Swift.min(from, limit))
        slots[0].rm_eo = regoff_t(Swift.min(bytes.count, limit))
        let nmatch = wantsPositions ? 2 : 0
        return regexec(compiled, cString(bytes), nmatch, slots, REG_STARTEND) == 0
    }

    /// Whether the regex matches anywhere in `bytes`.
    func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        exec(bytes, from: 0)
    }

    /// The leftmost match starting at or after `from`: the whole match and, when the pattern has
    /// groups, group 1 (nil when group 1 did not take part in the match).
    func firstMatch(in bytes: UnsafeRawBufferPointer, from: Int) -> (whole: Range<Int>, group: Range<Int>?)? {
        guard exec(bytes, from: from) else { return nil }
        let whole = Int(slots[0].rm_so)..<Int(slots[0].rm_eo)
        var group: Range<Int>? = nil
        if groupCount > 0 && slots[1].rm_so >= 0 {
            group = Int(slots[1].rm_so)..<Int(slots[1].rm_eo)
        }
        return (whole, group)
    }
}

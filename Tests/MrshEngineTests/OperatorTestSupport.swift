import MrshTestSupport
import MrshDataPath
import MrshControl
import MrshPlan

/// Runs `ops` over one record and collects the output records as byte arrays.
func runOps(_ ops: [RecordOp], _ record: [UInt8], file: String = "input.txt") throws -> [[UInt8]] {
    var pipeline = try RecordPipeline(ops)
    return collect(&pipeline, record, file: file)
}

/// Runs an existing pipeline over one record (to exercise reuse of its scratch buffers).
func collect(_ pipeline: inout RecordPipeline, _ record: [UInt8], file: String = "input.txt") -> [[UInt8]] {
    var outputs: [[UInt8]] = []
    let fileBytes = Array(file.utf8)
    record.withUnsafeBytes { rec in
        fileBytes.withUnsafeBytes { name in
            pipeline.process(rec, file: name) { outputs.append(Array($0)) }
        }
    }
    return outputs
}

/// String convenience: the record is the string's UTF-8, outputs are decoded (invalid bytes repaired).
func runOps(_ ops: [RecordOp], _ record: String, file: String = "input.txt") throws -> [String] {
    try runOps(ops, Array(record.utf8), file: file).map { String(decoding: $0, as: UTF8.self) }
}

// SplitMix64 lives in the MrshTestSupport target.

/// Pieces random records are built from: ASCII, accents, Greek, CJK, emoji, digits, blanks, CR, NUL
/// and invalid UTF-8 (lone continuation bytes, truncated sequences, 0xFF, an overlong form, a surrogate).
let randomPieces: [[UInt8]] = {
    var pieces: [[UInt8]] = ["a", "Z", "word", "The", "x", "é", "ß", "Ωμέγα", "中文", "字", "ǅ", "ʰ", "😀", "👍🏽",
        "1", "42", " ", "  ", "\t", "\r", ",", ".", "-", "_", "'", "ı", "İ", "ﬁ", "𝐀", "\u{10400}"]
        .map { Array($0.utf8) }
    pieces += [[0x00], [0x80], [0xFF], [0xE2, 0x82], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
    return pieces
}()

func randomRecord(_ rng: inout SplitMix64, maxPieces: Int = 80) -> [UInt8] {
    var record: [UInt8] = []
    let count = Int.random(in: 0...maxPieces, using: &rng)
    for _ in 0..<count {
        record += randomPieces[Int.random(in: 0..<randomPieces.count, using: &rng)]
    }
    return record
}

import MrshDataPath

/// The header check of `read ... | parse csv` with a header: every file a `read` names must start with the
/// same header record.
public enum CSVHeader {
    /// The longest header read: a first record longer than this is not a header.
    public static let longest = 1 << 20

    /// Expands `patterns` as `read` does (`InputPlanner.expand`: each must match, every file readable),
    /// reads the first CSV record of every file (as `parse csv` reads it: quoted fields may hold commas,
    /// doubled quotes and line breaks; the CR of a CRLF end and a leading UTF-8 byte order mark are dropped)
    /// and returns the first file's field names, unescaped.
    /// - Throws: `EngineError.noMatch` or `.invalid` from the expansion; `EngineError.invalid` naming the file
    ///   when one is empty, cannot be read or starts with a record longer than `longest`, and naming both
    ///   files (and their headers) when a file's header differs from the first file's.
    public static func read(patterns: [String]) throws -> [String] {
        let files = try InputPlanner.expand(patterns)
        var first: (file: String, fields: [[UInt8]])?
        for file in files {
            let fields = try header(of: file)
            guard let reference = first else {
                first = (file, fields)
                continue
            }
            if fields != reference.fields {
                throw EngineError.invalid(
                    "the CSV header of '\(file)' (\(describe(fields))) differs from that of '\(reference.file)' "
                        + "(\(describe(reference.fields)))")
            }
        }
        return (first?.fields ?? []).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The fields of the first record of `file`, read in blocks up to its end (at most `longest` bytes).
    static func header(of file: String) throws -> [[UInt8]] {
        var record: [UInt8] = []
        do {
            let fd = try FileIO.openForReading(file)
            defer { FileIO.closeQuietly(fd) }
            var block = [UInt8](repeating: 0, count: 1 << 16)
            var odd = false
            var ended = false
            while !ended {
                let n = try block.withUnsafeMutableBytes { buffer in
                    try FileIO.read(fd, into: buffer.baseAddress!, count: buffer.count, at: Int64(record.count), path: file)
                }
                if n == 0 { break }
                var take = n
                for i in 0..<n {
                    let b = block[i]
                    if b == 0x22 {
                        odd.toggle()
                    } else if b == 0x0A && !odd {
                        take = i + 1
                        ended = true
                        break
                    }
                }
                record += block[0..<take]
                if record.count > longest {
                    throw EngineError.invalid(
                        "cannot read the CSV header of '\(file)': its first record is longer than \(longest) bytes")
                }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError.invalid("cannot read the CSV header of '\(file)': \(EngineError.describe(error))")
        }
        guard !record.isEmpty else { throw EngineError.invalid("'\(file)' is empty: it has no CSV header") }
        if record.last == 0x0A { record.removeLast() }
        if record.last == 0x0D { record.removeLast() }
        // A UTF-8 byte order mark (spreadsheets write one) is not part of the first name.
        if record.starts(with: [0xEF, 0xBB, 0xBF]) { record.removeFirst(3) }
        return record.withUnsafeBytes { CSVParser.fields($0) }
    }

    /// `a, b, c` for the message.
    private static func describe(_ fields: [[UInt8]]) -> String {
        fields.map { field in
            String(decoding: field, as: UTF8.self).replacingControls()
        }.joined(separator: ", ")
    }
}

extension String {
    /// TAB, LF and CR as `\t`, `\n`, `\r` (a header field shown in a one-line message).
    fileprivate func replacingControls() -> String {
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// One entry of the operator catalog: everything the shell shows or completes about a name.
public struct OperatorInfo: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A pipeline stage (`map`, `reduce`, ...).
        case stage
        /// A statement keyword (`let`, `explain`).
        case statement
        /// Reserved for a future version; the parser rejects it as not yet supported.
        case reserved
    }

    public let name: String
    public let kind: Kind
    /// The syntax, e.g. `reduce count|sum|min|max|avg|collect|distinct`.
    public let usage: String
    /// One line for `:help` listings.
    public let summary: String
    /// A few lines for `:help NAME`.
    public let details: String
    /// A complete statement using it (parsed by the tests, so it stays valid).
    public let example: String
    /// Words that may follow it, for tab completion.
    public let keywords: [String]

    /// `usage`, `summary`, `details` and the example, for `:help NAME`.
    public var helpText: String {
        "\(usage)\n  \(summary)\n\n\(details)\n\nExample:\n  \(example)"
    }
}

/// The one table of every name of the language. It drives `:help`, tab completion and "did you mean",
/// so they cannot disagree.
public enum OperatorCatalog {
    public static let entries: [OperatorInfo] = [
        OperatorInfo(
            name: "read", kind: .stage, usage: "read PATH [PATH ...]",
            summary: "Read the lines of every matching file, in file name order.",
            details: """
                PATH is a glob (logs/*.txt, /var/log/*), a "quoted string" or a plain name.
                Only the first stage may read; a pipeline without read reads standard input.
                """,
            example: #"read "logs/*.txt" | count"#, keywords: []),
        OperatorInfo(
            name: "grep", kind: .stage, usage: #"grep [not] "TEXT"|/REGEX/[i]"#,
            summary: "Keep the records that contain TEXT or match REGEX (with not: that do not).",
            details: """
                A "string" matches literally; a /regex/ is a POSIX extended regex, /regex/i ignores case.
                """,
            example: "read logs/* | grep not /debug/i | count", keywords: ["not"]),
        OperatorInfo(
            name: "map", kind: .stage, usage: "map " + MapFunction.allCases.map(\.rawValue).joined(separator: "|"),
            summary: "Transform each record: split into words, change case, or trim spaces.",
            details: """
                words: one record per word (a run of letters). lower, upper: change case.
                trim: remove leading and trailing white space.
                """,
            example: "read book.txt | map words | map lower | reduce count", keywords: MapFunction.allCases.map(\.rawValue)),
        OperatorInfo(
            name: "split", kind: .stage, usage: #"split ["SEP"|/REGEX/] [as NAME, ...]"#,
            summary: "Split each record into fields, on whitespace or on SEP, and optionally name them.",
            details: """
                Fields are joined by TAB; the first field is the key, the rest the value (for reduce, sort).
                Without SEP, runs of spaces and tabs separate fields, like awk. With as, later stages may
                use the names wherever a field can stand: split as ip, ts, path | where path ~ /api/.
                """,
            example: #"read data.csv | split "," as id, name | select name, id"#, keywords: ["as"]),
        OperatorInfo(
            name: "parse", kind: .stage, usage: #"parse csv [header] [as NAME, ...] | parse json "PATH" [as NAME], ..."#,
            summary: "Turn CSV or JSON Lines records into TAB-separated fields, with names.",
            details: """
                csv: RFC 4180 (quoted fields may hold commas, "" and line breaks); header takes the names
                from the first line of the first input file and skips every file's first line. A field's
                TABs and line breaks come out as \\t and \\n. json: one field per path ("user.id"),
                named by as or by the path's last key; a missing path is empty, an object or array its
                compact JSON; a line that is not a JSON object is a bad record.
                """,
            example: #"read "access.csv" | parse csv header | reduce count by status"#, keywords: ["csv", "json", "header", "as"]),
        OperatorInfo(
            name: "where", kind: .stage, usage: "where EXPR",
            summary: "Keep the records for which EXPR is true.",
            details: """
                EXPR compares fields ($1, or names) and values: == != < <= > >= (numeric when both sides
                are numbers, else by bytes), ~ /regex/, !~, in ("a", "b"), and or not, + - * / %, and the
                functions len lower upper trim substr contains startswith endswith int num if.
                """,
            example: #"read access.log | split as ip, path, status | where status >= 500 and path ~ /^\/api/ | count"#,
            keywords: ["and", "or", "not", "in"]),
        OperatorInfo(
            name: "counter", kind: .stage, usage: #"counter "NAME" [where EXPR]"#,
            summary: "Count the records (those for which EXPR is true) without changing them.",
            details: """
                The count is summed over the tasks that won (a task run again or backed up counts once),
                shown in the job summary with --verbose and written by --counters FILE. EXPR is a
                condition, as in where; a record it cannot evaluate is a bad record.
                """,
            example: #"read access.log | split as ip, path, status | counter "errors" where status >= 500 | reduce count by path"#,
            keywords: ["where"]),
        OperatorInfo(
            name: "select", kind: .stage, usage: "select EXPR [as NAME], ...",
            summary: "Make each record of the given expressions, in order.",
            details: "A field keeps its name; as names any expression. Later stages see only these fields.",
            example: "read access.log | split as ip, path, bytes | select path, bytes * 8 as bits", keywords: ["as"]),
        OperatorInfo(
            name: "pick", kind: .stage, usage: "pick N [, N ...]",
            summary: "Keep the given fields (1-based), in the given order.",
            details: "Field numbers start at 1. Commas between them are optional.",
            example: "read access.log | split | pick 1 7 | reduce count", keywords: []),
        OperatorInfo(
            name: "extract", kind: .stage, usage: "extract /REGEX/[i]",
            summary: "Emit every match of REGEX in each record (its first group, if it has one).",
            details: "Records without a match produce nothing.",
            example: "read logs/* | extract /user=([a-z]+)/ | reduce count", keywords: []),
        OperatorInfo(
            name: "tag", kind: .stage, usage: "tag file",
            summary: "Append the name of the record's input file as a field.",
            details: "Useful to count per file: tag file, then pick the file field as key.",
            example: "read logs/* | tag file | split | pick 2 | reduce count", keywords: ["file"]),
        OperatorInfo(
            name: "reduce", kind: .stage,
            usage: "reduce AGG [as NAME], ... [by EXPR [as NAME], ...]",
            summary: "Group records (by field 1, or by the by expressions) and aggregate each group.",
            details: """
                AGG: count, sum(E), min(E), max(E), avg(E), collect(E), distinct(E), ndistinct(E). The
                output is the group fields, then the aggregates in the order written, named count,
                sum(bytes), ... unless renamed with as. Without by the group is field 1 and a bare sum,
                min, ... aggregates the rest of the record (the value). Empty values are skipped.
                """,
            example: "read access.log | split as ip, path, status, bytes | reduce count, sum(bytes) by status",
            keywords: ReduceFunction.allCases.map(\.rawValue)),
        OperatorInfo(
            name: "sort", kind: .stage, usage: "sort [by " + SortKey.allCases.map(\.rawValue).joined(separator: "|") + "] [asc|desc] | sort by EXPR [asc|desc], ...",
            summary: "Sort records, by key (default), value, whole record or expressions; ascending by default.",
            details: """
                The key is the first field, the value everything after it. By expressions, numbers sort
                before other text, numerically; text by bytes; missing fields last. Ties keep input order.
                """,
            example: "read logs/* | map words | reduce count | sort by value desc | take 10",
            keywords: ["by"] + SortKey.allCases.map(\.rawValue) + ["asc", "desc"]),
        OperatorInfo(
            name: "top", kind: .stage, usage: "top N by EXPR [asc|desc], ... [per EXPR, ...]",
            summary: "Keep the N first records by EXPR (descending by default), overall or per group.",
            details: "With per, the N first of each group, groups in sorted order. Ties keep input order.",
            example: "read access.log | split as ip, path, status | reduce count by status, path | top 3 by count per status",
            keywords: ["by", "per", "asc", "desc"]),
        OperatorInfo(
            name: "take", kind: .stage, usage: "take N",
            summary: "Keep the first N records (N >= 0).",
            details: "After a sort: the top N.",
            example: "read logs/* | take 5", keywords: []),
        OperatorInfo(
            name: "distinct", kind: .stage, usage: "distinct",
            summary: "Keep one copy of each distinct record.",
            details: "The output order is unspecified; sort it if it matters.",
            example: "read logs/* | distinct | count", keywords: []),
        OperatorInfo(
            name: "count", kind: .stage, usage: "count",
            summary: "Emit the number of records.",
            details: "For counts per key, use reduce count.",
            example: "read logs/* | count", keywords: []),
        OperatorInfo(
            name: "join", kind: .stage, usage: "join [left] NAME on EXPR [= EXPR] [using shuffle|broadcast]",
            summary: "Join the records with those of the binding NAME where the keys are equal.",
            details: """
                The left key is computed from the records flowing in, the right one (after =; the same
                expression without it) from NAME's records; keys match when their texts are equal, and an
                empty key matches nothing. The output is the left fields, then NAME's fields without its
                key field (a name both sides have becomes NAME.field). join left also keeps the records
                without a match, with NAME's fields empty. mrsh broadcasts NAME to the map tasks when it
                is at most --broadcast-limit (64 MiB), else shuffles both sides; using forces one.
                """,
            example: #"let users = read users.tsv | split as id, name; read access.log | split as uid, path | join users on uid = id | reduce count by name"#,
            keywords: ["left", "on", "using", "shuffle", "broadcast"]),
        OperatorInfo(
            name: "union", kind: .stage, usage: "union NAME [, NAME ...]",
            summary: "Append the records of the bindings to the records flowing in.",
            details: """
                Every record is kept (no deduplication). Fields keep the names of the records flowing in;
                the sides may have different numbers of fields.
                """,
            example: #"let old = read "archive/*.log"; read "logs/*.log" | union old | grep "error" | count"#,
            keywords: []),
        OperatorInfo(
            name: "stream", kind: .stage, usage: #"stream "COMMAND""#,
            summary: "Pipe the records through a shell command, once per task; its output lines are the next records.",
            details: "COMMAND runs with /bin/sh -c in the task's scratch directory with a trimmed environment. A non-zero exit or a signal fails the task. Cluster workers run it only when started with --allow-stream.",
            example: #"read logs/* | stream "cut -f 2" | reduce count"#, keywords: []),
        OperatorInfo(
            name: "write", kind: .stage, usage: "write PATH [overwrite]",
            summary: "Write the records to the directory PATH (one file per reduce partition).",
            details: "Only the last stage may write. An existing PATH is an error unless overwrite is given.",
            example: "read logs/* | map words | reduce count | write out/ overwrite", keywords: ["overwrite"]),
        OperatorInfo(
            name: "let", kind: .statement, usage: "let NAME = PIPELINE",
            summary: "Name a pipeline; later pipelines may start with NAME.",
            details: "NAME is not run until a pipeline that starts with it is. It may not be an operator name.",
            example: "let words = read book.txt | map words; words | reduce count", keywords: []),
        OperatorInfo(
            name: "explain", kind: .statement, usage: "explain [analyze] PIPELINE",
            summary: "Show the task graph of PIPELINE without running it (analyze: run it and show what each stage did).",
            details: """
                Shows the map and reduce phases, the shuffle and the number of tasks. With analyze, runs the
                pipeline (a write writes; records for standard output are counted, not printed) and adds each
                stage's records and bytes in and out, the tasks' time, and the records per reducer as a
                histogram, to see skew at a glance.
                """,
            example: "explain analyze read logs/* | map words | reduce count", keywords: ["analyze"]),
    ]

    /// The entry named `name`, if any.
    public static func info(_ name: String) -> OperatorInfo? {
        entries.first { $0.name == name }
    }

    /// Names of every pipeline stage operator, in catalog order.
    public static var stageNames: [String] { entries.filter { $0.kind == .stage }.map(\.name) }

    /// Names of every entry: stages, statements and reserved words. None of them can name a binding.
    public static var reservedNames: Set<String> { Set(entries.map(\.name)) }

    /// Completion candidates for the word after `name` (an operator's argument keywords).
    public static func keywords(after name: String) -> [String] { info(name)?.keywords ?? [] }
}

import MrshLanguage
import MrshPlan
/// Tab completion as a pure function of the line and cursor, so tests need no terminal.
///
/// It completes operators at a statement's start and after `|`, an operator's argument keywords
/// (`reduce <TAB>` offers count, sum, ...), `let` names, shell commands after `:`, their arguments
/// (`:help`, `:describe`, `:set`, `:mode`, `:run`, `:chart`), and file paths inside the string of `read` and `write` and
/// as bare paths there.
public struct Completer: Sendable {
    /// One directory entry, for path completion.
    public struct DirectoryEntry: Sendable, Hashable {
        public var name: String
        public var isDirectory: Bool
        public init(name: String, isDirectory: Bool) {
            self.name = name
            self.isDirectory = isDirectory
        }
    }

    /// One possible completion of the word before the cursor.
    public struct Candidate: Sendable, Hashable {
        /// The whole word as it would read after completion.
        public var text: String
        /// What follows when this is the only candidate: a space, a closing quote and a space, or
        /// nothing (after a directory's `/`).
        public var terminator: String
    }

    /// The candidates and where the word they replace starts (a UTF-8 offset in the line).
    public struct Result: Sendable, Hashable {
        public var wordStart: Int
        public var word: String
        public var candidates: [Candidate]

        /// The longest text every candidate starts with.
        public var commonPrefix: String {
            guard var prefix = candidates.first.map({ Array($0.text.utf8) }) else { return word }
            for c in candidates.dropFirst() {
                let bytes = Array(c.text.utf8)
                var n = 0
                while n < prefix.count, n < bytes.count, prefix[n] == bytes[n] { n += 1 }
                prefix.removeSubrange(n...)
            }
            // Never cut a multi-byte character in half.
            while !prefix.isEmpty, String(validating: prefix, as: UTF8.self) == nil { prefix.removeLast() }
            return String(decoding: prefix, as: UTF8.self)
        }
    }

    public var bindings: [String]
    /// Shell command names without the colon.
    public var commands: [String]
    /// Option names of `:set`.
    public var options: [String]
    /// Lists a directory (`""` is the current one); the default reads the file system.
    public var listDirectory: @Sendable (String) -> [DirectoryEntry]
    /// The field names after a pipeline's text (the stages before the one being typed), for expressions.
    public var fieldNames: @Sendable (String) -> [String]

    public init(
        bindings: [String] = [], commands: [String] = [], options: [String] = [],
        listDirectory: @escaping @Sendable (String) -> [DirectoryEntry] = FileSystemListing.list,
        fieldNames: @escaping @Sendable (String) -> [String] = { _ in [] }
    ) {
        self.bindings = bindings
        self.commands = commands
        self.options = options
        self.listDirectory = listDirectory
        self.fieldNames = fieldNames
    }

    /// Completes the word that ends at `cursor` (a UTF-8 offset into `line`).
    public func complete(line: String, cursor: Int) -> Result {
        let bytes = Array(line.utf8)
        let before = Array(bytes[0..<min(max(cursor, 0), bytes.count)])
        var firstNonBlank = 0
        while firstNonBlank < before.count, isBlank(before[firstNonBlank]) { firstNonBlank += 1 }
        if firstNonBlank < before.count, before[firstNonBlank] == UInt8(ascii: ":") {
            return completeCommand(before, from: firstNonBlank)
        }
        return completeStatement(before)
    }

    // MARK: Shell commands

    private func completeCommand(_ before: [UInt8], from start: Int) -> Result {
        let (wordStart, word) = lastWord(before, from: start)
        let words = splitWords(before[start..<wordStart])
        if words.isEmpty {
            // `:he` -> `:help`
            let typed = String(word.dropFirst())
            return Result(
                wordStart: wordStart, word: word,
                candidates: matching(commands, prefix: typed).map { Candidate(text: ":" + $0, terminator: " ") })
        }
        guard words.count == 1 else { return Result(wordStart: wordStart, word: word, candidates: []) }
        switch words[0] {
        case ":help", ":h", ":?":
            let names = ShellLanguage.entries.map(\.name) + commands
            return Result(wordStart: wordStart, word: word, candidates: matching(names, prefix: word).map(plain))
        case ":describe":
            return Result(wordStart: wordStart, word: word, candidates: matching(bindings, prefix: word).map(plain))
        case ":set":
            return Result(wordStart: wordStart, word: word, candidates: matching(options, prefix: word).map(plain))
        case ":run", ":chart":
            return Result(wordStart: wordStart, word: word, candidates: paths(word, quoted: false))
        case ":mode":
            let modes = OutputFormat.allCases.map(\.rawValue)
            return Result(wordStart: wordStart, word: word, candidates: matching(modes, prefix: word).map(plain))
        default:
            return Result(wordStart: wordStart, word: word, candidates: [])
        }
    }

    // MARK: Statements

    private func completeStatement(_ before: [UInt8]) -> Result {
        // Find the current stage: after the last `|` or `;` outside strings and regexes.
        var segmentStart = 0
        var statementStart = 0
        var stringStart: Int?
        var inRegex = false
        var i = 0
        while i < before.count {
            let b = before[i]
            if let _ = stringStart {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") { stringStart = nil }
            } else if inRegex {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "/") { inRegex = false }
            } else if b == UInt8(ascii: "\"") {
                stringStart = i
            } else if b == UInt8(ascii: "/"), i == 0 || isBlank(before[i - 1]),
                let previous = splitWords(before[segmentStart..<i]).last,
                ["grep", "not", "split", "extract"].contains(previous)
            {
                inRegex = true
            } else if b == UInt8(ascii: "|") || b == UInt8(ascii: ";") {
                segmentStart = i + 1
                if b == UInt8(ascii: ";") { statementStart = i + 1 }
            }
            i += 1
        }
        if inRegex { return Result(wordStart: before.count, word: "", candidates: []) }
        if let quote = stringStart {
            let word = String(decoding: before[(quote + 1)...], as: UTF8.self)
            let words = stageWords(before[segmentStart..<quote])
            let takesPath = words.first == "read" || words.first == "write" || words.isEmpty
            return Result(wordStart: quote + 1, word: word, candidates: takesPath ? paths(word, quoted: true) : [])
        }
        let (wordStart, word) = lastWord(before, from: segmentStart)
        var words = stageWords(before[segmentStart..<wordStart])
        if words.first == "=" { words.removeFirst() }
        guard let op = words.first else {
            var names = ShellLanguage.entries.filter(\.isStage).map(\.name) + bindings
            if segmentIsStatementStart(before, segmentStart) { names += ["let", "explain"] }
            return Result(wordStart: wordStart, word: word, candidates: matching(names, prefix: word).map(plain))
        }
        if Self.expressionStages.contains(op), words.count >= 2 || op != "reduce" || word.contains("(") {
            // The pipeline before this stage says which fields there are.
            let previous = segmentStart > statementStart
                ? String(decoding: before[statementStart..<(segmentStart - 1)], as: UTF8.self) : ""
            return completeExpression(word, wordStart: wordStart, words: words, previous: previous)
        }
        switch op {
        case "join", "union":
            let previous = segmentStart > statementStart
                ? String(decoding: before[statementStart..<(segmentStart - 1)], as: UTF8.self) : ""
            let candidates = completeJoinOrUnion(op, words: words, previous: previous)
            return Result(wordStart: wordStart, word: word, candidates: matching(candidates, prefix: word).map(plain))
        case "read":
            return Result(wordStart: wordStart, word: word, candidates: paths(word, quoted: false))
        case "write":
            let candidates = words.count >= 2 ? matching(["overwrite"], prefix: word).map(plain) : paths(word, quoted: false)
            return Result(wordStart: wordStart, word: word, candidates: candidates)
        case "let":
            return Result(wordStart: wordStart, word: word, candidates: [])
        case "sort":
            let keys: [String]
            if words.last == "by" {
                keys = ["key", "value", "record"]
            } else if words.contains("asc") || words.contains("desc") {
                keys = []
            } else if words.contains("by") {
                keys = ["asc", "desc"]
            } else {
                keys = ["by", "asc", "desc"]
            }
            return Result(wordStart: wordStart, word: word, candidates: matching(keys, prefix: word).map(plain))
        default:
            let entry = ShellLanguage.entry(named: op)
            // Keywords are the operator's single argument (plus `grep not`): offer them right after it.
            let keywords = words.count == 1 ? entry?.keywords ?? [] : []
            return Result(wordStart: wordStart, word: word, candidates: matching(keywords, prefix: word).map(plain))
        }
    }

    /// The words after `join` (`left`, a binding, `on`, the left fields, after `=` the binding's fields,
    /// `using` and the strategies) and after `union` (bindings).
    private func completeJoinOrUnion(_ op: String, words: [String], previous: String) -> [String] {
        if op == "union" { return bindings }
        let rest = Array(words.dropFirst())
        switch rest.last {
        case nil: return bindings + ["left"]
        case "left" where rest.count == 1: return bindings
        case "using": return ["shuffle", "broadcast"]
        default: break
        }
        guard let onIndex = rest.firstIndex(of: "on") else { return ["on"] }
        let binding = rest[onIndex - 1 >= 0 ? onIndex - 1 : 0]
        if rest.contains("using") { return [] }
        if rest.last == "on" { return fieldNames(previous) }
        if rest.last == "=" { return fieldNames(binding) }
        return ["using"] + (rest.contains("=") ? fieldNames(binding) : ["="] + fieldNames(previous))
    }

    /// Stages whose arguments are expressions over fields.
    static let expressionStages: Set<String> = ["where", "select", "reduce", "sort", "top"]

    /// A word inside an expression: a field name of the pipeline so far, a function (completed with its
    /// `(`), an aggregate after `reduce`, or a keyword. Only the name at the word's end is completed
    /// (`sum(by` completes `by...`).
    private func completeExpression(_ word: String, wordStart: Int, words: [String], previous: String) -> Result {
        let bytes = Array(word.utf8)
        var nameStart = bytes.count
        while nameStart > 0, Self.isNameByte(bytes[nameStart - 1]) { nameStart -= 1 }
        let lead = String(decoding: bytes[..<nameStart], as: UTF8.self)
        let name = String(decoding: bytes[nameStart...], as: UTF8.self)
        let op = words[0]
        var names = fieldNames(previous).filter { $0.utf8.allSatisfy(Self.isNameByte) && !$0.isEmpty }
        var calls: [String] = []
        var keywords: [String] = []
        switch op {
        case _ where lead.contains("("):
            calls = ScalarFunction.allNames  // inside a call's parentheses: a value
        case "reduce":
            if words.contains("by") {
                calls = ScalarFunction.allNames
                keywords = ["as"]
            } else if words.last?.hasSuffix(",") == true {
                calls = ReduceFunction.allCases.map(\.rawValue)
                names = []
            } else {
                keywords = ["as", "by"]
                names = []
            }
        case "sort", "top":
            if op == "sort" && words.count == 1 { names = []; keywords = ["by", "asc", "desc"] }
            else if words.last == "by" && op == "sort" { keywords = SortKey.allCases.map(\.rawValue); calls = ScalarFunction.allNames }
            else if op == "top" && !words.contains("by") { names = []; keywords = ["by"] }
            else { calls = ScalarFunction.allNames; keywords = op == "top" ? ["per", "asc", "desc"] : ["asc", "desc"] }
        default:
            calls = ScalarFunction.allNames
            keywords = op == "select" ? ["as"] : ["and", "or", "not", "in"]
        }
        // Functions only once a letter is typed: an empty word lists the fields and keywords.
        if name.isEmpty && op != "reduce" { calls = [] }
        var candidates = matching(names + keywords, prefix: name).map { Candidate(text: lead + $0, terminator: " ") }
        candidates += matching(calls, prefix: name).map { Candidate(text: lead + $0 + "(", terminator: "") }
        var seen = Set<String>()
        candidates = candidates.filter { seen.insert($0.text).inserted }.sorted { $0.text < $1.text }
        return Result(wordStart: wordStart, word: word, candidates: candidates)
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }

    /// The words of a stage, without a leading `explain`, `explain analyze` or `let NAME =`.
    private func stageWords(_ bytes: ArraySlice<UInt8>) -> [String] {
        var words = splitWords(bytes)
        if words.first == "explain" {
            words.removeFirst()
            if words.first == "analyze" { words.removeFirst() }
        }
        if words.count >= 3, words[0] == "let", words[2] == "=" { words.removeFirst(3) }
        else if words.count >= 2, words[0] == "let", words[1].hasSuffix("=") { words.removeFirst(2) }
        return words
    }

    /// True when nothing but blanks precede `segmentStart`, or it follows a `;`.
    private func segmentIsStatementStart(_ before: [UInt8], _ segmentStart: Int) -> Bool {
        segmentStart == 0 || before[segmentStart - 1] == UInt8(ascii: ";")
    }

    // MARK: Paths

    private func paths(_ word: String, quoted: Bool) -> [Candidate] {
        let directory: String
        let namePrefix: String
        if let slash = word.lastIndex(of: "/") {
            directory = String(word[...slash])
            namePrefix = String(word[word.index(after: slash)...])
        } else {
            directory = ""
            namePrefix = word
        }
        let showHidden = namePrefix.hasPrefix(".")
        return listDirectory(directory)
            .filter { $0.name.hasPrefix(namePrefix) && (showHidden || !$0.name.hasPrefix(".")) }
            .sorted { $0.name < $1.name }
            .map { entry in
                entry.isDirectory
                    ? Candidate(text: directory + entry.name + "/", terminator: "")
                    : Candidate(text: directory + entry.name, terminator: quoted ? "\" " : " ")
            }
    }

    // MARK: Words

    private func plain(_ name: String) -> Candidate { Candidate(text: name, terminator: " ") }

    private func matching(_ names: [String], prefix: String) -> [String] {
        var seen = Set<String>()
        return names.filter { $0.hasPrefix(prefix) && seen.insert($0).inserted }.sorted()
    }

    /// The word that ends the text (after the last blank, or `from`) and where it starts.
    private func lastWord(_ before: [UInt8], from start: Int) -> (Int, String) {
        var wordStart = before.count
        while wordStart > start, !isBlank(before[wordStart - 1]) { wordStart -= 1 }
        return (wordStart, String(decoding: before[wordStart...], as: UTF8.self))
    }

    private func splitWords(_ bytes: ArraySlice<UInt8>) -> [String] {
        bytes.split(whereSeparator: isBlank).map { String(decoding: $0, as: UTF8.self) }
    }

    private func isBlank(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n")
    }
}

extension ScalarFunction {
    /// Every function's name, for completion.
    static var allNames: [String] { allCases.map(\.rawValue) }
}

import Testing
@testable import MrshShell

@Suite struct CompleterTests {
    let files: [String: [Completer.DirectoryEntry]] = [
        "": [.init(name: "logs", isDirectory: true), .init(name: "book.txt", isDirectory: false), .init(name: ".hidden", isDirectory: false)],
        "logs/": [.init(name: "access.log", isDirectory: false), .init(name: "app.log", isDirectory: false), .init(name: "old", isDirectory: true)],
    ]

    var completer: Completer {
        let files = self.files
        return Completer(
            bindings: ["errors", "words"], commands: ShellCommand.names, options: ["limit", "reducers", "split-size"],
            listDirectory: { files[$0] ?? [] })
    }

    func texts(_ line: String, cursor: Int? = nil) -> [String] {
        completer.complete(line: line, cursor: cursor ?? line.utf8.count).candidates.map(\.text)
    }

    @Test func operatorAfterPipe() {
        #expect(texts("read x | red") == ["reduce"])
        #expect(texts("read x | ") .contains("map"))
        #expect(texts("read x |s") == ["select", "sort", "split", "stream"])
    }

    @Test func operatorsAndBindingsAtStatementStart() {
        #expect(texts("re") == ["read", "reduce"])
        #expect(texts("e") == ["errors", "explain", "extract"])
        #expect(texts("w") == ["where", "words", "write"])
        #expect(texts("l") == ["let"])
        #expect(texts("explain r") == ["read", "reduce"])
        #expect(texts("let x = wo") == ["words"])
    }

    @Test func operatorArguments() {
        #expect(texts("read x | reduce ") == ["avg", "collect", "count", "distinct", "max", "min", "ndistinct", "sum"])
        #expect(texts("read x | reduce c") == ["collect", "count"])
        #expect(texts("read x | map ") == ["lower", "trim", "upper", "words"])
        #expect(texts("x | sort ") == ["asc", "by", "desc"])
        #expect(texts("x | sort by ") == ["key", "record", "value"])
        #expect(texts("x | sort by value ") == ["asc", "desc"])
        #expect(texts("x | grep ") == ["not"])
        #expect(texts("x | tag f") == ["file"])
        #expect(texts("x | reduce count ") == ["as", "by"])
    }

    @Test func pathsInsideStringsAndBare() {
        #expect(texts("read \"lo") == ["logs/"])
        #expect(texts("read \"logs/a") == ["logs/access.log", "logs/app.log"])
        #expect(texts("read logs/o") == ["logs/old/"])
        #expect(texts("read ") == ["book.txt", "logs/"])
        #expect(texts("read .") == [".hidden"])
        #expect(texts("x | write \"lo") == ["logs/"])
        #expect(texts("x | write out/ ov") == ["overwrite"])
        #expect(texts("x | grep \"lo") == [])
    }

    @Test func terminatorsAndCommonPrefix() {
        let inString = completer.complete(line: "read \"logs/ac", cursor: 13)
        #expect(inString.candidates == [.init(text: "logs/access.log", terminator: "\" ")])
        #expect(inString.wordStart == 6)
        let several = completer.complete(line: "read \"logs/a", cursor: 12)
        #expect(several.commonPrefix == "logs/a")
        let keyword = completer.complete(line: "x | red", cursor: 7)
        #expect(keyword.candidates == [.init(text: "reduce", terminator: " ")])
        #expect(keyword.wordStart == 4)
        let directory = completer.complete(line: "read lo", cursor: 7)
        #expect(directory.candidates.first?.terminator == "")
    }

    @Test func shellCommands() {
        #expect(texts(":he") == [":help"])
        #expect(texts(":") == ShellCommand.names.sorted().map { ":" + $0 })
        #expect(texts(":describe e") == ["errors"])
        #expect(texts(":set re") == ["reducers"])
        #expect(texts(":help red") == ["reduce"])
        #expect(texts(":run lo") == ["logs/"])
        #expect(texts(":set limit 4") == [])
    }

    @Test func cursorInTheMiddle() {
        // Completion looks at the text before the cursor only.
        #expect(texts("read x | red | take 3", cursor: 12) == ["reduce"])
    }

    @Test func noCompletionInsideRegex() {
        #expect(texts("x | grep /ab") == [])
    }
}

import Testing
@testable import MrshDataPath
@testable import MrshControl

/// What a restarted coordinator relies on: a commit of a `write` directory that its predecessor left at any
/// step is finished by committing again (parts renamed once, `_SUCCESS` once, the overwrite's swap finished),
/// and the task boards of a resumed job.
@Suite struct ResumedCommitTests {
    /// A job's directory begun and its three attempt files written; returns the directory and the files.
    func begun(_ root: TemporaryDirectory, overwrite: Bool) throws -> (OutputDirectory, [String], DirectoryState) {
        let directory = OutputDirectory(path: root.file("out"), overwrite: overwrite, run: "r1")
        let state = try directory.begin()
        let name = directory.attemptFileNamer()
        let parts = (0..<3).map { part in root.write(String(name(part, 0).dropFirst(root.path.count + 1)), "part \(part)\n") }
        return (directory, parts, state)
    }

    @Test func aCommitStoppedAfterAnyRenameIsFinishedOnce() throws {
        for renamed in 0...3 {
            let root = TemporaryDirectory()
            defer { root.remove() }
            let (first, parts, state) = try begun(root, overwrite: false)
            // The first coordinator renamed `renamed` parts, then died.
            for index in 0..<renamed { try FileIO.rename(parts[index], first.workDirectory + "/" + OutputDirectory.partName(index)) }
            let again = OutputDirectory(path: root.file("out"), overwrite: false, run: "r1")
            try again.resume(state)
            try again.commit(parts: parts)
            #expect(root.list("out").sorted() == ["_SUCCESS", "part-00000", "part-00001", "part-00002"], "renamed \(renamed)")
            #expect((0..<3).map { root.read("out/part-0000\($0)") } == ["part 0\n", "part 1\n", "part 2\n"])
            // Committing once more changes nothing.
            try again.commit(parts: parts)
            #expect(root.list("out").sorted() == ["_SUCCESS", "part-00000", "part-00001", "part-00002"])
        }
    }

    @Test func anOverwriteStoppedAtAnyStepOfItsSwapEndsWithTheNewDirectoryAlone() throws {
        // Steps: 0 nothing renamed; 1 parts renamed and _SUCCESS written; 2 the old directory moved aside;
        // 3 the new one moved in (the old one not yet removed).
        for step in 0...3 {
            let root = TemporaryDirectory()
            defer { root.remove() }
            root.write("out/part-00000", "old\n")
            root.write("out/_SUCCESS", "")
            let (first, parts, state) = try begun(root, overwrite: true)
            #expect(state.sibling)
            let sibling = first.workDirectory
            let old = root.path + "/.out.mrsh-old-r1"
            if step >= 1 {
                for index in parts.indices { try FileIO.rename(parts[index], sibling + "/" + OutputDirectory.partName(index)) }
                FileIO.removeTree(sibling + "/_temporary")
                root.write(".out.mrsh-new-r1/_SUCCESS", "")
            }
            if step >= 2 { try FileIO.rename(root.file("out"), old) }
            if step >= 3 { try FileIO.rename(sibling, root.file("out")) }
            let again = OutputDirectory(path: root.file("out"), overwrite: true, run: "r1")
            try again.resume(state)
            try again.commit(parts: parts)
            #expect(root.list().sorted() == ["out"], "step \(step): \(root.list())")
            #expect(root.list("out").sorted() == ["_SUCCESS", "part-00000", "part-00001", "part-00002"], "step \(step)")
            #expect(root.read("out/part-00000") == "part 0\n", "step \(step)")
        }
    }

    @Test func aResumedBoardStartsAttemptsAboveEarlierOnesAndSkipsDoneTasks() {
        var board = TaskBoard(taskCount: 4, executorSlots: [2, 2], firstAttempt: 2000)
        board.markDone([1, 3])
        #expect(board.doneCount == 2)
        let started = board.schedule()
        #expect(started.map(\.task).sorted() == [0, 2])
        #expect(started.allSatisfy { $0.attempt == 2000 })
        for assignment in started { board.succeeded(assignment) }
        #expect(board.isComplete)
        // A kept task whose output is lost later runs again, above the first attempt too.
        let reopened = board.reopen(1)
        #expect(reopened)
        let again = board.schedule()
        #expect(again.map(\.attempt) == [2000])
    }
}

import MrshPlan

/// One readable input of a map task: a byte region of a local file and the name `tag file` reports.
package struct TaskInput: Sendable {
    package var path: String
    package var offset: Int64
    package var length: Int64
    package var name: String
    /// The region begins the input: byte 0 of a file, or the first chunk of standard input (a CSV source
    /// with `skipHeader` drops its first record). An earlier job's part never does.
    package var startsInput: Bool
    /// The file is a fetched copy to delete after use.
    var isTemporaryCopy: Bool

    /// Makes every split of a task readable here (blobs through the fetcher).
    package static func resolve(_ splits: [InputSplit], fetcher: any BlobFetcher, scratch: String) async throws -> [TaskInput] {
        var inputs: [TaskInput] = []
        do {
            for split in splits {
                switch split {
                case .file(let path, let offset, let length):
                    inputs.append(
                        TaskInput(
                            path: path, offset: offset, length: length, name: path, startsInput: offset == 0,
                            isTemporaryCopy: false))
                case .blob(let location):
                    let bytes = try await fetcher.fetch(location, partition: nil, scratch: scratch)
                    inputs.append(
                        TaskInput(
                            path: bytes.path, offset: bytes.range.lowerBound, length: Int64(bytes.range.count),
                            name: "-", startsInput: location.id.kind == .standardInput(chunk: 0),
                            isTemporaryCopy: bytes.isTemporaryCopy))
                }
            }
        } catch {
            removeCopies(inputs)
            throw error
        }
        return inputs
    }

    package static func removeCopies(_ inputs: [TaskInput]) {
        for input in inputs where input.isTemporaryCopy { FileIO.unlinkQuietly(input.path) }
    }
}

import Foundation
import MrshPlan
import MrshWire
import NIOCore

/// Writes the seed corpus of `FuzzFrames` into the directory given as the only argument (see README.md).
/// Each seed is one FuzzFrames input: a limit selector byte (0: the default 16 MiB), 4 bytes seeding the cut
/// points, then the byte stream.
@main
enum FrameSeeds {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: FrameSeeds DIRECTORY\n".utf8))
            exit(2)
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[1])
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, stream) in seeds() {
            let input = [0, 0x12, 0x34, 0x56, 0x78] + stream
            try Data(input).write(to: directory.appendingPathComponent(name))
        }
    }

    static func bytes(_ frames: [Frame]) -> [UInt8] {
        var buffer = ByteBuffer()
        for frame in frames { frame.encode(into: &buffer) }
        return Array(buffer.readableBytesView)
    }

    static func seeds() -> [(String, [UInt8])] {
        let token = AuthToken("fuzz-token")
        let nonce = [UInt8](repeating: 0xA5, count: WireLimits.nonceSize)
        var client = ClientHandshake(token: token, role: .worker, nonce: nonce.reversed())
        var response = Frame(kind: .response)
        if case .send(let reply) = client.receive(Frame(kind: .challenge, bytes: nonce)) { response = reply }
        var server = ServerHandshake(token: token, allowedRoles: [.worker], nonce: nonce)
        _ = server.start()
        var accepted = Frame(kind: .accepted)
        var sealedHeartbeat: [UInt8] = []
        if case .accept(_, let reply, let keys) = server.receive(response) {
            accepted = reply
            // What a worker's first frames after the handshake look like on the wire: sealed.
            let cipher = FrameCipher()
            cipher.startSealing(with: keys.clientToServer)
            var wire = ByteBuffer()
            try? cipher.encode(ControlMessage.heartbeat.frame(), into: &wire)
            try? cipher.encode(ControlMessage.inputEnd.frame(), into: &wire)
            sealedHeartbeat = Array(wire.readableBytesView)
        }

        var seeds: [(String, [UInt8])] = []
        for (name, message) in messages() {
            seeds.append(("control-\(name)", bytes([message.frame()])))
        }
        seeds.append(("challenge", bytes([Frame(kind: .challenge, bytes: nonce)])))
        seeds.append(("response-worker", bytes([response])))
        seeds.append(("accepted", bytes([accepted])))
        seeds.append(("accepted-empty", bytes([Frame(kind: .accepted)])))
        seeds.append(("sealed-after-handshake", bytes([response]) + sealedHeartbeat))
        seeds.append(("error", bytes([.error("authentication failed")])))
        seeds.append(("data-empty", bytes([DataBlock.frame([])])))
        seeds.append(("data-lines", bytes([DataBlock.frame(Array("a\t1\nb\t2\n".utf8))])))
        seeds.append(("data-bad-checksum", bytes([Frame(kind: .data, bytes: [0, 0, 0, 1, 0x61])])))
        seeds.append((
            "session",
            bytes([
                Frame(kind: .challenge, bytes: nonce), response, accepted,
                ControlMessage.fetch(FetchRequest(blobID: .mapOutput(JobID(run: "r1", index: 0), task: 1, attempt: 0), partition: 2)).frame(),
                DataBlock.frame(Array("x\n".utf8)), ControlMessage.fetchEnd(bytes: 2).frame(),
            ])
        ))
        // A 2 GiB declared length, then a few payload bytes: refused from the header alone.
        seeds.append(("length-2gib", [0x80, 0, 0, 0, 1, 4, 0x7B, 0x7D]))
        seeds.append(("length-max", [0xFF, 0xFF, 0xFF, 0xFF, 1, 5]))
        seeds.append(("length-limit", [0x01, 0x00, 0x00, 0x02, 1, 5]))
        seeds.append(("length-zero", [0, 0, 0, 0]))
        seeds.append(("length-one", [0, 0, 0, 1, 1]))
        seeds.append(("bad-version", [0, 0, 0, 2, 9, 4]))
        seeds.append(("bad-kind", [0, 0, 0, 2, 1, 0xEE]))
        seeds.append(("truncated", Array(bytes([ControlMessage.heartbeat.frame()]).dropLast(3))))
        seeds.append(("http-request", Array("GET / HTTP/1.1\r\nHost: localhost:7070\r\n\r\n".utf8)))
        seeds.append(("garbage", (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
        return seeds
    }

    static func messages() -> [(String, ControlMessage)] {
        let blob = BlobLocation(
            holder: .worker("w1"), address: "127.0.0.1:7071", id: .mapOutput(JobID(run: "r1", index: 0), task: 0, attempt: 0))
        let spec = JobSpec(
            id: 0, input: .files(["logs/*.txt"]), mapOps: [], mapLimit: nil, shuffle: nil, reduceOps: [],
            reducers: nil, output: .standardOutput)
        let job = JobID(run: "r1", index: 0)
        let map = MapTaskSpec(
            job: job, spec: spec, task: 0, attempt: 0,
            splits: [.file(path: "/data/a.txt", offset: 0, length: 1 << 20), .blob(blob)],
            partitioner: .range(boundaries: [[0x6D], [0x74, 0x00]]), memoryBudget: 64 << 20)
        let reduce = ReduceTaskSpec(
            job: job, spec: spec, partition: 1, attempt: 2, mapOutputs: [blob], destination: .file(path: "out/.tmp-1"),
            memoryBudget: 1 << 20)
        let result = MapTaskResult(task: 0, attempt: 0, output: .blob(blob), partitionSizes: [10, 0, 7], counters: Counters())
        return [
            ("register", .register(WorkerInfo(id: "host-42", slots: 2, shuffleAddress: "10.0.0.2:7071", pid: 42))),
            ("welcome", .welcome(WorkerWelcome(
                workerID: "w1", heartbeatInterval: .milliseconds(500), heartbeatTimeout: .seconds(5), coordinatorShuffleAddress: "10.0.0.1:7071"))),
            ("runTask-map", .runTask(request: 7, .map(map))),
            ("runTask-reduce", .runTask(request: 8, .reduce(reduce))),
            ("taskDone-map", .taskDone(request: 7, .map(result))),
            ("taskDone-failed", .taskDone(request: 8, .failed(TaskFailure(message: "boom", unreachableBlob: blob)))),
            ("mapOutputs", .mapOutputs(request: 8, [
                MapOutputUpdate(task: 3, location: blob),
                MapOutputUpdate(task: 4, location: BlobLocation(
                    holder: .coordinator, address: "10.0.0.1:7071", id: .keptMapOutput(job, task: 4, attempt: 1),
                    origin: BlobOrigin(holder: .worker("w2"), address: "10.0.0.3:7071", id: .mapOutput(job, task: 4, attempt: 1)))),
            ])),
            ("cancelTask", .cancelTask(request: 8)),
            ("cancelRun", .cancelRun(run: "r1")),
            ("endRun", .endRun(run: "r1")),
            ("heartbeat", .heartbeat),
            ("submit", .submit(JobSubmission(
                plan: JobPlan(jobs: [spec], finalLimit: 10), hasStandardInput: true, workingDirectory: "/home/u"))),
            ("inputEnd", .inputEnd),
            ("cancel", .cancel),
            ("queued", .queued(position: 3)),
            ("started", .started(run: "r1")),
            ("progress", .progress(JobProgress(
                job: 1, jobCount: 2, phase: .map, mapsDone: 3, mapsTotal: 9, reducesDone: 0, reducesTotal: 4,
                bytesRead: 1 << 30, elapsed: 1.25))),
            ("finished", .finished(RunReport(
                summary: JobSummary(jobs: [], elapsed: 2.5, partsWritten: 0, recordsOutput: 12),
                tasksPerWorker: ["w1": 4, "w2": 5]))),
            ("served", .served(bytes: 1 << 20)),
            ("mapOutputs-one", .mapOutputs(request: 8, [MapOutputUpdate(task: 3, location: blob)])),
            ("failed", .failed(JobFailure(message: "no input matches 'x*'", refused: true))),
            ("fetch", .fetch(FetchRequest(blobID: blob.id, partition: nil))),
            ("fetchEnd", .fetchEnd(bytes: 123_456)),
        ]
    }
}

/// Unused: the sanitizer build links libFuzzer into every executable, and libFuzzer needs this symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func unusedFuzzTarget(_ data: UnsafeRawPointer?, _ count: Int) -> CInt { 0 }

import MrshPlan
import NIOCore
import Testing

@testable import MrshWire

@Suite struct ControlMessageTests {
    @Test func roundTrip() throws {
        let spec = JobSpec(id: 0, input: .files(["a/*"]), mapOps: [.words], shuffle: .aggregate(.count), output: .standardOutput)
        let task = MapTaskSpec(
            job: JobID(run: "r1", index: 0), spec: spec, task: 3, attempt: 1,
            splits: [.file(path: "a/x", offset: 0, length: 10)], partitioner: .hash(partitions: 4), memoryBudget: 1 << 20)
        let messages: [ControlMessage] = [
            .register(WorkerInfo(id: "w", slots: 2, shuffleAddress: "127.0.0.1:9", pid: 42)),
            .runTask(request: 9, .map(task)),
            .taskDone(request: 9, .failed(TaskFailure(message: "boom"))),
            .heartbeat, .cancel, .inputEnd, .fetch(FetchRequest(blobID: .mapOutput(JobID(run: "j", index: 0), task: 1, attempt: 0), partition: 2)), .fetchEnd(bytes: 5),
            .submit(JobSubmission(plan: JobPlan(jobs: [spec]), hasStandardInput: true, workingDirectory: "/tmp")),
        ]
        for m in messages {
            #expect(try ControlMessage(frame: m.frame()) == m)
        }
    }

    @Test func badJSONIsAnError() {
        #expect(throws: WireError.self) { try ControlMessage(frame: Frame(kind: .control, bytes: Array("{nope".utf8))) }
        #expect(throws: WireError.remote("x")) { try ControlMessage(frame: .error("x")) }
    }
}

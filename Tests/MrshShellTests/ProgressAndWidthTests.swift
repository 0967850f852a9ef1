import MrshPlan
import Testing
@testable import MrshShell

@Suite struct ProgressAndWidthTests {
    @Test func progressLine() {
        let single = JobProgress(job: 0, jobCount: 1, phase: .map, mapsDone: 12, mapsTotal: 40, reducesDone: 0, reducesTotal: 4, bytesRead: 12_900_000, elapsed: 1.25)
        #expect(ProgressLine.render(single) == "map 12/40 · reduce 0/4 · 12.3 MiB · 1.3 s")
        let mapOnly = JobProgress(job: 1, jobCount: 3, phase: .map, mapsDone: 1, mapsTotal: 2, reducesDone: 0, reducesTotal: 0, bytesRead: 0, elapsed: 75)
        #expect(ProgressLine.render(mapOnly) == "job 2/3 · map 1/2 · 1 min 15 s")
    }

    @Test func byteCountsUseOneFormatEverywhere() {
        #expect(JobSummary.formatBytes(0) == "0 B")
        #expect(JobSummary.formatBytes(1023) == "1023 B")
        #expect(JobSummary.formatBytes(1024) == "1.0 KiB")
        #expect(JobSummary.formatBytes(1280) == "1.3 KiB")  // a half rounds up
        #expect(JobSummary.formatBytes(3_435_973_837) == "3.2 GiB")
        #expect(ProgressLine.render(JobProgress(
            job: 0, jobCount: 1, phase: .map, mapsDone: 0, mapsTotal: 1, reducesDone: 0, reducesTotal: 0, bytesRead: 1280, elapsed: 0)) == "map 0/1 · 1.3 KiB · 0.0 s")
    }

    @Test func displayWidths() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("日本語") == 6)
        #expect(DisplayWidth.of("e\u{301}") == 1)  // e + combining acute
        #expect(DisplayWidth.of("🙂") == 2)
        #expect(DisplayWidth.truncate("abcdefgh", to: 5) == "abcd…")
        #expect(DisplayWidth.truncate("日本語", to: 4) == "日…")
        #expect(DisplayWidth.truncate("abc", to: 5) == "abc")
    }

    @Test func candidateListInColumns() {
        let text = CandidateList.render(["avg", "collect", "count", "distinct", "max", "min", "sum"], width: 40)
        #expect(text == "avg       count     max       sum\ncollect   distinct  min\n")
    }
}

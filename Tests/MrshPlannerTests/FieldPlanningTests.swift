import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// How named fields and expressions are lowered: names to field numbers, `reduce ... by` to a projection
/// and a shuffle, `sort by` / `top` to sort keys.
@Suite("planning fields and expressions")
struct FieldPlanningTests {
    static let log = "read a.log | split as ip, path, status, bytes"

    func plan(_ source: String, header: [String]? = nil) throws -> JobPlan { try planScript(source, csvHeader: header) }

    @Test("names become field numbers, where and select fuse into the map side")
    func whereSelect() throws {
        let plan = try plan("\(Self.log) | where status >= 500 | select path, bytes * 2 as b2")
        #expect(plan.jobs.count == 1)
        #expect(plan.jobs[0].mapOps == [
            .split(.whitespace),
            .filter(.comparison(.greaterOrEqual, .field(3), .integer(500))),
            .project([.field(2), .arithmetic(.multiply, .field(4), .integer(2))]),
        ])
        #expect(plan.jobs[0].shuffle == nil)
        #expect(plan.jobs[0].sources[0].fieldNames == ["path", "b2"])
    }

    @Test("reduce ... by projects keys then the distinct values, and folds every aggregate")
    func groupBy() throws {
        let plan = try plan("\(Self.log) | reduce count, sum(bytes), avg(bytes), max(status) by status, ip")
        let job = plan.jobs[0]
        #expect(job.mapOps.last == .project([.field(3), .field(1), .field(4), .field(3)]))
        #expect(job.shuffle == .groupBy(GroupBy(keyFields: 2, aggregations: [
            Aggregation(.count, input: nil), Aggregation(.sum, input: 0), Aggregation(.avg, input: 0),
            Aggregation(.max, input: 1),
        ])))
        #expect(job.reduceFieldNames == ["status", "ip", "count", "sum(bytes)", "avg(bytes)", "max(status)"])
    }

    @Test("reduce count by one key takes the word-count path")
    func countBy() throws {
        let job = try plan("\(Self.log) | reduce count by path").jobs[0]
        #expect(job.mapOps.last == .project([.field(2)]))
        #expect(job.shuffle == .aggregate(.count))
        #expect(job.reduceFieldNames == ["path", "count"])
    }

    @Test("later stages see the reduce's names, including sum(bytes) by its text")
    func namesAfterReduce() throws {
        let plan = try plan("\(Self.log) | reduce sum(bytes) by status | where sum(bytes) > 10 and status != 200")
        #expect(plan.jobs[0].reduceOps == [
            .filter(.and(.comparison(.greater, .field(2), .integer(10)), .comparison(.notEqual, .field(1), .integer(200)))),
        ])
    }

    @Test("default names that repeat get a number")
    func repeatedNames() throws {
        let job = try plan("\(Self.log) | reduce count, count by path").jobs[0]
        #expect(job.reduceFieldNames == ["path", "count", "count1"])
    }

    @Test("without by the group is field 1; a renamed lone aggregate keeps today's shuffle")
    func withoutBy() throws {
        let lone = try plan("\(Self.log) | reduce sum as total").jobs[0]
        #expect(lone.shuffle == .aggregate(.sum))
        #expect(lone.reduceFieldNames == ["ip", "total"])
        let two = try plan("\(Self.log) | reduce count, max").jobs[0]
        #expect(two.mapOps.last == .project([.field(1), .field(2)]))
        #expect(two.shuffle == .groupBy(GroupBy(keyFields: 1, aggregations: [Aggregation(.count, input: nil), Aggregation(.max, input: 0)])))
    }

    @Test("sort by expressions: a sort key, a range shuffle that strips it, take pushed down")
    func sortBy() throws {
        let plan = try plan("\(Self.log) | sort by status desc, path | take 5")
        let job = plan.jobs[0]
        #expect(job.mapOps.last == .prependSortKey([SortKeyPart(.field(3), descending: true), SortKeyPart(.field(2), descending: false)]))
        #expect(job.shuffle == .orderBy(limit: 5))
        #expect(plan.finalLimit == 5)
    }

    @Test("a take after sort by, followed by more stages, gathers in part order")
    func sortByTakeThenMore() throws {
        let plan = try plan("\(Self.log) | sort by bytes | take 5 | select path")
        #expect(plan.jobs.count == 2)
        #expect(plan.jobs[1].shuffle == .gather(limit: 5))
        #expect(plan.jobs[1].reduceOps == [.project([.field(2)])])
    }

    @Test("top N by: descending by default, one reduce task keeping N")
    func top() throws {
        let job = try plan("\(Self.log) | top 3 by bytes").jobs[0]
        #expect(job.mapOps.last == .prependSortKey([SortKeyPart(.field(4), descending: true)]))
        #expect(job.shuffle == .orderBy(limit: 3))
        #expect(job.reducers == 1)
    }

    @Test("top N per group: the ranking key then the group key, and the top-per-group shuffle")
    func topPer() throws {
        let job = try plan("\(Self.log) | top 2 by bytes asc per status").jobs[0]
        #expect(job.mapOps.last == .prependGroupAndSortKey(
            group: [SortKeyPart(.field(3), descending: false)], rank: [SortKeyPart(.field(4), descending: false)]))
        #expect(job.shuffle == .topPerGroup(limit: 2))
    }

    @Test("parse csv right after read makes the source CSV; later it parses each record")
    func parseCSV() throws {
        let first = try plan("read a.csv | parse csv header | where amount > 1", header: ["region", "amount"])
        #expect(first.jobs[0].sources[0].format == .csv(skipHeader: true))
        #expect(first.jobs[0].mapOps == [.parseCSV, .filter(.comparison(.greater, .field(2), .integer(1)))])
        let later = try plan("read a.txt | grep \"x\" | parse csv as a, b | select b")
        #expect(later.jobs[0].sources[0].format == .lines)
        #expect(later.jobs[0].mapOps == [.grep(.literal("x"), negated: false), .parseCSV, .project([.field(2)])])
    }

    @Test("parse json: one field per path, named by as or the last key")
    func parseJSON() throws {
        let job = try plan(#"read e.jsonl | parse json "user.id" as user, "req.path" | select path, user"#).jobs[0]
        #expect(job.mapOps == [.parseJSON([["user", "id"], ["req", "path"]]), .project([.field(2), .field(1)])])
    }

    @Test("map words names its field word; tag file adds file")
    func wordsAndFile() throws {
        let job = try plan("read d/* | map words | tag file | reduce ndistinct(file), distinct(file) by word").jobs[0]
        #expect(job.mapOps.last == .tagFile, "word TAB file already is keys TAB values: no projection")
        #expect(job.shuffle == .groupBy(GroupBy(keyFields: 1, aggregations: [Aggregation(.ndistinct, input: 0), Aggregation(.distinct, input: 0)])))
        #expect(job.reduceFieldNames == ["word", "ndistinct(file)", "distinct(file)"])
    }

    @Test("names flow through let bindings")
    func bindings() throws {
        let plan = try plan("let t = \(Self.log); t | where path == \"/\" | count")
        #expect(plan.jobs[0].mapOps.last == .filter(.comparison(.equal, .field(2), .string("/"))))
    }
}

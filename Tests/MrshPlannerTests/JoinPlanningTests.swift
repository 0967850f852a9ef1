import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// How `join` and `union` become jobs: the binding's jobs first, then one job whose sources are the right
/// side and the left side (join) or the left side and the bindings (union); names carry over.
@Suite("planning join and union")
struct JoinPlanningTests {
    static let users = "let users = read users.tsv | split as id, name | select id, name"
    static let log = "read a.log | split as uid, path | select uid, path"

    @Test("a join is one job: right sources first, both keyed, the join shuffle; names carry over")
    func joinJob() throws {
        let plan = try planScript("\(Self.users)\n\(Self.log) | join users on uid = id | where name != \"\"")
        #expect(plan.jobs.count == 1)
        let job = plan.jobs[0]
        #expect(job.sources.map(\.input) == [.files(["users.tsv"]), .files(["a.log"])])
        #expect(job.sources[0].mapOps.last == .prependJoinKey(.field(1), .right(removingField: 1), salt: nil))
        #expect(job.sources[1].mapOps.last == .prependJoinKey(.field(1), .left, salt: nil))
        #expect(job.join == Join(kind: .inner, strategy: .auto, rightSources: 1, rightFieldCount: 1))
        #expect(job.reduceOps == [.filter(.comparison(.notEqual, .field(3), .string("")))])
        #expect(job.reduceFieldNames == ["uid", "path", "name"])
    }

    @Test("one key expression serves both sides; a clash of names gets the binding's prefix")
    func sameKeyAndPrefix() throws {
        let plan = try planScript("\(Self.users)\nread a.log | split as id, name | select id, name | join left users on id | select id, name, users.name")
        let job = plan.jobs[0]
        #expect(job.join?.kind == .left)
        #expect(job.reduceOps == [.project([.field(1), .field(2), .field(3)])])
        #expect(job.reduceFieldNames == ["id", "name", "users.name"])
    }

    @Test("a right key that is not a field keeps every right field")
    func computedKey() throws {
        let plan = try planScript("\(Self.users)\n\(Self.log) | join users on lower(uid) = lower(id) using shuffle")
        let job = plan.jobs[0]
        #expect(job.sources[0].mapOps.last == .prependJoinKey(.call(.lower, [.field(1)]), .right(removingField: nil), salt: nil))
        #expect(job.join?.strategy == .shuffle)
        #expect(job.join?.rightFieldCount == 2)
        #expect(job.reduceFieldNames == ["uid", "path", "id", "name"])
    }

    @Test("a binding with a shuffle runs first; the join reads its parts; a join after a reduce reads that job's")
    func bindingJobsComeFirst() throws {
        let plan = try planScript("""
            let totals = read t.tsv | reduce sum
            read a.log | reduce count | join totals on $1 using broadcast
            """)
        #expect(plan.jobs.count == 3)
        #expect(plan.jobs.map(\.id) == [0, 1, 2])
        #expect(plan.jobs[0].input == .files(["a.log"]))
        #expect(plan.jobs[1].input == .files(["t.tsv"]))
        #expect(plan.jobs[2].sources.map(\.input) == [.job(1), .job(0)])
        #expect(plan.jobs[2].join?.strategy == .broadcast)
    }

    @Test("the broadcast form: map-only over the left sources, the right side read whole, reduce ops on the map side")
    func broadcastForm() throws {
        let plan = try planScript("\(Self.users)\n\(Self.log) | join left users on uid = id | select name")
        let form = try #require(plan.jobs[0].broadcastJoinForm())
        #expect(form.shuffle == nil)
        #expect(form.sideInputs.map(\.input) == [.files(["users.tsv"])])
        #expect(form.sources.map(\.input) == [.files(["a.log"])])
        #expect(form.mapOps.suffix(2) == [
            .joinLookup(JoinLookup(key: .field(1), kind: .left, rightFieldCount: 1)), .project([.field(3)]),
        ])
    }

    @Test("union: the bindings' sources in the same job, later stages on every source, left names kept")
    func union() throws {
        let plan = try planScript("""
            let old = read old.log | split as a, b
            let sums = read s.tsv | reduce sum
            read new.log | split as x, y | union old, sums | where x != "" | take 5
            """)
        #expect(plan.jobs.count == 2)
        let job = plan.jobs[1]
        #expect(job.sources.map(\.input) == [.files(["new.log"]), .files(["old.log"]), .job(0)])
        for source in job.sources {
            #expect(source.mapOps.last == .filter(.comparison(.notEqual, .field(1), .string(""))))
            #expect(source.mapLimit == 5)
        }
        #expect(plan.finalLimit == 5)
    }

    @Test("mistakes: unknown names on either side, standard input read twice, a binding that writes")
    func mistakes() {
        func message(_ source: String) -> String? {
            do {
                _ = try planScript(source)
                return nil
            } catch let error as PlanError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(message("\(Self.users)\n\(Self.log) | join users on uid = idd") == "unknown field 'idd'")
        #expect(message("\(Self.users)\n\(Self.log) | join users on uidd = id") == "unknown field 'uidd'")
        #expect(message("let s = grep \"x\"\ngrep \"y\" | union s") == "'s' reads standard input, and so does the pipeline union is in")
        #expect(message("let w = read a | write out\nread b | union w") == "'w' writes its records, so union cannot read them")
        #expect(message("\(Self.users)\nread a.log | split as uid, path | join users on uid = id | select name")
            == "field 'name' has no number here")
    }
}

import MrshPlan
import Testing
@testable import MrshCluster

/// A worker never gets a name that is also a reserved blob holder.
@Suite struct WorkerNameTests {
    @Test func reservedHolderNamesAreNeverGivenToAWorker() async {
        let pool = WorkerPool()
        for name in BlobHolder.reservedNames {
            let given = await pool.uniqueName(name)
            #expect(given != name)
            #expect(BlobHolder(named: given) == .worker(given))
        }
        let plain = await pool.uniqueName("w1")
        #expect(plain == "w1")
    }
}

import MrshPlan

/// Where a job's accepted map outputs live, by holder, so that a lost worker's outputs are found without a
/// pass over every map task: before, each lost worker cost M holder comparisons, and each reducer's failed
/// fetch from it another M (10^9 string comparisons when 5,000 reducers lose one worker of a
/// 200,000-task job).
struct OutputsByHolder {
    /// The map tasks whose accepted output lives on each holder and that were not taken (reopened) since.
    private var open: [BlobHolder: Set<Int>] = [:]
    /// How many map tasks' latest accepted output lives on each holder, taken ones included.
    private var counts: [BlobHolder: Int] = [:]

    /// Map task `task`'s accepted output moved from `old` (its previous result's holder, if any) to `new`.
    mutating func accepted(_ task: Int, from old: BlobHolder?, to new: BlobHolder?) {
        if let old {
            open[old]?.remove(task)
            counts[old, default: 1] -= 1
        }
        if let new {
            open[new, default: []].insert(task)
            counts[new, default: 0] += 1
        }
    }

    /// The tasks whose output is on `holder` and not taken yet, ascending; they are taken (the caller
    /// reopens them; each comes back through `accepted` when it is done again).
    mutating func take(_ holder: BlobHolder) -> [Int] {
        (open.removeValue(forKey: holder) ?? []).sorted()
    }

    /// True when some map task's latest accepted output lives on `holder` (taken ones included).
    func holdsAny(_ holder: BlobHolder) -> Bool {
        counts[holder, default: 0] > 0
    }
}

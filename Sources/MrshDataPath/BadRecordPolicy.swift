/// What a task does with a record it cannot process (a value a numeric aggregate cannot read).
public enum BadRecordPolicy: Sendable, Equatable {
    /// Fail the task with a message naming the value.
    case fail
    /// Skip the record and count it in `Counters.skippedRecords`.
    case skip
}

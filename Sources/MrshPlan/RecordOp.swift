/// A record-wise operator. Consecutive record-wise operators are fused into one map (or post-reduce) pass.
///
/// Records are byte strings without a newline. Fields are separated by TAB; the key of a record is its
/// first field and the value is everything after the first TAB (empty when there is none).
public enum RecordOp: Codable, Sendable, Equatable, Hashable {
    /// Keep records that match (or, negated, do not match) the pattern.
    case grep(TextPattern, negated: Bool)
    /// Emit every word of the record as a record of its own. A word is a maximal run of Unicode scalars
    /// whose general category is a letter (L*); invalid UTF-8 separates words.
    case words
    /// ASCII and Unicode lower-casing of the whole record.
    case lower
    /// Upper-casing of the whole record.
    case upper
    /// Strip leading and trailing white space.
    case trim
    /// Split the record into fields; fields are then joined by TAB.
    case split(FieldSeparator)
    /// Keep the listed fields (1-based) in the listed order, joined by TAB. A missing field is empty.
    case pick([Int])
    /// Emit every match of the regex (its first capture group when it has one) as a record.
    case extract(TextPattern)
    /// Append TAB and the name of the input file the record came from.
    case tagFile
    /// `where E`: keep the records for which the (boolean) expression is true.
    case filter(FieldExpression)
    /// `select E, ...`: the record made of the expressions' texts, joined by TAB.
    case project([FieldExpression])
    /// Prepend the order-preserving encoding of the sort keys as a new first field (no TAB or line break in
    /// it): `KEY TAB record`. Numbers order before other text, numerically; then text by bytes; missing last.
    case prependSortKey([SortKeyPart])
    /// `top N by S per G`: `G TAB S TAB record`, G and S the `prependSortKey` encodings of the group and the
    /// ranking, both computed from the record as it comes in.
    case prependGroupAndSortKey(group: [SortKeyPart], rank: [SortKeyPart])
    /// `parse csv`: one RFC 4180 record (possibly of several lines) to TAB-separated fields, a field's TABs,
    /// line breaks and carriage returns written as `\t`, `\n`, `\r`.
    case parseCSV
    /// `parse json "a.b", ...`: a JSON Lines record to one field per path (components of a dotted path); a
    /// missing path is empty, a string its text, an object or array its compact JSON.
    case parseJSON([[String]])
    /// `join`'s key on one side (see `Join`): the escaped text of the expression (`JoinKey`) as a new first
    /// field; on the right side the join field is removed and the rest prefixed as `JoinSide.right` says.
    /// `salt` (set by the coordinator, nil as planned) spreads hot keys over several reducers.
    case prependJoinKey(FieldExpression, JoinSide, salt: JoinSalt?)
    /// A broadcast join's lookup of each record in the right side the map task loaded (see `Join`).
    case joinLookup(JoinLookup)
    /// `stream "COMMAND"`: the records are the standard input lines of `/bin/sh -c COMMAND`, run once per
    /// task; its standard output lines are the records that follow.
    case stream(command: String)
    /// `counter "NAME" [where E]`: counts the records (those for which E is true) into the task's user
    /// counter NAME (`Counters.user`); every record passes on unchanged.
    case counter(String, condition: FieldExpression?)
    /// A probe `explain analyze` puts between stages (never planned otherwise): counts the records and
    /// bytes passing this point into `Counters.stages[NAME]`; every record passes on unchanged.
    case probe(String)
}

/// What `grep`, `extract` and `split` look for.
public enum TextPattern: Codable, Sendable, Equatable, Hashable {
    /// Bytes found anywhere in the record (memmem).
    case literal(String)
    /// POSIX extended regular expression, compiled once per task.
    case regex(String, caseInsensitive: Bool)
}

/// How `split` cuts a record into fields.
public enum FieldSeparator: Codable, Sendable, Equatable, Hashable {
    /// Runs of spaces and tabs; leading and trailing white space is ignored (like awk).
    case whitespace
    /// Every occurrence of the literal string separates two fields.
    case literal(String)
    /// Every match of the regex separates two fields (`/.../i`: ignoring case).
    case regex(String, caseInsensitive: Bool)

    /// A case-sensitive regex separator.
    public static func regex(_ source: String) -> FieldSeparator { .regex(source, caseInsensitive: false) }
}

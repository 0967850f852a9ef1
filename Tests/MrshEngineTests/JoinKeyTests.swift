import MrshTestSupport
import Testing
@testable import MrshDataPath
import MrshPlan

/// `.prependJoinKey` and `JoinKeyEncoding`: key bytes, the right side's rest, empty keys, salting.
@Suite struct JoinKeyTests {
    static func key(_ text: [UInt8]) -> [UInt8] { JoinKeyEncoding.key(text) }

    @Test func keysEscapeBackslashAndControlBytes() {
        #expect(Self.key(Array("abc".utf8)) == Array("abc".utf8))
        #expect(Self.key(Array("日本".utf8)) == Array("日本".utf8))
        #expect(Self.key(Array("a\\b".utf8)) == Array("a\\\\b".utf8))
        #expect(Self.key([0x61, 0x09, 0x62, 0x0A, 0x01, 0x1F, 0x0D]) == Array("a\\tb\\n\\x01\\x1F\\x0D".utf8))
        #expect(Self.key([0xFF, 0x80]) == [0xFF, 0x80])
        // Injective on texts that an unescaped rule would confuse.
        #expect(Self.key(Array("\\t".utf8)) != Self.key([0x09]))
        var out: [UInt8] = Array("k".utf8)
        JoinKeyEncoding.appendSalt(12, to: &out)
        #expect(out == [0x6B, 0x01, 0x31, 0x32])
    }

    @Test func keysNeverHoldControlBytes() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<500 {
            let text = randomRecord(&rng, maxPieces: 12)
            #expect(!Self.key(text).contains { $0 < 0x20 })
        }
    }

    @Test func leftRecordsGetTheKeyInFront() throws {
        let op = RecordOp.prependJoinKey(.field(2), .left, salt: nil)
        #expect(try runOps([op], "a\tb\\x\tc") == ["b\\\\x\ta\tb\\x\tc"])
        // Numbers are their text, as `select` prints them.
        let sum = RecordOp.prependJoinKey(.arithmetic(.add, .field(1), .integer(1)), .left, salt: nil)
        #expect(try runOps([sum], "41\tz") == ["42\t41\tz"])
    }

    @Test func leftRecordsWithEmptyKeysGetDistinctUnmatchableKeys() throws {
        let op = RecordOp.prependJoinKey(.field(2), .left, salt: nil)
        let one = try runOps([op], Array("a".utf8))
        let two = try runOps([op], Array("b\t".utf8))
        #expect(one.count == 1 && two.count == 1)
        let k1 = Array(Bytes.splitKeyOf(one[0]).key)
        let k2 = Array(Bytes.splitKeyOf(two[0]).key)
        #expect(k1.first == 0x01 && k2.first == 0x01 && k1 != k2)
        #expect(Array(one[0].suffix(1)) == Array("a".utf8))
    }

    @Test func rightRecordsDropTheJoinField() throws {
        func right(_ field: Int?, _ record: String) throws -> [String] {
            try runOps([.prependJoinKey(.field(field ?? 1), .right(removingField: field), salt: nil)], record)
        }
        #expect(try right(2, "a\tb\tc") == ["b\t\ta\tc"])
        #expect(try right(1, "a\tb\tc") == ["a\t\tb\tc"])
        #expect(try right(3, "a\tb\tc") == ["c\t\ta\tb"])
        #expect(try right(1, "a") == ["a\t"])
        #expect(try right(nil, "a\tb") == ["a\t\ta\tb"])
        // An empty key matches nothing: the right record is dropped.
        #expect(try right(2, "a\t\tc") == [])
        #expect(try right(2, "a") == [])
        // A removed field past the last one removes nothing.
        let past = try runOps([.prependJoinKey(.field(1), .right(removingField: 4), salt: nil)], "a\tb")
        #expect(past == ["a\t\ta\tb"])
    }

    @Test func saltSpreadsTheHotSideAndCopiesTheOther() throws {
        let hot = HotJoinKey(key: Array("h".utf8), fanout: 3, hotOnRight: false)
        let salt = JoinSalt(hotKeys: [hot])
        let left = RecordOp.prependJoinKey(.field(1), .left, salt: salt)
        let right = RecordOp.prependJoinKey(.field(1), .right(removingField: 1), salt: salt)
        // Not hot: unchanged on both sides.
        #expect(try runOps([left], "c\tx") == ["c\tc\tx"])
        #expect(try runOps([right], "c\tx") == ["c\t\tx"])
        // Hot on the left: one salted copy per left record, its salt a fixed hash of the record.
        var salts = Set<String>()
        for i in 0..<60 {
            let out = try runOps([left], "h\t\(i)")
            #expect(out.count == 1)
            let key = String(out[0].prefix { $0 != "\t" })
            #expect(key.hasPrefix("h\u{01}"))
            salts.insert(key)
            #expect(try runOps([left], "h\t\(i)") == out)
        }
        #expect(salts == ["h\u{01}0", "h\u{01}1", "h\u{01}2"])
        // The right side copies its record to every salt.
        #expect(try runOps([right], "h\ty") == ["h\u{01}0\t\ty", "h\u{01}1\t\ty", "h\u{01}2\t\ty"])
    }
}

extension Bytes {
    /// `splitKey` of an array (tests).
    static func splitKeyOf(_ record: [UInt8]) -> (key: [UInt8], value: [UInt8]) {
        record.withUnsafeBytes { r in
            let (k, v) = splitKey(r)
            return (Array(k), Array(v))
        }
    }
}

import NIOCore
import MrshTestSupport
import Testing

@testable import MrshWire


private func encodeAll(_ frames: [Frame]) -> [UInt8] {
    var buffer = ByteBuffer()
    for f in frames { f.encode(into: &buffer) }
    return Array(buffer.readableBytesView)
}

/// Feeds `bytes` to the parser in the given chunk sizes, the way a socket would deliver them.
private func parseChunked(_ bytes: [UInt8], cuts: [Int]) throws -> [Frame] {
    let parser = FrameParser()
    var buffer = ByteBuffer()
    var out: [Frame] = []
    var start = 0
    for end in cuts + [bytes.count] where end >= start {
        buffer.writeBytes(bytes[start..<end])
        start = end
        while let frame = try parser.parse(&buffer) { out.append(frame) }
        buffer.discardReadBytes()
    }
    #expect(buffer.readableBytes == 0)
    return out
}

@Suite struct FrameParserTests {
    @Test func framesSurviveRandomSplits() throws {
        for seed in UInt64(1)...40 {
            var rng = SplitMix64(seed: seed)
            let kinds = FrameKind.allCases
            let frames = (0..<Int.random(in: 1...30, using: &rng)).map { _ in
                let n = Int.random(in: 0...3000, using: &rng)
                let kind = kinds[Int.random(in: 0..<kinds.count, using: &rng)]
                return Frame(kind: kind, bytes: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
            let bytes = encodeAll(frames)
            let cuts = (0..<Int.random(in: 0...50, using: &rng)).map { _ in Int.random(in: 0...bytes.count, using: &rng) }
                .sorted()
            let parsed = try parseChunked(bytes, cuts: cuts)
            #expect(parsed == frames, "seed \(seed)")
        }
    }

    @Test func byteAtATime() throws {
        let frames = [Frame(kind: .control, bytes: Array("{}".utf8)), Frame(kind: .accepted), Frame.error("x")]
        let bytes = encodeAll(frames)
        #expect(try parseChunked(bytes, cuts: Array(0...bytes.count)) == frames)
    }

    @Test func oversizeLengthRejectedFromHeaderAlone() throws {
        var buffer = ByteBuffer(bytes: [0x80, 0, 0, 0])  // 2 GiB, nothing else sent
        #expect(throws: WireError.frameTooLarge(declared: 0x8000_0000 - 2)) { try FrameParser().parse(&buffer) }
        var atLimit = ByteBuffer()
        atLimit.writeInteger(UInt32(WireLimits.maxPayload + 2), endianness: .big)
        atLimit.writeBytes([WireLimits.protocolVersion, FrameKind.data.rawValue])
        #expect(try FrameParser().parse(&atLimit) == nil)  // legal, waits for the payload
        var over = ByteBuffer()
        over.writeInteger(UInt32(WireLimits.maxPayload + 3), endianness: .big)
        #expect(throws: WireError.self) { try FrameParser().parse(&over) }
    }

    @Test func badVersionKindAndLength() {
        var v = ByteBuffer(bytes: [0, 0, 0, 2, 9])
        #expect(throws: WireError.unsupportedVersion(9)) { try FrameParser().parse(&v) }
        var k = ByteBuffer(bytes: [0, 0, 0, 2, WireLimits.protocolVersion, 200])
        #expect(throws: WireError.unknownKind(200)) { try FrameParser().parse(&k) }
        var s = ByteBuffer(bytes: [0, 0, 0, 1, WireLimits.protocolVersion])
        #expect(throws: WireError.frameTooShort(declared: 1)) { try FrameParser().parse(&s) }
    }

    @Test func httpRequestIsRejected() {
        var http = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(throws: WireError.self) { try FrameParser().parse(&http) }
    }

    /// Random garbage either waits for more bytes, parses, or throws: it never traps and never consumes a
    /// partial frame.
    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var buffer = ByteBuffer(bytes: bytes)
            var frames = 0
            while let _ = try? FrameParser().parse(&buffer) { frames += 1 }
            #expect(frames <= bytes.count / WireLimits.headerSize)
        }
    }
}

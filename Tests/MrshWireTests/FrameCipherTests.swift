import NIOCore
import Testing

@testable import MrshWire

/// Sealed frames: what the encoder writes opens as the same frame on the other side, in order, and nothing
/// else does (a flipped byte anywhere, a replay, a reordering, a drop, the other direction's key).
@Suite struct FrameCipherTests {
    let keys = AuthToken("cipher-test-token").sessionKeys(
        HandshakeTranscript(
            serverNonce: [UInt8](repeating: 1, count: 32), clientNonce: [UInt8](repeating: 2, count: 32), role: .client))

    /// A sender and a receiver of one direction.
    func pair() -> (FrameCipher, FrameCipher) {
        let sender = FrameCipher()
        sender.startSealing(with: keys.clientToServer)
        let receiver = FrameCipher()
        receiver.startOpening(with: keys.clientToServer)
        return (sender, receiver)
    }

    /// The frame as it travels: sealed and parsed back from its bytes.
    func wire(_ frame: Frame, _ sender: FrameCipher) throws -> [UInt8] {
        var out = ByteBuffer()
        try sender.encode(frame, into: &out)
        return Array(out.readableBytesView)
    }

    func parse(_ bytes: [UInt8]) throws -> Frame {
        var buffer = ByteBuffer(bytes: bytes)
        return try #require(try FrameParser(maxPayload: WireLimits.maxSealedPayload).parse(&buffer))
    }

    let frames: [Frame] = [
        ControlMessage.heartbeat.frame(), DataBlock.frame(Array("secret plan text\n".utf8)), Frame(kind: .control),
        .error("bad things"), DataBlock.frame([UInt8](repeating: 0x5A, count: 70_000)),
    ]

    @Test func framesOpenInOrderAndHideTheirBytes() throws {
        let (sender, receiver) = pair()
        for frame in frames {
            let bytes = try wire(frame, sender)
            #expect(bytes.count == WireLimits.headerSize + frame.payload.readableBytes + WireLimits.tagSize)
            if frame.payload.readableBytes >= 8 {
                #expect(!bytes.contains(Array(frame.payload.readableBytesView)), "plaintext on the wire")
            }
            #expect(try receiver.open(parse(bytes)) == frame)
        }
    }

    @Test func everyFlippedByteIsRefused() throws {
        let frame = DataBlock.frame(Array("0123456789 the output of a job\n".utf8))
        let sealedLength = try wire(frame, pair().0).count
        for index in 0..<sealedLength {
            let (sender, receiver) = pair()
            var bytes = try wire(frame, sender)
            bytes[index] ^= 0x01
            // A flipped length or version may not even parse; when it does, it must not open.
            var buffer = ByteBuffer(bytes: bytes)
            guard let parsed = try? FrameParser(maxPayload: WireLimits.maxSealedPayload).parse(&buffer) else { continue }
            #expect(throws: WireError.frameNotAuthentic) { try receiver.open(parsed) }
            // Once a frame failed, the untouched next one fails too: the connection is done.
            #expect(throws: WireError.frameNotAuthentic) { try receiver.open(try parse(try wire(frame, sender))) }
        }
    }

    @Test func replayedReorderedAndDroppedFramesAreRefused() throws {
        let texts = ["first", "second", "third"].map { DataBlock.frame(Array($0.utf8)) }
        // Replay: the first frame twice.
        var (sender, receiver) = pair()
        var sealed = try texts.map { try parse(try wire($0, sender)) }
        #expect(try receiver.open(sealed[0]) == texts[0])
        #expect(throws: WireError.frameNotAuthentic) { try receiver.open(sealed[0]) }
        // Reorder: the second before the first.
        (sender, receiver) = pair()
        sealed = try texts.map { try parse(try wire($0, sender)) }
        #expect(throws: WireError.frameNotAuthentic) { try receiver.open(sealed[1]) }
        // Drop: the second never arrives.
        (sender, receiver) = pair()
        sealed = try texts.map { try parse(try wire($0, sender)) }
        #expect(try receiver.open(sealed[0]) == texts[0])
        #expect(throws: WireError.frameNotAuthentic) { try receiver.open(sealed[2]) }
    }

    @Test func theOtherDirectionsKeyDoesNotOpen() throws {
        let sender = FrameCipher()
        sender.startSealing(with: keys.serverToClient)
        let receiver = FrameCipher()
        receiver.startOpening(with: keys.clientToServer)
        #expect(throws: WireError.frameNotAuthentic) { try receiver.open(try parse(try wire(frames[1], sender))) }
    }

    @Test func aPlainFrameIsRefusedOnceSealed() throws {
        let (_, receiver) = pair()
        #expect(throws: WireError.frameNotAuthentic) { try receiver.open(ControlMessage.heartbeat.frame()) }
    }

    @Test func beforeTheHandshakeEndsFramesPassUnchanged() throws {
        let cipher = FrameCipher()
        let frame = Frame(kind: .challenge, bytes: [UInt8](repeating: 3, count: 32))
        var out = ByteBuffer()
        try cipher.encode(frame, into: &out)
        var plain = ByteBuffer()
        frame.encode(into: &plain)
        #expect(out == plain)
        #expect(try cipher.open(frame) == frame)
    }

    @Test func nonceIsTheCounterBigEndian() throws {
        #expect(FrameCipher.nonce(0x0102_0304_0506_0708) == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    }
}

import NIOCore
import MrshTestSupport
import Testing

@testable import MrshWire

@Suite struct ChecksumTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func incrementalEqualsOneShot() {
        var rng = SplitMix64(seed: 7)
        let bytes = (0..<10_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var crc = CRC32C()
        var i = 0
        while i < bytes.count {
            let n = min(Int.random(in: 0...37, using: &rng), bytes.count - i)
            bytes[i..<(i + n)].withUnsafeBytes { crc.update($0) }
            i += n
        }
        #expect(crc.final == CRC32C.checksum(bytes))
    }

    @Test func dataBlockVerifies() throws {
        let frame = DataBlock.frame(Array("hello\tworld\n".utf8))
        let bytes = try DataBlock.verifiedBytes(of: frame)
        #expect(String(buffer: bytes) == "hello\tworld\n")
    }

    @Test func corruptedBlockDetected() {
        var frame = DataBlock.frame(Array("hello\tworld\n".utf8))
        let at = frame.payload.readerIndex + 6
        // Safe: the payload holds 4 checksum bytes and 12 data bytes.
        let byte = frame.payload.getInteger(at: at, as: UInt8.self)!
        frame.payload.setInteger(byte ^ 0x01, at: at)
        #expect(throws: WireError.self) { try DataBlock.verifiedBytes(of: frame) }
    }
}

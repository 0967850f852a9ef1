import Crypto
import Foundation
import NIOCore
import Synchronization

/// The sealing of one connection's frames after its handshake: each direction has its own key and a 64-bit
/// frame counter that starts at 0, is the nonce of the frame's AES-256-GCM seal, and advances by one per
/// frame. A frame that was altered, replayed, reordered or dropped fails the next open (the receiver expects
/// exactly the next counter), and from then on every frame fails: the connection is to be closed.
///
/// A sealed frame: the same 6-byte header (its length counting the 16-byte tag), authenticated as associated
/// data, then the ciphertext of the payload and the tag. The encoder seals (on the event loop), the
/// connection's consumer opens as it takes frames, so the two directions never share a lock.
///
/// Until `startSealing` / `startOpening`, frames pass through unchanged (the handshake's frames).
public final class FrameCipher: Sendable {
    private struct Direction {
        var key: SymmetricKey
        var counter: UInt64 = 0
        /// A frame failed to open: every later one fails too.
        var broken = false
    }

    private let sealing = Mutex<Direction?>(nil)
    private let opening = Mutex<Direction?>(nil)

    public init() {}

    /// Frames sent from now on are sealed with `key` (unless `FrameSealing.enabled` is off).
    public func startSealing(with key: [UInt8]) {
        guard FrameSealing.enabled else { return }
        sealing.withLock { $0 = Direction(key: SymmetricKey(data: key)) }
    }

    /// Frames received from now on must open with `key` (unless `FrameSealing.enabled` is off).
    public func startOpening(with key: [UInt8]) {
        guard FrameSealing.enabled else { return }
        opening.withLock { $0 = Direction(key: SymmetricKey(data: key)) }
    }

    /// Whether received frames are opened (the handshake is over and sealing is on).
    public var isOpening: Bool { opening.withLock { $0 != nil } }

    /// Appends `frame` to `out`, sealed once sealing has started, plain before.
    public func encode(_ frame: Frame, into out: inout ByteBuffer) throws {
        try sealing.withLock { direction in
            guard var current = direction else {
                frame.encode(into: &out)
                return
            }
            let count = frame.payload.readableBytes
            let header = Self.header(payloadBytes: count + WireLimits.tagSize, kind: frame.kind)
            let nonce = try Self.nonce(current.counter)
            let box = try frame.payload.withUnsafeReadableBytes { plain in
                try AES.GCM.seal(plain, using: current.key, nonce: nonce, authenticating: header)
            }
            out.reserveCapacity(minimumWritableBytes: header.count + count + WireLimits.tagSize)
            out.writeBytes(header)
            out.writeBytes(box.ciphertext)
            out.writeBytes(box.tag)
            // 2^64 frames will not be sent; refusing the wrap keeps a nonce from ever being used twice.
            guard current.counter < UInt64.max else { throw WireError.frameNotAuthentic }
            current.counter += 1
            direction = current
        }
    }

    /// The frame as sent: opened once opening has started (throws `frameNotAuthentic` when it does not open
    /// as the next frame of this connection), unchanged before.
    public func open(_ frame: Frame) throws(WireError) -> Frame {
        try opening.withLock { (direction: inout Direction?) throws(WireError) -> Frame in
            guard var current = direction else { return frame }
            let count = frame.payload.readableBytes
            guard !current.broken, count >= WireLimits.tagSize, current.counter < UInt64.max else {
                direction?.broken = true
                throw WireError.frameNotAuthentic
            }
            let header = Self.header(payloadBytes: count, kind: frame.kind)
            let plain: Data
            do {
                let nonce = try Self.nonce(current.counter)
                plain = try frame.payload.withUnsafeReadableBytes { sealed in
                    let box = try AES.GCM.SealedBox(
                        nonce: nonce, ciphertext: UnsafeRawBufferPointer(rebasing: sealed[..<(count - WireLimits.tagSize)]),
                        tag: UnsafeRawBufferPointer(rebasing: sealed[(count - WireLimits.tagSize)...]))
                    return try AES.GCM.open(box, using: current.key, authenticating: header)
                }
            } catch {
                direction?.broken = true
                throw WireError.frameNotAuthentic
            }
            current.counter += 1
            direction = current
            var payload = ByteBufferAllocator().buffer(capacity: plain.count)
            payload.writeBytes(plain)
            return Frame(kind: frame.kind, payload: payload)
        }
    }

    /// The frame header as sent and authenticated: length (counting version, kind and `payloadBytes`),
    /// version, kind.
    static func header(payloadBytes: Int, kind: FrameKind) -> [UInt8] {
        let length = UInt32(payloadBytes + 2)
        return [
            UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF),
            WireLimits.protocolVersion, kind.rawValue,
        ]
    }

    /// The 96-bit GCM nonce of frame `counter`: 4 zero bytes, then the counter big-endian.
    static func nonce(_ counter: UInt64) throws -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[4 + i] = UInt8((counter >> (56 - 8 * UInt64(i))) & 0xFF) }
        return try AES.GCM.Nonce(data: bytes)
    }
}

/// Whether frames are sealed after the handshake: always, except in a benchmark that measures what sealing
/// costs (`MRSH_BENCHMARK_UNSEALED_FRAMES=1`, set only by `bench/sealing.sh`, on every process of the cluster;
/// the handshake still proves the token both ways). Never set it elsewhere: frames then travel in clear text.
public enum FrameSealing {
    public static let enabled: Bool = ProcessInfo.processInfo.environment["MRSH_BENCHMARK_UNSEALED_FRAMES"] != "1"
}

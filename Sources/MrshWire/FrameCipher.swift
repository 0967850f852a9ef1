import CMrshSeal
import Foundation
import NIOCore
import Synchronization

/// The sealing of one connection's frames after its handshake: each direction has its own key and a 64-bit
/// frame counter that starts at 0, is the nonce of the frame's AES-256-GCM seal, and advances by one per
/// frame. A frame that was altered, replayed, reordered or dropped fails the next open (the receiver expects
/// exactly the next counter), and from then on every frame fails: the connection is to be closed.
///
/// A sealed frame: the same 6-byte header (its length counting the 16-byte tag), authenticated as associated
/// data, then the ciphertext of the payload and the tag. The encoder seals (on the event loop) straight from
/// the frame's payload into the outgoing buffer; the connection's consumer opens as it takes frames, straight
/// into the payload it gets. Each direction keys its AES context once (`SealingContext`), so a frame costs
/// the cipher's one pass over its bytes and nothing per record.
///
/// Until `startSealing` / `startOpening`, frames pass through unchanged (the handshake's frames).
public final class FrameCipher: Sendable {
    private let sealing = Mutex<SealingContext?>(nil)
    private let opening = Mutex<SealingContext?>(nil)

    public init() {}

    /// Frames sent from now on are sealed with `key` (unless `FrameSealing.enabled` is off).
    public func startSealing(with key: [UInt8]) {
        guard FrameSealing.enabled else { return }
        sealing.withLock { $0 = SealingContext(key: key) }
    }

    /// Frames received from now on must open with `key` (unless `FrameSealing.enabled` is off).
    public func startOpening(with key: [UInt8]) {
        guard FrameSealing.enabled else { return }
        opening.withLock { $0 = SealingContext(key: key) }
    }

    /// Whether received frames are opened (the handshake is over and sealing is on).
    public var isOpening: Bool { opening.withLock { $0 != nil } }

    /// Appends `frame` to `out`, sealed once sealing has started, plain before.
    public func encode(_ frame: Frame, into out: inout ByteBuffer) throws(WireError) {
        try sealing.withLock { (context: inout SealingContext?) throws(WireError) in
            guard let context else {
                frame.encode(into: &out)
                return
            }
            try context.seal(frame, into: &out)
        }
    }

    /// The frame as sent: opened once opening has started (throws `frameNotAuthentic` when it does not open
    /// as the next frame of this connection), unchanged before.
    public func open(_ frame: Frame) throws(WireError) -> Frame {
        try opening.withLock { (context: inout SealingContext?) throws(WireError) -> Frame in
            guard let context else { return frame }
            return try context.open(frame)
        }
    }

    /// The 96-bit GCM nonce of frame `counter`: 4 zero bytes, then the counter big-endian.
    static func nonce(_ counter: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + (0..<8).map { UInt8((counter >> (56 - 8 * UInt64($0))) & 0xFF) }
    }
}

/// One direction of a connection: a keyed BoringSSL AES-256-GCM context (`CMrshSeal`), its frame counter,
/// and whether a frame already failed (then every later one fails too). Used under `FrameCipher`'s lock.
final class SealingContext {
    private let context: OpaquePointer
    private var counter: UInt64 = 0
    private var broken = false
    /// The nonce of the next frame, rewritten in place.
    private var nonce = [UInt8](repeating: 0, count: 12)
    /// The header of the frame being sealed or opened (its associated data).
    private var header = [UInt8](repeating: 0, count: WireLimits.headerSize)

    init(key: [UInt8]) {
        precondition(key.count == 32, "AES-256 needs a 32-byte key")
        // NULL only when memory runs out: nothing sensible can go on without it.
        guard let made = CCryptoBoringSSL_EVP_AEAD_CTX_new(CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key, 32, 16) else {
            fatalError("out of memory for an AES-GCM context")
        }
        context = made
    }

    deinit { CCryptoBoringSSL_EVP_AEAD_CTX_free(context) }

    private func prepare(payloadBytes: Int, kind: FrameKind) throws(WireError) {
        // 2^64 frames will not be sent; refusing the wrap keeps a nonce from ever being used twice.
        guard !broken, counter < UInt64.max else {
            broken = true
            throw .frameNotAuthentic
        }
        for i in 0..<8 { nonce[4 + i] = UInt8((counter >> (56 - 8 * UInt64(i))) & 0xFF) }
        let length = UInt32(payloadBytes + 2)
        header[0] = UInt8(length >> 24)
        header[1] = UInt8((length >> 16) & 0xFF)
        header[2] = UInt8((length >> 8) & 0xFF)
        header[3] = UInt8(length & 0xFF)
        header[4] = WireLimits.protocolVersion
        header[5] = kind.rawValue
    }

    func seal(_ frame: Frame, into out: inout ByteBuffer) throws(WireError) {
        let count = frame.payload.readableBytes
        try prepare(payloadBytes: count + WireLimits.tagSize, kind: frame.kind)
        out.writeBytes(header)
        var ok = false
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: count + WireLimits.tagSize) { destination in
            frame.payload.withUnsafeReadableBytes { plain in
                // Safe: `destination` holds at least count + tagSize bytes (asked for above), so its base exists.
                let base = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var tagLength = 0
                let result = CCryptoBoringSSL_EVP_AEAD_CTX_seal_scatter(
                    context, base, base + count, &tagLength, WireLimits.tagSize, nonce, nonce.count,
                    plain.baseAddress?.assumingMemoryBound(to: UInt8.self), count, nil, 0, header, header.count)
                ok = result == 1 && tagLength == WireLimits.tagSize
                return ok ? count + WireLimits.tagSize : 0
            }
        }
        guard ok else {
            broken = true
            throw .frameNotAuthentic
        }
        counter += 1
    }

    func open(_ frame: Frame) throws(WireError) -> Frame {
        let sealedBytes = frame.payload.readableBytes
        guard sealedBytes >= WireLimits.tagSize else {
            broken = true
            throw .frameNotAuthentic
        }
        try prepare(payloadBytes: sealedBytes, kind: frame.kind)
        let count = sealedBytes - WireLimits.tagSize
        var payload = ByteBufferAllocator().buffer(capacity: max(count, 1))
        var ok = false
        payload.writeWithUnsafeMutableBytes(minimumWritableBytes: max(count, 1)) { destination in
            frame.payload.withUnsafeReadableBytes { sealed in
                // Safe: both buffers hold at least one byte (the tag; the capacity asked for above).
                let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
                ok = CCryptoBoringSSL_EVP_AEAD_CTX_open_gather(
                    context, destination.baseAddress!.assumingMemoryBound(to: UInt8.self), nonce, nonce.count,
                    input, count, input + count, WireLimits.tagSize, header, header.count) == 1
                return ok ? count : 0
            }
        }
        guard ok else {
            broken = true
            throw .frameNotAuthentic
        }
        counter += 1
        return Frame(kind: frame.kind, payload: payload)
    }
}

/// Whether frames are sealed after the handshake: always, except in a benchmark that measures what sealing
/// costs (`MRSH_BENCHMARK_UNSEALED_FRAMES=1`, set only by `bench/sealing.sh`, on every process of the cluster;
/// the handshake still proves the token both ways). Never set it elsewhere: frames then travel in clear text.
public enum FrameSealing {
    public static let enabled: Bool = ProcessInfo.processInfo.environment["MRSH_BENCHMARK_UNSEALED_FRAMES"] != "1"
}

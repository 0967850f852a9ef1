import MrshWire
import NIOCore
import NIOEmbedded

/// libFuzzer entry point for the wire protocol's receiving side.
///
/// Input layout: byte 0 selects the frame size limit (the default 16 MiB, or a small one so the limit itself
/// is reached), bytes 1...4 seed the cut points, the rest is the byte stream a peer sent. The stream is fed to
/// `FrameParser` in chunks cut at data-derived boundaries, as a socket would deliver it, and the frames and
/// error must be the same as when parsing it whole. It is also fed through NIO (`FrameDecoder` in an
/// `EmbeddedChannel`). Every frame goes to `ControlMessage(frame:)`, `DataBlock.verifiedBytes(of:)` and both
/// handshake state machines. A failed check traps, which libFuzzer reports as a crash; a declared 2 GiB
/// length must be rejected from its header (the malloc limit of `run.sh` catches any attempt to allocate it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count >= 5 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let limits = [WireLimits.maxPayload, 0, 1, 33, 64, 4096]
    let maxPayload = limits[Int(input[0]) % limits.count]
    var cuts = CutPoints(seed: input.loadUnaligned(fromByteOffset: 1, as: UInt32.self))
    let stream = UnsafeRawBufferPointer(rebasing: input[5...])

    let whole = parseWhole(stream, maxPayload: maxPayload)
    let chunked = parseChunked(stream, maxPayload: maxPayload, cuts: &cuts)
    precondition(whole == chunked, "chunked parse differs from whole parse: \(whole) vs \(chunked)")
    let nio = parseThroughNIO(stream, maxPayload: maxPayload, cuts: &cuts)
    precondition(nio.frames == whole.frames, "NIO decoder frames differ from FrameParser's")
    precondition((nio.error == nil) == (whole.error == nil), "NIO decoder error differs: \(nio) vs \(whole)")

    var consumed = 0
    for frame in whole.frames {
        consumed += WireLimits.headerSize + frame.payload.readableBytes
        FrameChecks.check(frame)
    }
    if let error = whole.error {
        checkError(error, stream: stream, at: consumed, maxPayload: maxPayload)
    }
    return 0
}

/// The frames of `stream` and the error that stopped parsing (nil: the rest is an incomplete frame).
struct Outcome: Equatable, CustomStringConvertible {
    var frames: [Frame] = []
    var error: WireError?
    var description: String { "\(frames.count) frames, error \(error.map(String.init(describing:)) ?? "none")" }
}

private func parseWhole(_ stream: UnsafeRawBufferPointer, maxPayload: Int) -> Outcome {
    let parser = FrameParser(maxPayload: maxPayload)
    var buffer = ByteBuffer(bytes: stream)
    var outcome = Outcome()
    drain(parser, &buffer, into: &outcome)
    return outcome
}

private func parseChunked(_ stream: UnsafeRawBufferPointer, maxPayload: Int, cuts: inout CutPoints) -> Outcome {
    let parser = FrameParser(maxPayload: maxPayload)
    var buffer = ByteBuffer()
    var outcome = Outcome()
    var offset = 0
    while offset < stream.count, outcome.error == nil {
        let end = min(stream.count, offset + cuts.next())
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
        offset = end
        drain(parser, &buffer, into: &outcome)
    }
    return outcome
}

/// Takes every whole frame out of `buffer`; checks that "need more" consumes nothing.
private func drain(_ parser: FrameParser, _ buffer: inout ByteBuffer, into outcome: inout Outcome) {
    while outcome.error == nil {
        let before = buffer.readerIndex
        do {
            guard let frame = try parser.parse(&buffer) else {
                precondition(buffer.readerIndex == before, "parse returned nil but consumed bytes")
                return
            }
            precondition(buffer.readerIndex == before + WireLimits.headerSize + frame.payload.readableBytes)
            outcome.frames.append(frame)
        } catch {
            precondition(buffer.readerIndex == before, "parse threw but consumed bytes")
            outcome.error = error
        }
    }
}

private func parseThroughNIO(_ stream: UnsafeRawBufferPointer, maxPayload: Int, cuts: inout CutPoints) -> Outcome {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxPayload: maxPayload)))
    var outcome = Outcome()
    var offset = 0
    while offset < stream.count, outcome.error == nil {
        let end = min(stream.count, offset + cuts.next())
        let chunk = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
        offset = end
        do {
            try channel.writeInbound(chunk)
        } catch let error as WireError {
            outcome.error = error
        } catch {
            preconditionFailure("FrameDecoder threw a non-WireError: \(error)")
        }
        while let frame = try? channel.readInbound(as: Frame.self) { outcome.frames.append(frame) }
    }
    _ = try? channel.finish()
    return outcome
}

/// A thrown header error must be justified by the header bytes at `offset`.
private func checkError(_ error: WireError, stream: UnsafeRawBufferPointer, at offset: Int, maxPayload: Int) {
    let header = UnsafeRawBufferPointer(rebasing: stream[offset...])
    precondition(header.count >= 4, "error \(error) before a whole length field")
    let length = UInt64(header[0]) << 24 | UInt64(header[1]) << 16 | UInt64(header[2]) << 8 | UInt64(header[3])
    switch error {
    case .frameTooLarge(let declared):
        precondition(declared == length - 2 && declared > UInt64(maxPayload), "bad frameTooLarge(\(declared))")
    case .frameTooShort(let declared):
        precondition(declared == length && length < 2, "bad frameTooShort(\(declared))")
    case .unsupportedVersion(let version):
        precondition(header.count >= 5 && header[4] == version && version != WireLimits.protocolVersion)
    case .unknownKind(let kind):
        precondition(header.count >= 6 && header[5] == kind && FrameKind(rawValue: kind) == nil)
    default:
        preconditionFailure("FrameParser threw \(error)")
    }
    // An oversize length is refused as soon as the length field is in, whatever follows.
    if length > UInt64(maxPayload) + 2 {
        precondition(error == .frameTooLarge(declared: length - 2), "oversize length not refused first: \(error)")
    }
}

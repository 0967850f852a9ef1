import Foundation
import NIOCore

extension ControlMessage {
    /// The message as a frame: `.control` (JSON), or `.mapOutputs` for the one message sent per map output
    /// per running reducer (`MapOutputsFrame`; a long list should go through `MapOutputsFrame.frames`).
    public func frame() -> Frame {
        if case .mapOutputs(let request, let updates) = self {
            return MapOutputsFrame.frame(request: request, updates: updates)
        }
        // Encoding plain Codable values of known shapes into JSON cannot fail.
        let data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        return Frame(kind: .control, payload: ByteBuffer(bytes: data))
    }

    /// Decodes a `.control` or `.mapOutputs` frame; an error frame becomes `WireError.remote`.
    public init(frame: Frame) throws(WireError) {
        switch frame.kind {
        case .mapOutputs:
            self = try MapOutputsFrame.decode(frame.payload)
        case .control:
            do {
                self = try JSONDecoder().decode(ControlMessage.self, from: Data(frame.payload.readableBytesView))
            } catch {
                throw .badMessage(String(describing: error).prefix(200).description)
            }
        case .error:
            throw .remote(frame.text)
        default:
            throw .unexpectedFrame(expected: "a control message", got: frame.kind)
        }
    }
}

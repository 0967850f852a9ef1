import Foundation
import NIOCore

extension ControlMessage {
    /// The message as a `.control` frame (JSON).
    public func frame() -> Frame {
        // Encoding plain Codable values of known shapes into JSON cannot fail.
        let data = (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
        return Frame(kind: .control, payload: ByteBuffer(bytes: data))
    }

    /// Decodes a `.control` frame; an error frame becomes `WireError.remote`.
    public init(frame: Frame) throws(WireError) {
        switch frame.kind {
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

import Foundation
import Glibc
import Synchronization

/// What a `TamperingProxy` does to the one frame its rule picks.
enum Tamper: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Flip one bit in the middle of the frame's payload.
    case flip
    /// Send the frame twice.
    case replay
    /// Send the next frame first, then this one.
    case reorder
    /// Never send the frame.
    case drop

    var description: String { rawValue }
}

/// Which frame a `TamperingProxy` alters: on the `connection`-th connection it accepts (0 is the first), in
/// one direction, the first frame at index `after` or later (0 is the first frame of that direction) whose
/// bytes on the wire (header included) are at least `minimumBytes`.
struct TamperRule: Sendable {
    var connection = 0
    var towardsServer: Bool
    var after = 1
    var minimumBytes = 0
    var tamper: Tamper
}

/// A TCP relay on 127.0.0.1 in front of a frame server, on threads of its own (blocking sockets, never the
/// cooperative pool). It forwards whole frames (it reads their length headers, which are not secret) and,
/// when a rule says so, alters one of them; it sees every byte but knows no key.
final class TamperingProxy: Sendable {
    let port: Int
    var address: String { "127.0.0.1:\(port)" }
    private let listener: Int32
    private let rule: TamperRule?
    private let accepted = Atomic<Int>(0)
    private let tamperedFrames = Atomic<Int>(0)
    private let sockets = Mutex<[Int32]>([])
    private let stopped = Atomic<Bool>(false)

    /// Frames altered so far.
    var tampered: Int { tamperedFrames.load(ordering: .sequentiallyConsistent) }
    /// Connections accepted so far.
    var connections: Int { accepted.load(ordering: .sequentiallyConsistent) }

    init(to targetPort: Int, rule: TamperRule?) throws {
        self.rule = rule
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop(targetPort: targetPort) }
    }

    /// Stops accepting and ends every relayed connection.
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in sockets.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop(targetPort: Int) {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            let index = accepted.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            sockets.withLock { $0 += [client, server] }
            let pumps = Atomic<Int>(2)
            let finish: @Sendable () -> Void = {
                if pumps.wrappingSubtract(1, ordering: .sequentiallyConsistent).oldValue == 1 {
                    close(client)
                    close(server)
                }
            }
            let rule = self.rule.flatMap { $0.connection == index ? $0 : nil }
            Thread.detachNewThread { [self] in
                pump(from: client, to: server, rule: rule?.towardsServer == true ? rule : nil)
                finish()
            }
            Thread.detachNewThread { [self] in
                pump(from: server, to: client, rule: rule?.towardsServer == false ? rule : nil)
                finish()
            }
        }
        close(listener)
    }

    /// Relays frames from `source` to `sink` until either side ends, altering the one `rule` picks.
    private func pump(from source: Int32, to sink: Int32, rule: TamperRule?) {
        defer {
            shutdown(source, Int32(SHUT_RDWR))
            shutdown(sink, Int32(SHUT_RDWR))
        }
        var index = 0
        var pending = rule
        var held: [UInt8]?
        while let frame = Self.readFrame(source) {
            defer { index += 1 }
            var out: [[UInt8]] = [frame]
            if let r = pending, index >= r.after, frame.count >= r.minimumBytes {
                pending = nil
                tamperedFrames.wrappingAdd(1, ordering: .sequentiallyConsistent)
                switch r.tamper {
                case .flip:
                    var altered = frame
                    altered[6 + (frame.count - 6) / 2] ^= 0x10
                    out = [altered]
                case .replay: out = [frame, frame]
                case .drop: out = []
                case .reorder:
                    held = frame
                    out = []
                }
            } else if let first = held {
                out = [frame, first]
                held = nil
            }
            for bytes in out where !Self.writeAll(sink, bytes) { return }
        }
    }

    /// One whole frame (header and payload), or nil at the end of the stream.
    private static func readFrame(_ fd: Int32) -> [UInt8]? {
        guard let header = readExactly(fd, 6) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length >= 2, length <= (17 << 20), let rest = readExactly(fd, length - 2) else { return nil }
        return header + rest
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        return bytes
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

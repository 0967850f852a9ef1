import Foundation
import Glibc
import Synchronization

/// Every TCP payload seen on this host's loopback traffic to or from a set of ports, per flow, through a
/// packet socket (`AF_PACKET`, root only) read on a thread of its own. Packets the kernel shows twice on
/// `lo` (outgoing and incoming) are kept once.
final class LoopbackCapture: Sendable {
    private struct Flow: Hashable { var source: UInt16; var destination: UInt16 }
    private let fd: Int32
    private let ports = Mutex<Set<UInt16>>([])
    private let flows = Mutex<[Flow: [UInt8]]>([:])
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts capturing, or nil where packet sockets are not allowed (not root).
    static func start() -> LoopbackCapture? {
        guard getuid() == 0 else { return nil }
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(UInt16(3).bigEndian))  // ETH_P_ALL
        guard fd >= 0 else { return nil }
        return LoopbackCapture(fd: fd)
    }

    private init(fd: Int32) {
        self.fd = fd
        var size: Int32 = 32 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread.detachNewThread { [self] in
            loop()
            finished.signal()
        }
    }

    /// Keeps the payloads of TCP segments from or to `more` ports too, from now on.
    func watch(_ more: [Int]) {
        ports.withLock { $0.formUnion(more.map { UInt16($0) }) }
    }

    /// Stops; returns the bytes of each flow (a direction of a connection), in the order they were sent.
    func stop() -> [[UInt8]] {
        running.store(false, ordering: .sequentiallyConsistent)
        finished.wait()
        close(fd)
        return Array(flows.withLock { $0 }.values)
    }

    private func loop() {
        var packet = [UInt8](repeating: 0, count: 1 << 18)
        // struct sockaddr_ll: family (2), protocol (2), ifindex (4), hatype (2), pkttype (1), halen (1), addr (8).
        var link = [UInt8](repeating: 0, count: 20)
        while running.load(ordering: .sequentiallyConsistent) {
            var linkLength = socklen_t(link.count)
            let n = packet.withUnsafeMutableBytes { buffer in
                link.withUnsafeMutableBytes { address in
                    recvfrom(fd, buffer.baseAddress, buffer.count, 0, address.baseAddress?.assumingMemoryBound(to: sockaddr.self), &linkLength)
                }
            }
            guard n > 0 else { continue }
            if link[10] == 4 { continue }  // PACKET_OUTGOING: the same packet comes again as received
            record(packet[0..<n])
        }
    }

    /// Ethernet (14 bytes, all zero on lo) -> IPv4 -> TCP -> payload.
    private func record(_ frame: ArraySlice<UInt8>) {
        let ip = frame.startIndex + 14
        guard frame.count > 14 + 20, frame[ip] >> 4 == 4, frame[ip + 9] == 6 else { return }
        let ipHeader = Int(frame[ip] & 0x0F) * 4
        let total = Int(frame[ip + 2]) << 8 | Int(frame[ip + 3])
        let tcp = ip + ipHeader
        guard tcp + 20 <= frame.endIndex else { return }
        let source = UInt16(frame[tcp]) << 8 | UInt16(frame[tcp + 1])
        let destination = UInt16(frame[tcp + 2]) << 8 | UInt16(frame[tcp + 3])
        let payload = tcp + Int(frame[tcp + 12] >> 4) * 4
        let end = min(frame.endIndex, ip + total)
        guard payload < end else { return }
        let watched = ports.withLock { $0.contains(source) || $0.contains(destination) }
        guard watched else { return }
        flows.withLock { $0[Flow(source: source, destination: destination), default: []].append(contentsOf: frame[payload..<end]) }
    }
}

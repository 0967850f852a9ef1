/// An executor that can delete the blobs a run left on its host (map outputs, intermediate parts).
/// The coordinator calls it on every executor that conforms when a plan ends; executors sharing the
/// coordinator's local store need not conform (the engine clears that store itself).
public protocol BlobReleasing: Sendable {
    func releaseRun(_ run: String) async
}

internal import CFFmpeg
import Synchronization

/// A flag that aborts a `MediaInput`'s blocking calls (opening, reading) from another thread:
/// libavformat polls it through `AVIOInterruptCB` while it waits for the network, so a live
/// input stuck on a silent socket stops within a poll interval once `interrupt()` is called.
public final class InterruptFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    /// Asks every input using this flag to stop; their pending call fails with `.io`.
    public func interrupt() { raised.store(true, ordering: .releasing) }

    public var isRaised: Bool { raised.load(ordering: .acquiring) }

    /// The callback structure handed to libavformat; `self` must outlive the format context.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(callback: { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<InterruptFlag>.fromOpaque(opaque).takeUnretainedValue().isRaised ? 1 : 0
        }, opaque: Unmanaged.passUnretained(self).toOpaque())
    }
}

import KerfSystem
import NIOCore

/// A `FileRegion` over a descriptor several responses share (a sealed copy, an open VOD file):
/// `sendfile` hands the file's pages to the socket, with no copy through user memory. NIO allows
/// one use at a time of a `NIOFileHandle`, so each write has its own over the shared descriptor,
/// given back unclosed when the write ends or fails; `owner` keeps the descriptor open until then.
enum SharedFileRegion {
    /// The region of `range` and the promise its write takes, which runs `done` on `loop` when
    /// the write has ended or failed.
    static func make(_ descriptor: SystemFile, _ range: Range<Int>, keeping owner: AnyObject, on loop: any EventLoop,
                     done: @escaping () -> Void) -> (FileRegion, EventLoopPromise<Void>) {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor.rawValue)
        let promise = loop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { _ in
            withExtendedLifetime(owner) { _ = try? handle.takeDescriptorOwnership() }
            done()
        }
        return (FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound), promise)
    }
}

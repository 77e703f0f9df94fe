import KerfCore
import KerfMedia
import NIOCore

/// An RTMP publisher's media as an FLV byte stream: the RTMP connection (on an event loop)
/// appends tags (and hands over splice cues, `onCuePoint`) without ever blocking; the channel's ingest thread reads them through
/// libavformat's FLV demuxer (`MediaInput(source:)`), blocking until bytes come or the stream
/// ends. At most `capacity` bytes wait: a publisher the ingest cannot keep up with is refused
/// more (`append` answers false) rather than memory growing.
package final class FLVPipe: ByteSource, @unchecked Sendable {
    let capacity: Int
    private let condition = Condition()
    private var buffer = ByteBuffer()
    private var finished = false
    private var wroteHeader = false
    /// Splice cues and timed data the publisher sent, not taken by the channel yet (at most 64
    /// of each kept).
    private var cues: [RTMPCuePoint] = []
    private var textData: [RTMPTextData] = []

    package init(capacity: Int = 16 << 20) {
        self.capacity = capacity
    }

    /// Appends one FLV tag (the file header first, once). False when the pipe is full or ended.
    func append(type: UInt8, timestamp: UInt32, payload: ByteBuffer) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !finished, buffer.readableBytes + payload.readableBytes + 15 <= capacity else { return false }
        if buffer.readerIndex > 1 << 20 { buffer.discardReadBytes() }
        if !wroteHeader {
            wroteHeader = true
            buffer.writeBytes([0x46, 0x4C, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0])
        }
        let size = UInt32(payload.readableBytes)
        buffer.writeInteger(type)
        RTMPMessage.write24(size, to: &buffer)
        RTMPMessage.write24(timestamp & 0xFF_FFFF, to: &buffer)
        buffer.writeInteger(UInt8(timestamp >> 24))
        RTMPMessage.write24(0, to: &buffer)
        buffer.writeImmutableBuffer(payload)
        buffer.writeInteger(size + 11)
        condition.broadcast()
        return true
    }

    /// Passes a publisher's splice cue to the channel (`takeCuePoints`).
    func signal(_ cue: RTMPCuePoint) {
        condition.withLock {
            if cues.count >= 64 { cues.removeFirst() }
            cues.append(cue)
        }
    }

    /// The splice cues sent since the last call, oldest first.
    package func takeCuePoints() -> [RTMPCuePoint] {
        condition.withLock {
            defer { cues = [] }
            return cues
        }
    }

    /// Passes a publisher's timed data to the channel (`takeTextData`).
    func signal(_ data: RTMPTextData) {
        condition.withLock {
            if textData.count >= 64 { textData.removeFirst() }
            textData.append(data)
        }
    }

    /// The timed data sent since the last call, oldest first.
    package func takeTextData() -> [RTMPTextData] {
        condition.withLock {
            defer { textData = [] }
            return textData
        }
    }

    /// No more tags: the reader gets the end of the stream once it has read what is there.
    package func finish() {
        condition.withLock {
            finished = true
            condition.broadcast()
        }
    }

    package var isFinished: Bool {
        condition.withLock { finished }
    }

    package func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while buffer.readableBytes == 0 && !finished { condition.wait() }
        let count = min(target.count, buffer.readableBytes)
        guard count > 0 else { return 0 }
        buffer.withUnsafeReadableBytes { source in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count]))
        }
        buffer.moveReaderIndex(forwardBy: count)
        return count
    }

    package func seek(to offset: Int64) throws -> Bool { false }

    package var size: Int64? { nil }
}

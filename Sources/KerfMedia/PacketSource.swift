import KerfCore

/// Anything the packager can read packets from: a demuxed file (`MediaInput`) or a pipeline
/// that produces packets itself (a transcoder encoding a ladder).
///
/// Packets come out in decode order per track, interleaved across tracks by decode time, each
/// with its track's `index` as stream index and its time base set.
public protocol PacketSource: AnyObject {
    /// The path or URL the packets come from, used to name the input in messages.
    var url: String { get }
    /// The tracks packets are read for; `TrackInfo.index` is the packets' stream index.
    var tracks: [TrackInfo] { get }
    var container: ContainerInfo { get }
    /// Everything a muxer needs to describe track `index`.
    func codecParameters(track index: Int) -> CodecParameters
    /// Reads the next packet into `packet`, replacing its content.
    func read(into packet: Packet) throws -> MediaInput.ReadResult
    /// Bytes of the input's packets read so far (before any re-encoding).
    var bytesRead: Int { get }
}

extension MediaInput: PacketSource {}

import KerfCore

/// Stream copy from a `MediaInput` to a `MediaOutput`: the fast path, no decoding.
///
/// Copies the selected tracks (all by default) in file order, rescaling timestamps into the
/// output's time bases. Packets are read into one reused `Packet`, so memory does not grow with
/// the input.
public struct Remuxer {
    public struct Statistics: Sendable, Equatable {
        public var packets: Int = 0
        public var bytes: Int = 0
    }

    public let input: MediaInput
    public let output: MediaOutput
    /// Input track indexes to copy, in output stream order.
    public let tracks: [Int]

    public init(input: MediaInput, output: MediaOutput, tracks: [Int]? = nil) {
        self.input = input
        self.output = output
        self.tracks = tracks ?? input.tracks.filter { $0.mediaType != .attachment && $0.mediaType != .unknown }.map(\.index)
    }

    /// Adds the streams, writes header, packets and trailer.
    ///
    /// Timestamps are copied unchanged (`avoid_negative_ts=disabled`): the negative start of
    /// AAC priming or B-frame decode times survives in containers that can hold it, instead of
    /// every stream being shifted. Pass another `avoid_negative_ts` to change that.
    /// - Parameter headerOptions: muxer options for `MediaOutput.writeHeader(options:)`.
    /// - Throws: `MediaError` from reading or writing; the output is then incomplete.
    @discardableResult
    public func run(headerOptions: [String: String] = [:]) throws(MediaError) -> Statistics {
        var streamFor: [Int: Int] = [:]
        for track in tracks {
            let info = input.tracks[track]
            streamFor[track] = try output.addStream(parameters: input.codecParameters(track: track),
                                                    timeBase: info.timeBase, language: info.language,
                                                    isDefault: info.isDefault)
        }
        try output.writeHeader(options: headerOptions.merging(["avoid_negative_ts": "disabled"]) { given, _ in given })
        var statistics = Statistics()
        let packet = Packet()
        while try input.read(into: packet) == .packet {
            guard let stream = streamFor[packet.streamIndex] else { continue }
            statistics.packets += 1
            statistics.bytes += packet.size
            try output.write(packet, toStream: stream)
        }
        try output.finish()
        return statistics
    }
}

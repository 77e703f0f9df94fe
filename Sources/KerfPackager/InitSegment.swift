import KerfCore
import KerfMedia

/// A CMAF initialisation segment (`ftyp` + `moov` with `mvex`) for one track.
///
/// libavformat's mov muxer writes the sample entry (avc1/avcC, hvc1/hvcC, mp4a/esds, Opus/dOps…)
/// from the codec parameters; Kerf keeps only the header it produces and writes the media
/// fragments itself.
struct InitSegment {
    var bytes: [UInt8]
    /// The media timescale of the track (`mdhd`), the unit of every fragment timestamp.
    var timescale: Int64

    /// - Parameter firstPacket: the track's first packet. AC-3 and E-AC-3 sample entries (dac3,
    ///   dec3) are built from a frame header, so for them the muxer sees this packet first and
    ///   only the header it then writes is kept.
    static func make(parameters: CodecParameters, timeBase: Rational, language: String?,
                     name: String, firstPacket: Packet? = nil) throws(MediaError) -> InitSegment {
        let sink = MemoryByteSink()
        let output = try MediaOutput(format: "mp4", sink: sink, name: name)
        try output.addStream(parameters: parameters, timeBase: timeBase, language: language)
        let needsFrame = ["ac3", "eac3"].contains(parameters.codec)
        try output.writeHeader(options: ["movflags": needsFrame ? "+frag_custom+delay_moov+default_base_moof+cmaf"
                                                                : "+frag_custom+empty_moov+default_base_moof+cmaf"])
        if needsFrame {
            guard let firstPacket else {
                throw MediaError(.invalidArgument, "\(parameters.codec) needs its first frame to describe the track", file: name)
            }
            let copy = try firstPacket.makeReference()
            copy.ptsTicks = 0
            copy.dtsTicks = 0
            try output.write(copy, toStream: 0)
        }
        try output.flushFragment()
        let timescale = output.timeBase(ofStream: 0).denominator
        let boxes = Boxes.topLevel(sink.bytes)
        guard let moov = boxes.first(where: { $0.type == "moov" }) else {
            throw MediaError(.library, "mov muxer wrote no moov", file: name)
        }
        return InitSegment(bytes: Array(sink.bytes[0..<(moov.offset + moov.size)]), timescale: timescale)
    }
}

extension InitSegment {
    /// Everything a track needs at its first sample to be written as CMAF: the payload
    /// conversion MPEG-TS style samples need (Annex B, ADTS), the codec parameters completed
    /// from that sample (an AudioSpecificConfig from an ADTS header), and the init segment.
    /// Shared by the VOD and the live packager.
    static func prepare(parameters: CodecParameters, timeBase: Rational, language: String?, name: String,
                        firstPacket: Packet) throws -> (conversion: PayloadConversion, parameters: CodecParameters, segment: InitSegment) {
        let bytes = firstPacket.bytes
        let conversion = PayloadConversion.detect(codec: parameters.codec, extradata: parameters.extradata, firstSample: bytes)
        var parameters = parameters
        if conversion == .adts, parameters.extradata.isEmpty, let config = ADTS.audioSpecificConfig(bytes) {
            parameters = try parameters.replacingExtradata(config)
        }
        let segment = try make(parameters: parameters, timeBase: timeBase, language: language, name: name, firstPacket: firstPacket)
        return (conversion, parameters, segment)
    }
}

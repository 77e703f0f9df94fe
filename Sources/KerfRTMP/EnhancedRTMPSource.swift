import KerfCore
import KerfMedia
import NIOCore

/// An Enhanced RTMP publisher's media as packets (HEVC `hvc1` or AV1 `av01` video with a
/// FourCC in an extended video tag header; AAC audio), for FFmpeg builds whose FLV demuxer
/// knows only the legacy codec ids. The codec configuration records become the tracks' setup
/// data (`ElementaryStream`), the coded frames packets in milliseconds.
///
/// Tracks are known once the video configuration and first frame have come, and the audio
/// configuration too, or a second of video without any audio.
package final class EnhancedRTMPSource: PacketSource {
    package let url: String
    package private(set) var tracks: [TrackInfo] = []
    package let container = ContainerInfo(formatName: "flv", formatLongName: "Enhanced RTMP")
    private var parameters: [CodecParameters] = []
    private let reader: FLVTagReader
    /// Tags read while the tracks were being found, not yet returned as packets (newest first).
    private var pending: [FLVTagReader.Tag] = []
    /// The video track is always the first; audio, when the publisher sends it, the second.
    private let videoTrack = 0
    private var audioTrack: Int?

    package var bytesRead: Int { reader.count }

    /// The video codecs taken, by FourCC.
    static let videoCodecs: [String: String] = ["hvc1": "hevc", "av01": "av1"]

    /// True for a video tag with an extended (Enhanced RTMP) header.
    package static func isEnhancedVideo(_ tag: FLVTagReader.Tag) -> Bool {
        tag.type == 9 && (tag.payload.first ?? 0) & 0x80 != 0
    }

    /// - Parameters:
    ///   - read: the tags the ingest read ahead, up to the first (enhanced) video tag.
    /// - Throws: `RTMPError` `.unsupportedStream` for a codec this path does not take,
    ///   `MediaError` when a configuration record cannot be read.
    package init(reader: FLVTagReader, read: [FLVTagReader.Tag], name: String) throws {
        self.reader = reader
        self.url = name
        reader.recording = false
        var videoConfig: (codec: String, record: [UInt8])?
        var audioConfig: [UInt8]?
        var frameRate: Rational?
        var firstFrame: UInt32?
        var queue = read
        var looked = 0
        // Until the video configuration and first frame, and the audio configuration or a
        // second of video without audio (at most 4096 tags and 32 MiB).
        let limit = reader.count + (32 << 20)
        while looked < 4096, reader.count < limit {
            let tag: FLVTagReader.Tag
            if looked < queue.count { tag = queue[looked] } else {
                guard let next = try reader.next() else { break }
                queue.append(next)
                tag = next
            }
            looked += 1
            switch tag.type {
            case 18:
                if let rate = Self.metadataFrameRate(tag.payload) { frameRate = rate }
            case 9:
                guard let video = try Self.parseVideo(tag.payload) else { continue }
                if case .config(let codec, let record) = video { videoConfig = (codec, record) }
                if case .frame = video, firstFrame == nil { firstFrame = tag.timestamp }
            case 8:
                if case .config(let record)? = Self.parseAudio(tag.payload) { audioConfig = record }
            default:
                break
            }
            if videoConfig != nil, let firstFrame {
                if audioConfig != nil { break }
                if tag.timestamp &- firstFrame >= 1000 { break }
            }
        }
        guard let videoConfig, firstFrame != nil else {
            throw RTMPError(.unsupportedStream, "the publisher sent no HEVC or AV1 configuration and frame")
        }
        let video = try ElementaryStream.parameters(codec: videoConfig.codec, extradata: videoConfig.record)
        var info = TrackInfo(parameters: video, index: 0, timeBase: Rational(1, 1000))
        info.frameRate = frameRate
        tracks.append(info)
        parameters.append(video)
        if let audioConfig {
            let audio = try ElementaryStream.parameters(codec: "aac", extradata: audioConfig)
            tracks.append(TrackInfo(parameters: audio, index: 1, timeBase: Rational(1, 1000)))
            parameters.append(audio)
            audioTrack = 1
        }
        // Last first, so taking the next is a pop.
        pending = queue.reversed()
    }

    package func codecParameters(track index: Int) -> CodecParameters {
        parameters[index]
    }

    package func read(into packet: Packet) throws -> MediaInput.ReadResult {
        while true {
            let tag: FLVTagReader.Tag
            if let next = pending.popLast() {
                tag = next
            } else {
                guard let next = try reader.next() else { return .endOfStream }
                tag = next
            }
            if try self.packet(from: tag, into: packet) { return .packet }
        }
    }

    /// Fills `packet` from a coded video frame or AAC frame; false for other tags.
    private func packet(from tag: FLVTagReader.Tag, into packet: Packet) throws -> Bool {
        let index: Int, bytes: ArraySlice<UInt8>, offset: Int64, keyframe: Bool
        switch tag.type {
        case 9:
            guard let video = try Self.parseVideo(tag.payload) else { return false }
            switch video {
            case .frame(let data, let composition, let isKey):
                (index, bytes, offset, keyframe) = (videoTrack, data, Int64(composition), isKey)
            case .config(_, let record):
                if record != tracks[videoTrack].extradata {
                    throw RTMPError(.unsupportedStream, "the publisher changed its video configuration mid-stream")
                }
                return false
            }
        case 8:
            guard let audioTrack, case .frame(let data)? = Self.parseAudio(tag.payload) else { return false }
            (index, bytes, offset, keyframe) = (audioTrack, data, 0, true)
        default:
            return false
        }
        try packet.replacePayload(with: bytes)
        packet.streamIndex = index
        packet.timeBase = Rational(1, 1000)
        packet.dtsTicks = Int64(tag.timestamp)
        packet.ptsTicks = Int64(tag.timestamp) + offset
        packet.isKeyframe = keyframe
        return true
    }

    enum Video {
        case config(codec: String, record: [UInt8])
        case frame(ArraySlice<UInt8>, composition: Int32, keyframe: Bool)
    }

    /// An extended video tag: its configuration record or coded frame; nil for tags that carry
    /// neither (end of sequence, metadata).
    static func parseVideo(_ payload: [UInt8]) throws(RTMPError) -> Video? {
        guard let first = payload.first, first & 0x80 != 0 else {
            throw RTMPError(.unsupportedStream, "a legacy video tag in an Enhanced RTMP stream")
        }
        let frameType = (first >> 4) & 0x07, packetType = first & 0x0F
        // A command frame (one byte, no FourCC) unless it is metadata; multitrack and ModEx
        // put other fields where the FourCC would be.
        if frameType == 5 && packetType != 4 { return nil }
        if packetType == 6 || packetType == 7 {
            throw RTMPError(.unsupportedStream, "Enhanced RTMP multitrack and ModEx video are not taken")
        }
        guard payload.count >= 5 else { throw RTMPError(.unsupportedStream, "a truncated Enhanced RTMP video tag") }
        let fourCC = String(decoding: payload[1..<5], as: UTF8.self)
        guard let codec = videoCodecs[fourCC] else {
            throw RTMPError(.unsupportedStream, "Enhanced RTMP video \(fourCC.debugDescription) is not taken (hvc1 and av01 are)")
        }
        switch packetType {
        case 0:  // SequenceStart
            return .config(codec: codec, record: Array(payload[5...]))
        case 1:  // CodedFrames: HEVC carries a signed 24-bit composition time offset
            if fourCC == "hvc1" {
                guard payload.count >= 8 else { return nil }
                let raw = Int32(payload[5]) << 16 | Int32(payload[6]) << 8 | Int32(payload[7])
                return .frame(payload[8...], composition: raw & 0x80_0000 != 0 ? raw - 0x100_0000 : raw, keyframe: frameType == 1)
            }
            return .frame(payload[5...], composition: 0, keyframe: frameType == 1)
        case 3:  // CodedFramesX: no offset
            return .frame(payload[5...], composition: 0, keyframe: frameType == 1)
        default:  // SequenceEnd, Metadata, MPEG2TSSequenceStart
            return nil
        }
    }

    enum Audio {
        case config([UInt8])
        case frame(ArraySlice<UInt8>)
    }

    /// A legacy AAC audio tag; nil for other audio.
    static func parseAudio(_ payload: [UInt8]) -> Audio? {
        guard payload.count >= 2, payload[0] >> 4 == 10 else { return nil }
        return payload[1] == 0 ? .config(Array(payload[2...])) : .frame(payload[2...])
    }

    /// `framerate` from an onMetaData script tag.
    static func metadataFrameRate(_ payload: [UInt8]) -> Rational? {
        guard let values = try? AMF0.decodeAll(ByteBuffer(bytes: payload)) else { return nil }
        for value in values {
            if let rate = value["framerate"]?.number, rate > 0, rate < 1000 {
                return Rational(Int64((rate * 1000).rounded()), 1000).reduced
            }
        }
        return nil
    }
}

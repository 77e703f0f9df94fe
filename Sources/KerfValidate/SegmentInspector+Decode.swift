import KerfCore
import KerfCrypto
import KerfMedia

/// Whether decrypted samples are media: a wrong key leaves the headers the encryption keeps
/// clear and turns the protected bytes to noise, which a decoder that stops at the first error
/// it detects (`AV_EF_EXPLODE`) refuses.
extension SegmentInspector {
    /// How much of a segment is decoded.
    enum DecodeExtent {
        /// The first video sample (a keyframe in a well-formed segment, which needs only the
        /// parameter sets of the init segment or the segment itself) and four audio samples:
        /// enough for H.264 and AAC, whose decoders notice noise at once.
        case first
        /// Every sample: a wrong key in HEVC slices (CABAC) often shows only a few frames in.
        case all

        var video: Int { self == .first ? 1 : Int.max }
        var audio: Int { self == .first ? 4 : Int.max }
    }

    /// Decodes the samples of the tracks `trackIDs` (container track IDs) in `bytes`, an init
    /// segment followed by a decrypted media segment.
    /// - Returns: nil when they decode, else which track failed and the decoder's words.
    static func decodeFailure(_ bytes: [UInt8], name: String, trackIDs: Set<UInt32>, extent: DecodeExtent) -> String? {
        decodeFailure(bytes, name: name, extent: extent, tracks: { track in
            track.containerID.map { trackIDs.contains(UInt32(truncatingIfNeeded: $0)) } ?? false
        })
    }

    /// Decodes the samples of the audio and video tracks `tracks` selects, each packet's
    /// payload first passed through `transform` (a decryption) when there is one.
    static func decodeFailure(_ bytes: [UInt8], name: String, extent: DecodeExtent, tracks selected: (TrackInfo) -> Bool,
                              transform: ((TrackInfo, [UInt8]) throws(CryptoError) -> [UInt8])? = nil) -> String? {
        struct Check {
            var track: TrackInfo
            var decoder: Decoder
            var kind: String
            var remaining: Int
            var sent = 0
            var frames = 0
        }
        var checks: [Int: Check] = [:]
        let input: MediaInput
        do {
            input = try MediaInput(source: MemoryByteSource(bytes: bytes), name: name)
            for track in input.tracks where (track.mediaType == .video || track.mediaType == .audio) && selected(track) {
                let decoder = try Decoder(parameters: input.codecParameters(track: track.index), timeBase: track.timeBase,
                                          threads: 1, subject: name, strict: true)
                try decoder.open()
                let video = track.mediaType == .video
                checks[track.index] = Check(track: track, decoder: decoder, kind: "\(track.codec) \(video ? "video" : "audio")",
                                            remaining: video ? extent.video : extent.audio)
            }
        } catch {
            return "cannot be read after decryption: \(error.summary): \(error.cause)"
        }
        let packet = Packet(), frame = Frame()
        func finish(_ check: inout Check) throws(MediaError) -> String? {
            check.remaining = 0
            try check.decoder.drain()
            while try check.decoder.receive(into: frame) == .output { check.frames += 1 }
            return check.frames == 0 ? "its \(check.kind) samples decode to nothing" : nil
        }
        var open = checks.count
        while open > 0 {
            let read: MediaInput.ReadResult
            do { read = try input.read(into: packet) } catch { return "cannot be read after decryption: \(error.cause)" }
            guard read == .packet else { break }
            guard var check = checks[packet.streamIndex], check.remaining > 0 else { continue }
            var sample = packet
            if let transform {
                do throws(CryptoError) {
                    let clear = try transform(check.track, packet.bytes)
                    guard let replaced = try? packet.replacingPayload(clear) else { return "cannot be decrypted: out of memory" }
                    sample = replaced
                } catch {
                    return "cannot be decrypted: \(error.message)"
                }
            }
            do {
                while try check.decoder.send(sample) == .tryAgain {
                    while try check.decoder.receive(into: frame) == .output { check.frames += 1 }
                }
                while try check.decoder.receive(into: frame) == .output { check.frames += 1 }
                check.remaining -= 1
                check.sent += 1
                if check.remaining == 0 {
                    if let failure = try finish(&check) { return failure }
                    open -= 1
                }
            } catch {
                return "its \(check.kind) samples do not decode: \(error.cause)"
            }
            checks[packet.streamIndex] = check
        }
        // The end of the segment came first: drain what is still open.
        for index in checks.keys.sorted() where checks[index]!.remaining > 0 && checks[index]!.sent > 0 {
            do {
                if let failure = try finish(&checks[index]!) { return failure }
            } catch {
                return "its \(checks[index]!.kind) samples do not decode: \(error.cause)"
            }
        }
        return nil
    }
}

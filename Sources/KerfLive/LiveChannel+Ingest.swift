import KerfCore
import KerfMedia
import KerfPackager
import KerfRTMP
import KerfTranscode

extension LiveChannel {
    func ingest() throws {
        if isPush {
            guard let pipe = publisher.waitForPublisher(clock: clock, stop: { stopFlag.isRaised }) else { return }
            defer { pipe.finish() }
            let input: any PacketSource
            do {
                input = try published(pipe)
            } catch {
                throw LiveError(.input, "the publisher's stream cannot be read", reason: "\(error)", file: "rtmp://…/live/\(name)")
            }
            var encoder: EncoderSelection<HardwareDevice>?
            return try ingest(from: try transcoded(input, encoder: &encoder), path: nil, encoder: &encoder, cues: pipe)
        }
        let path = configuration.input.hasPrefix("file:") ? String(configuration.input.dropFirst(5)) : configuration.input
        // A silent network input fails after 5 s instead of blocking forever: rw_timeout for
        // every protocol, and UDP's own timeout (its reader thread never reports a stall).
        var options = isFileInput ? [:] : ["rw_timeout": "5000000"]
        if path.hasPrefix("udp://") { options["timeout"] = "5000000" }
        // Chosen once per connection, not again at every loop of a file.
        var encoder: EncoderSelection<HardwareDevice>?
        try ingest(from: try open(path, options: options, encoder: &encoder), path: path, encoder: &encoder)
    }

    /// Signals of each kind (sections, cues, tags, timed data) kept while the epoch waits for its
    /// first keyframe.
    static let heldSignalLimit = 256

    /// Segments `input` until it ends (a file input: loops, reopening `path`) or `stop()`.
    /// - Parameter cues: a publisher's pipe, whose splice cues (`onCuePoint`) and timed data
    ///   (`onTextData`, `onMetaData` updates) are taken too.
    func ingest(from opened: any PacketSource, path: String?, encoder: inout EncoderSelection<HardwareDevice>?, cues: FLVPipe? = nil) throws {
        var input = opened
        statistics.withLock { $0.connected = true; $0.lastError = nil; $0.connections += 1 }
        logger.info("input connected", metadata: ["input": "\(configuration.input)",
                                                  "tracks": "\(input.tracks.map(\.codec).joined(separator: ","))"])
        var epoch = try EpochSession(input: input, channel: self)
        // The input's SCTE-35 (a data stream of codec scte_35, one section per packet) and timed
        // ID3 (codec timed_id3, one tag per packet).
        let spliceStreams = Set(input.tracks.filter { $0.codec == "scte_35" }.map(\.index))
        let tagStreams = Set(input.tracks.filter { $0.codec == "timed_id3" }.map(\.index))
        var heldCues: [RTMPCuePoint] = [], heldTextData: [RTMPTextData] = []
        // Sections and tags (with their arrival and the loop's shift then) read before the first keyframe.
        var heldSections: [(bytes: [UInt8], arrival: MediaTime, loopShift: MediaTime)] = []
        var heldTags: [(bytes: [UInt8], arrival: MediaTime)] = []
        // Real-time pacing of file inputs, and the shift that places each loop after the last.
        var pace: (wall: Double, media: MediaTime)?
        var loopShift = MediaTime.zero(timescale: 1000)
        var loopStart: MediaTime?, loopEnd: MediaTime?
        let packet = Packet()
        var countedInput = 0
        let target = configuration.segmentDuration
        defer { epoch.finish() }
        while !stopFlag.isRaised {
            if try input.read(into: packet) == .endOfStream {
                guard isFileInput, let path, let start = loopStart, let end = loopEnd, end > start else { return }
                loopShift = loopShift + (end - start)
                loopStart = nil
                loopEnd = nil
                input = try open(path, options: [:], encoder: &encoder)
                forceSpliceKeyframes(in: input, packager: epoch.packager, loopShift: loopShift)
                countedInput = 0
                continue
            }
            // Ingest is what came in: behind a transcoder, the input's bytes, not the rungs'.
            let added = input.bytesRead - countedInput
            countedInput = input.bytesRead
            let edge = epoch.packager.referenceTime
            statistics.withLock { $0.bytesIngested += added; $0.ingestEdge = edge }
            metrics.ingestBytes.increment(by: Int64(added))
            if spliceStreams.contains(packet.streamIndex) || tagStreams.contains(packet.streamIndex) {
                let packager = epoch.packager
                if let arrival = (packet.pts ?? packet.dts).map({ $0 + loopShift }) ?? packager.referenceTime.flatMap(packager.inputTime(ofChannelTime:)) {
                    if tagStreams.contains(packet.streamIndex) {
                        heldTags.append((packet.bytes, arrival))
                    } else {
                        heldSections.append((packet.bytes, arrival, loopShift))
                    }
                }
                continue
            }
            if isFileInput {
                guard let time = packet.dts ?? packet.pts else { continue }
                loopStart = min(loopStart ?? time, time)
                loopEnd = max(loopEnd ?? time, time + (packet.duration ?? .zero(timescale: 1)))
                shift(packet, by: loopShift)
                let shifted = time + loopShift
                if let pace {
                    pause(until: pace.wall + (shifted - pace.media).seconds)
                } else {
                    pace = (clock.now(), shifted)
                }
            }
            // The channel timeline is the wall clock: an input running ahead of it (a burst, a
            // source faster than real time) is read no faster than real time, and one that fell
            // behind (a stall with continuous timestamps, a slow clock) starts a new epoch
            // anchored to the wall clock again, so DASH availability times stay true.
            // (A media timeline follows the input's timestamps whatever the wall clock says.)
            if configuration.epoch == nil, let time = epoch.packager.channelTime(of: packet) {
                let wallTime = origin + time.seconds
                let lead = wallTime - clock.now()
                if lead > target { pause(until: wallTime - target) }
                if lead < -Self.maximumLag(target) {
                    logger.warning("input fell behind the wall clock: new epoch", metadata: ["seconds": "\(-lead)"])
                    epoch.finish()
                    epoch = try EpochSession(input: input, channel: self)
                }
            }
            // Sections and a publisher's cues wait for the epoch's first keyframe (their times are
            // the input's).
            heldCues += cues?.takeCuePoints() ?? []
            heldTextData += cues?.takeTextData() ?? []
            if epoch.packager.hasOrigin, !heldCues.isEmpty || !heldSections.isEmpty || !heldTags.isEmpty || !heldTextData.isEmpty {
                for section in heldSections { signalled(section.bytes, arrival: section.arrival, loopShift: section.loopShift, packager: epoch.packager) }
                for cue in heldCues { signalled(cue, packager: epoch.packager) }
                for tag in heldTags { timedMetadata(tag.bytes, arrival: tag.arrival, packager: epoch.packager) }
                for data in heldTextData { timedMetadata(data, packager: epoch.packager) }
                heldSections = []
                heldCues = []
                heldTags = []
                heldTextData = []
            } else if heldSections.count + heldCues.count + heldTags.count + heldTextData.count > 4 * Self.heldSignalLimit {
                // An input without a keyframe yet keeps the latest signals only.
                heldSections = heldSections.suffix(Self.heldSignalLimit)
                heldCues = heldCues.suffix(Self.heldSignalLimit)
                heldTags = heldTags.suffix(Self.heldSignalLimit)
                heldTextData = heldTextData.suffix(Self.heldSignalLimit)
            }
            applySplicePoints(to: epoch.packager, input: input, loopShift: loopShift)
            // When the packet is handed over (after the pacing wait of a file input).
            let readAt = clock.now()
            if try epoch.push(packet, readAt: readAt) == .discontinuity {
                logger.warning("input timestamps jumped (or a track stopped): new epoch")
                epoch.finish()
                epoch = try EpochSession(input: input, channel: self)
                _ = try epoch.push(packet, readAt: readAt)
            }
        }
    }

    /// Opens the input; with a `ladder:`, behind a transcoder re-encoding its video to the
    /// ladder (keyframes on the segment boundaries) and its audio to AAC when it must be.
    /// - Parameter encoder: the video encoder chosen for the ladder; chosen here when nil.
    func open(_ path: String, options: [String: String],
                      encoder: inout EncoderSelection<HardwareDevice>?) throws -> any PacketSource {
        try transcoded(try inputs.open(path, options, stopFlag), encoder: &encoder)
    }

    /// A publisher's stream: libavformat's FLV demuxer reads it, unless its video tags have
    /// Enhanced RTMP headers (HEVC, AV1), which `EnhancedRTMPSource` reads. The tags before
    /// the first video tag are looked at first, then given to whichever reads the stream.
    func published(_ pipe: FLVPipe) throws -> any PacketSource {
        let reader = FLVTagReader(source: pipe)
        var read: [FLVTagReader.Tag] = []
        // Up to the first video tag, or a second of audio without one (audio only).
        var firstAudio: UInt32?
        while read.count < 1024, reader.count < 16 << 20, let tag = try reader.next() {
            read.append(tag)
            if tag.type == 9 { break }
            if tag.type == 8 {
                if let firstAudio, tag.timestamp &- firstAudio >= 1000 { break }
                firstAudio = firstAudio ?? tag.timestamp
            }
        }
        let name = "rtmp://…/live/\(name)"
        if let last = read.last, EnhancedRTMPSource.isEnhancedVideo(last) {
            return try EnhancedRTMPSource(reader: reader, read: read, name: name)
        }
        return try MediaInput(source: ReplayedByteSource(prefix: reader.recorded, rest: pipe), name: name, formatName: "flv")
    }

    /// The input itself, or with a `ladder:` a transcoder over it.
    func transcoded(_ input: any PacketSource, encoder: inout EncoderSelection<HardwareDevice>?) throws -> any PacketSource {
        guard let ladder = configuration.ladder else { return input }
        var plan = TranscodePlan(tracks: input.tracks, mode: .auto, ladderRequested: true, cmaf: true)
        // SCTE-35 and timed ID3 pass through the transcoder: the channel reads them after it.
        for track in input.tracks where track.codec == "scte_35" || track.codec == "timed_id3" { plan.treatments[track.index] = .copy }
        guard let index = plan.ladderTrack, let video = input.tracks.first(where: { $0.index == index }),
              let width = video.width, let height = video.height else {
            throw LiveError(.configuration, "the input has no video for the ladder", file: configuration.input)
        }
        let rungs = ladder.resolved(sourceWidth: width, sourceHeight: height, sampleAspectRatio: video.sampleAspectRatio).rungs
        let selection = try encoder ?? EncoderSelection<HardwareDevice>(choice: .auto, codec: rungs.first?.codec ?? "h264") { family, name throws(TranscodeError) in
            try EncoderProbe.open(family: family, encoderName: name)
        }
        encoder = selection
        logger.info("transcoding", metadata: ["ladder": "\(rungs.map { "\($0.width)x\($0.height)@\($0.bitRate / 1000)k" })",
                                              "encoder": "\(selection.log.last ?? "")"])
        return try TranscodingSource(input: input, plan: plan, rungs: rungs, family: selection.family, device: selection.device,
                                     decodeDevice: nil, segmentDuration: configuration.targetDuration, logger: logger)
    }

    func shift(_ packet: Packet, by offset: MediaTime) {
        guard offset.value != 0 else { return }
        let ticks = offset.ticks(of: packet.timeBase)
        packet.ptsTicks = packet.ptsTicks.map { $0 + ticks }
        packet.dtsTicks = packet.dtsTicks.map { $0 + ticks }
    }

    /// Sleeps until a wall-clock time on the channel's clock, returning early on `stop()`.
    func pause(until deadline: Double) {
        clock.sleep(until: deadline) { stopFlag.isRaised }
    }
}

import KerfCore
import KerfManifest
import KerfPackager

extension LiveArchive {
    /// One line of the journal: a JSON object with one key, the record's kind.
    ///
    /// Times are `MediaTime` (`{"timescale":…,"value":…}`). Journals written before that (segment
    /// `start`/`duration` as ticks beside a `timescale`, epoch `startMilliseconds`) are read too,
    /// and rewritten in this form at the next compaction.
    package enum Record: Sendable {
        /// Wall-clock seconds of channel time 0 (the first record of journals that have it).
        case origin(seconds: Double)
        /// `targetDuration` and `peakBitRate` are the window's maximums so far (they never go down,
        /// even when the segments that set them have left).
        case rendition(folder: String, track: LivePackager.Track, muxed: [LivePackager.Track]?, nextSequence: UInt64,
                       discontinuitiesRemoved: UInt64, targetDuration: Int?, peakBitRate: Int?)
        case epoch(id: Int, start: MediaTime, folders: [String], transport: [LiveWindow.TransportFolder])
        /// Segments of an epoch that left the window, as the MPD still lists them
        /// (`dash-timeline: period`).
        case earlier(folder: String, epoch: Int, runs: [Presentation.SegmentRun])
        case initialization(folder: String, epoch: Int, timescale: Int64)
        /// `protection`: the key period's, under key rotation.
        case segment(folder: String, epoch: Int, sequence: UInt64, start: MediaTime, duration: MediaTime, size: Int,
                     etag: String, discontinuity: Bool, protection: ContentProtection? = nil)
        /// A splice marker the window lists (again with the same id once its end is cut).
        case splice(SpliceMarker)
        /// Closed captions found in a video rendition (with their labels), all found so far.
        case captions(folder: String, ClosedCaptions)
        /// Where the Period of the segments after the markers already forgotten starts
        /// (`ad-periods`; `Presentation.forgottenSplit`).
        case periodSplit(MediaTime)
        /// The splices asked for and not cut yet (all of them: a later record replaces it).
        case pendingSplices([LiveSplices.Request])
    }
}

extension LiveArchive.Record: Codable {
    private enum Kind: String, CodingKey { case origin, rendition, epoch, earlier, initialization, segment, splice, captions, periodSplit, pendingSplices }

    private struct CaptionsBody: Codable {
        var folder: String
        var captions: ClosedCaptions
    }

    private struct EarlierBody: Codable {
        var folder: String
        var epoch: Int
        var runs: [Presentation.SegmentRun]
    }

    private struct RenditionBody: Codable {
        var folder: String
        var track: LivePackager.Track
        var muxed: [LivePackager.Track]?
        var nextSequence: UInt64
        var discontinuitiesRemoved: UInt64
        var targetDuration: Int?
        var peakBitRate: Int?
    }

    private struct EpochBody: Codable {
        var id: Int
        var start: MediaTime?
        /// The first journal format's epoch start.
        var startMilliseconds: Int64?
        var folders: [String]
        var transport: [LiveWindow.TransportFolder]
    }

    private struct InitializationBody: Codable {
        var folder: String
        var epoch: Int
        var timescale: Int64
    }

    private struct SegmentBody: Codable {
        var folder: String
        var epoch: Int
        var sequence: UInt64
        var start: MediaTime
        var duration: MediaTime
        var size: Int
        var etag: String
        var discontinuity: Bool
        var protection: ContentProtection?
    }

    /// The first journal format's segment: ticks of `timescale`.
    private struct TicksSegmentBody: Codable {
        var folder: String
        var epoch: Int
        var sequence: UInt64
        var start: Int64
        var duration: Int64
        var timescale: Int64
        var size: Int
        var etag: String
        var discontinuity: Bool
    }

    package init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: Kind.self)
        guard let kind = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a journal record names no kind"))
        }
        switch kind {
        case .origin:
            self = .origin(seconds: try container.decode(Double.self, forKey: kind))
        case .rendition:
            let body = try container.decode(RenditionBody.self, forKey: kind)
            self = .rendition(folder: body.folder, track: body.track, muxed: body.muxed, nextSequence: body.nextSequence,
                              discontinuitiesRemoved: body.discontinuitiesRemoved, targetDuration: body.targetDuration,
                              peakBitRate: body.peakBitRate)
        case .epoch:
            let body = try container.decode(EpochBody.self, forKey: kind)
            guard let start = body.start ?? body.startMilliseconds.map({ MediaTime(value: $0, timescale: 1000) }) else {
                throw DecodingError.keyNotFound(Kind.epoch, .init(codingPath: decoder.codingPath, debugDescription: "an epoch without a start"))
            }
            self = .epoch(id: body.id, start: start, folders: body.folders, transport: body.transport)
        case .earlier:
            let body = try container.decode(EarlierBody.self, forKey: kind)
            self = .earlier(folder: body.folder, epoch: body.epoch, runs: body.runs)
        case .initialization:
            let body = try container.decode(InitializationBody.self, forKey: kind)
            self = .initialization(folder: body.folder, epoch: body.epoch, timescale: body.timescale)
        case .splice:
            self = .splice(try container.decode(SpliceMarker.self, forKey: kind))
        case .captions:
            let body = try container.decode(CaptionsBody.self, forKey: kind)
            self = .captions(folder: body.folder, body.captions)
        case .periodSplit:
            self = .periodSplit(try container.decode(MediaTime.self, forKey: kind))
        case .pendingSplices:
            self = .pendingSplices(try container.decode([LiveSplices.Request].self, forKey: kind))
        case .segment:
            if let body = try? container.decode(SegmentBody.self, forKey: kind) {
                self = .segment(folder: body.folder, epoch: body.epoch, sequence: body.sequence, start: body.start, duration: body.duration,
                                size: body.size, etag: body.etag, discontinuity: body.discontinuity, protection: body.protection)
            } else {
                let old = try container.decode(TicksSegmentBody.self, forKey: kind)
                guard old.timescale > 0 else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a segment timescale of 0"))
                }
                self = .segment(folder: old.folder, epoch: old.epoch, sequence: old.sequence,
                                start: MediaTime(value: old.start, timescale: old.timescale),
                                duration: MediaTime(value: old.duration, timescale: old.timescale), size: old.size, etag: old.etag,
                                discontinuity: old.discontinuity)
            }
        }
    }

    package func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: Kind.self)
        switch self {
        case .origin(let seconds):
            try container.encode(seconds, forKey: .origin)
        case .rendition(let folder, let track, let muxed, let nextSequence, let discontinuitiesRemoved, let target, let peak):
            try container.encode(RenditionBody(folder: folder, track: track, muxed: muxed, nextSequence: nextSequence,
                                               discontinuitiesRemoved: discontinuitiesRemoved, targetDuration: target, peakBitRate: peak),
                                 forKey: .rendition)
        case .epoch(let id, let start, let folders, let transport):
            try container.encode(EpochBody(id: id, start: start, folders: folders, transport: transport), forKey: .epoch)
        case .earlier(let folder, let epoch, let runs):
            try container.encode(EarlierBody(folder: folder, epoch: epoch, runs: runs), forKey: .earlier)
        case .initialization(let folder, let epoch, let timescale):
            try container.encode(InitializationBody(folder: folder, epoch: epoch, timescale: timescale), forKey: .initialization)
        case .splice(let marker):
            try container.encode(marker, forKey: .splice)
        case .captions(let folder, let captions):
            try container.encode(CaptionsBody(folder: folder, captions: captions), forKey: .captions)
        case .periodSplit(let time):
            try container.encode(time, forKey: .periodSplit)
        case .pendingSplices(let requests):
            try container.encode(requests, forKey: .pendingSplices)
        case .segment(let folder, let epoch, let sequence, let start, let duration, let size, let etag, let discontinuity, let protection):
            try container.encode(SegmentBody(folder: folder, epoch: epoch, sequence: sequence, start: start, duration: duration, size: size,
                                             etag: etag, discontinuity: discontinuity, protection: protection), forKey: .segment)
        }
    }
}

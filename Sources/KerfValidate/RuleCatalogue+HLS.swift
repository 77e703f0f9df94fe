extension RuleCatalogue {
    /// Playlist rules (RFC 8216bis, Apple HLS Authoring Specification).
    static let hls: [Rule] = [
        Rule("hls.extm3u-first", .must, "\(rfc) §4.4.1.1", "the first line is #EXTM3U"),
        Rule("hls.encoding", .must, "\(rfc) §4.1", "the playlist is UTF-8 without a byte order mark"),
        Rule("hls.syntax", .must, "\(rfc) §4.2", "tags, attribute lists and values are well-formed"),
        Rule("hls.mixed-playlist", .must, "\(rfc) §4.1", "media playlist tags and multivariant playlist tags are not mixed"),
        Rule("hls.version-repeated", .must, "\(rfc) §4.4.1.2", "EXT-X-VERSION appears at most once"),
        Rule("hls.version-too-low", .must, "\(rfc) §7", "EXT-X-VERSION covers every feature the playlist uses"),
        Rule("hls.targetduration-missing", .must, "\(rfc) §4.4.3.1", "a media playlist has EXT-X-TARGETDURATION"),
        Rule("hls.targetduration-too-small", .must, "\(rfc) §4.4.3.1", "every EXTINF, rounded to an integer, is at most EXT-X-TARGETDURATION"),
        Rule("hls.tag-placement", .must, "\(rfc) §4.4.3", "media playlist tags appear before the first segment"),
        Rule("hls.tag-repeated", .must, "\(rfc) §4.4.3", "media playlist tags appear at most once"),
        Rule("hls.byterange-offset", .must, "\(rfc) §4.4.4.2", "EXT-X-BYTERANGE without an offset follows a range of the same resource"),
        Rule("hls.extinf-without-uri", .must, "\(rfc) §4.4.4.1", "every EXTINF is followed by a URI"),
        Rule("hls.uri-without-extinf", .must, "\(rfc) §4.4.4.1", "every segment URI has an EXTINF"),
        Rule("hls.map-uri-missing", .must, "\(rfc) §4.4.4.5", "EXT-X-MAP has a URI"),
        Rule("hls.key-method", .must, "\(rfc) §4.4.4.4", "EXT-X-KEY has a METHOD of the draft"),
        Rule("hls.key-uri-missing", .must, "\(rfc) §4.4.4.4", "an EXT-X-KEY other than METHOD=NONE has a URI"),
        Rule("hls.key-none-attributes", .must, "\(rfc) §4.4.4.4", "METHOD=NONE has no other attributes"),
        Rule("hls.key-iv", .must, "\(rfc) §4.4.4.4", "IV is a 128-bit hexadecimal-sequence"),
        Rule("hls.daterange-pdt", .must, "\(rfc) §4.4.5.1", "a playlist with EXT-X-DATERANGE has an EXT-X-PROGRAM-DATE-TIME"),
        Rule("hls.daterange-id", .must, "\(rfc) §4.4.5.1", "EXT-X-DATERANGE has a quoted ID"),
        Rule("hls.daterange-start", .must, "\(rfc) §4.4.5.1", "EXT-X-DATERANGE has a START-DATE that is an ISO 8601 date"),
        Rule("hls.daterange-end", .must, "\(rfc) §4.4.5.1", "END-DATE is an ISO 8601 date not before START-DATE"),
        Rule("hls.daterange-duration", .must, "\(rfc) §4.4.5.1", "DURATION and PLANNED-DURATION are non-negative decimal-floating-point"),
        Rule("hls.daterange-end-on-next", .must, "\(rfc) §4.4.5.1", "END-ON-NEXT is YES, comes with a CLASS and without DURATION or END-DATE"),
        Rule("hls.daterange-scte35", .must, "\(rfc) §4.4.5.1.1", "SCTE35-CMD, SCTE35-OUT and SCTE35-IN are hexadecimal-sequences"),
        Rule("hls.daterange-scte35-section", .should, "\(rfc) §4.4.5.1.1, SCTE 35 §9", "SCTE35-* hold a splice_info_section (syntax and CRC)"),
        Rule("hls.daterange-stable", .must, "\(rfc) §4.4.5.1", "tags with one ID give every attribute they share the same value"),
        Rule("hls.cue-pairing", .should, HLSRules.cueReference, "EXT-X-CUE-OUT, -OUT-CONT and -IN alternate as breaks open and close"),
        Rule("hls.vod-without-endlist", .should, "\(rfc) §4.4.3.5", "a VOD playlist ends with EXT-X-ENDLIST"),
        Rule("hls.part-inf-missing", .must, "\(rfc) §4.4.3.7", "EXT-X-PART needs EXT-X-PART-INF with a PART-TARGET"),
        Rule("hls.part-attribute-missing", .must, "\(rfc) §4.4.4.9", "EXT-X-PART has URI and DURATION"),
        Rule("hls.part-duration", .must, "\(rfc) §4.4.4.9", "no part is longer than PART-TARGET"),
        Rule("hls.part-hold-back", .must, "\(rfc) §4.4.3.8", "a playlist with parts has PART-HOLD-BACK of at least twice PART-TARGET"),
        Rule("hls.part-hold-back-short", .should, "\(rfc) §4.4.3.8", "PART-HOLD-BACK is at least three times PART-TARGET"),
        Rule("hls.hold-back", .must, "\(rfc) §4.4.3.8", "HOLD-BACK is at least three target durations"),
        Rule("hls.can-skip-until", .must, "\(rfc) §4.4.3.8", "CAN-SKIP-UNTIL is at least six target durations"),
        Rule("hls.preload-hint", .must, "\(rfc) §4.4.5.3", "EXT-X-PRELOAD-HINT has TYPE=PART or MAP and a URI, at most one of each TYPE"),
        Rule("hls.media-attribute-missing", .must, "\(rfc) §4.4.6.1", "EXT-X-MEDIA has TYPE, GROUP-ID and NAME"),
        Rule("hls.group-default", .must, "\(rfc) §4.4.6.1.1", "at most one rendition of a group has DEFAULT=YES"),
        Rule("hls.group-name-unique", .must, "\(rfc) §4.4.6.1.1", "NAME is unique within a group"),
        Rule("hls.instream-id", .must, "\(rfc) §4.4.6.1", "TYPE=CLOSED-CAPTIONS has an INSTREAM-ID of CC1–CC4 or SERVICE1–SERVICE63 and no URI; other types have no INSTREAM-ID"),
        Rule("hls.closed-captions-none", .must, "\(rfc) §4.4.6.2", "CLOSED-CAPTIONS=NONE on one EXT-X-STREAM-INF is on every one"),
        Rule("hls.group-missing", .must, "\(rfc) §4.4.6.2.1", "AUDIO, VIDEO, SUBTITLES and CLOSED-CAPTIONS name an EXT-X-MEDIA group of that TYPE"),
        Rule("hls.bandwidth-missing", .must, "\(rfc) §4.4.6.2", "EXT-X-STREAM-INF and EXT-X-I-FRAME-STREAM-INF have a decimal-integer BANDWIDTH"),
        Rule("hls.iframe-uri-missing", .must, "\(rfc) §4.4.6.3", "EXT-X-I-FRAME-STREAM-INF has a URI"),
        Rule("hls.stream-inf-without-uri", .must, "\(rfc) §4.4.6.2", "EXT-X-STREAM-INF is followed by a URI"),
        Rule("hls.codecs-missing", .should, "\(apple) §1.4", "variants declare CODECS"),
        Rule("hls.resolution-missing", .should, "\(apple) §1.4", "video variants declare RESOLUTION"),
        Rule("hls.frame-rate-missing", .should, "\(apple) §1.4", "video variants declare FRAME-RATE"),
        Rule("hls.uri-resolves", .must, "\(rfc) §4.4.4.1, §4.4.6.2", "every playlist, segment and map a playlist names can be read"),
        Rule("hls.playlist-loop", .must, "\(rfc) §4.4.6.2", "a playlist does not name a playlist already read"),
        Rule("hls.nested-multivariant", .must, "\(rfc) §4.4.6.2", "a multivariant playlist names media playlists, not multivariant ones"),
        Rule("hls.renditions-misaligned", .must, "\(rfc) §6.2.4",
             "by EXT-X-PROGRAM-DATE-TIME (or, with --deep, the segments' timestamps), a variant's playlist and its AUDIO and VIDEO renditions begin and end at most a target duration apart"),
        Rule("hls.renditions-start-apart", .should, HLSRules.startReference,
             "by EXT-X-PROGRAM-DATE-TIME (or, with --deep, the segments' timestamps), a variant's playlist and its AUDIO and VIDEO renditions begin at most half a target duration apart"),
        Rule("hls.session-key", .must, "\(rfc) §4.4.6.5", "EXT-X-SESSION-KEY is not METHOD=NONE, not repeated, and agrees with the EXT-X-KEY of the same URI"),
        Rule("hls.session-key-keyid", .should, "\(rfc) §4.4.6.5", "EXT-X-SESSION-KEY has the KEYID of the EXT-X-KEY with the same URI"),
        Rule("hls.session-key-unused", .should, "\(rfc) §4.4.6.5", "some media playlist uses each EXT-X-SESSION-KEY"),
    ]

    /// Rules of `--deep`, which reads the segments.
    static let hlsDeep: [Rule] = [
        Rule("hls.media-sequence", .must, "\(rfc) §4.4.3.2", "media sequence numbers fit in 64 bits"),
        Rule("hls.segment-unreadable", .must, "\(rfc) §3", "every segment can be read as media"),
        Rule("hls.independent-segments-violated", .must, "\(rfc) §4.4.2.1", "with EXT-X-INDEPENDENT-SEGMENTS, every segment starts with a keyframe"),
        Rule("hls.segment-not-keyframe", .should, "\(apple) §1.10", "every video segment starts with a keyframe"),
        Rule("hls.segment-duration", .must, "\(rfc) §4.4.4.1", "a segment lasts what its EXTINF says, within a frame"),
        Rule("hls.timestamp-gap", .must, "\(rfc) §6.2.2", "consecutive segments are continuous in time"),
        Rule("hls.bandwidth-understated", .must, "\(rfc) §4.4.6.2", "BANDWIDTH is at least the measured peak segment bit rate (10 % tolerance)"),
        Rule("hls.average-bandwidth", .should, "\(apple) §1.4", "AVERAGE-BANDWIDTH is within 10 % of the measured average"),
        Rule("hls.codecs-mismatch", .must, "\(rfc) §4.4.6.2", "CODECS lists every codec the segments hold"),
        Rule("hls.resolution-mismatch", .must, "\(rfc) §4.4.6.2", "RESOLUTION is the segments' picture size"),
    ]

    /// Rules of `--live`, which reloads the playlists.
    static let hlsLive: [Rule] = [
        Rule("hls.live-media-sequence", .must, "\(rfc) §6.2.2", "EXT-X-MEDIA-SEQUENCE never goes back"),
        Rule("hls.live-segment-rewritten", .must, "\(rfc) §6.2.1", "a published segment keeps its URI and duration"),
        Rule("hls.live-segment-vanished", .must, "\(rfc) §6.2.1", "the playlist does not shrink at its end"),
        Rule("hls.live-discontinuity-sequence", .must, "\(rfc) §6.2.2", "EXT-X-DISCONTINUITY-SEQUENCE counts the discontinuities that left"),
        Rule("hls.live-removed-unavailable", .must, "\(rfc) §6.2.2", "a segment that just left the playlist stays available"),
        Rule("hls.live-window-too-short", .must, "\(rfc) §6.2.2", "segments are removed only beyond three target durations"),
        Rule("hls.live-stale", .must, "\(rfc) §6.2.1", "a new segment appears within 1.5 target durations"),
        Rule("hls.live-reload-failed", .must, "\(rfc) §6.2.1", "reloads return a playlist"),
        Rule("hls.live-blocking-reload", .must, "\(rfc) §6.2.5.2", "a blocking reload returns the segment asked for"),
        Rule("hls.live-delta-update", .must, "\(rfc) §6.2.5.1", "a delta update agrees with the full playlist"),
    ]
}

extension RuleCatalogue {
    /// Variable substitution and the draft's tag table.
    static let hlsTags: [Rule] = [
        Rule("hls.define-invalid", .must, "\(rfc) §4.4.2.3", "EXT-X-DEFINE has exactly one of NAME (with VALUE), IMPORT (media playlists only) and QUERYPARAM, and a name of [a-zA-Z0-9_-]"),
        Rule("hls.define-duplicate", .must, "\(rfc) §4.4.2.3", "no variable is defined twice in a playlist"),
        Rule("hls.define-undefined", .must, "\(rfc) §4.3", "every variable reference {$name} follows the EXT-X-DEFINE of its name"),
        Rule("hls.define-import-missing", .must, "\(rfc) §4.4.2.3", "IMPORT names a variable of the multivariant playlist"),
        Rule("hls.define-queryparam-missing", .must, "\(rfc) §4.4.2.3", "QUERYPARAM names a query parameter of the playlist's URI"),
        Rule("hls.define-unresolved", .advice, "\(rfc) §4.4.2.3", "an IMPORT or QUERYPARAM value that cannot be known here (a media playlist read alone, a local file): its references are not checked"),
        Rule("hls.tag-value", .must, "\(rfc) §4.2, §4.4", "a tag's value has its type (EXT-X-VERSION and the sequence numbers are decimal-integers; tags without a value have none)"),
        Rule("hls.attribute-type", .must, "\(rfc) §4.2", "every attribute of a known tag has the type the draft gives it"),
        Rule("hls.attribute-value", .must, "\(rfc) §4.2", "enumerated-string attributes (TYPE, VIDEO-RANGE, HDCP-LEVEL, YES/NO…) take one of their values; STABLE-VARIANT-ID, STABLE-RENDITION-ID, PATHWAY-ID and CHANNELS have their format"),
        Rule("hls.attribute-missing", .must, "\(rfc) §4.4", "REQUIRED attributes are present (EXT-X-START TIME-OFFSET, EXT-X-SESSION-DATA DATA-ID, EXT-X-CONTENT-STEERING SERVER-URI, EXT-X-SKIP SKIPPED-SEGMENTS, EXT-X-RENDITION-REPORT URI)"),
        Rule("hls.attribute-unknown", .advice, "\(rfc) §4.2", "an attribute the draft does not define for the tag (players ignore it)"),
        Rule("hls.removed-tag", .should, "\(rfc) §7", "tags and attributes removed from the protocol (EXT-X-ALLOW-CACHE, PROGRAM-ID) are not used"),
        Rule("hls.after-endlist", .should, "\(rfc) §4.4.3.4", "no media segment follows EXT-X-ENDLIST, which declares that no more segments will be added (the tag may appear anywhere, so this is a warning)"),
        Rule("hls.session-data", .must, "\(rfc) §4.4.6.4", "EXT-X-SESSION-DATA has VALUE or URI, not both, and a DATA-ID and LANGUAGE pair once"),
        Rule("hls.iframe-playlist", .must, "\(rfc) §4.4.6.3", "a playlist named by EXT-X-I-FRAME-STREAM-INF has EXT-X-I-FRAMES-ONLY"),
    ]
}

extension RuleCatalogue {
    /// Content Steering.
    static let hlsSteering: [Rule] = [
        Rule("hls.steering-pathway", .must, "\(rfc) §4.4.6.6", "EXT-X-CONTENT-STEERING PATHWAY-ID is the Pathway of some variant"),
        Rule("hls.steering-manifest", .must, "HLS Content Steering Specification v1.2", "with --deep, the steering manifest at SERVER-URI is JSON with VERSION 1, a positive TTL and a PATHWAY-PRIORITY naming Pathways of the variants"),
    ]
}

extension RuleCatalogue {
    /// MPD rules (ISO/IEC 23009-1 5th edition, DASH-IF IOP).
    static let dash: [Rule] = [
        Rule("dash.well-formed", .must, "W3C XML 1.0", "the MPD is well-formed XML"),
        Rule("dash.schema", .must, "\(iso) Annex B (DASH-MPD.xsd)", "with --schema, the MPD is valid against the schema"),
        Rule("dash.root", .must, "\(iso) §5.3.1", "the root element is MPD"),
        Rule("dash.namespace", .must, "\(iso) §5.3.1", "MPD is in the urn:mpeg:dash:schema:mpd:2011 namespace"),
        Rule("dash.mpd-attribute-missing", .must, "\(iso) §5.3.1.2", "MPD has profiles and minBufferTime"),
        Rule("dash.period-missing", .must, "\(iso) §5.3.1.2", "an MPD has at least one Period"),
        Rule("dash.dynamic-attribute-missing", .must, "\(iop) §4.3", "a dynamic MPD has availabilityStartTime and publishTime"),
        Rule("dash.dynamic-attribute-recommended", .should, "\(iop) §4.3", "a dynamic MPD has minimumUpdatePeriod and timeShiftBufferDepth"),
        Rule("dash.utctiming-missing", .should, "\(iop) §4.7", "a dynamic MPD has UTCTiming"),
        Rule("dash.static-duration-missing", .must, "\(iso) §5.3.1.2", "a static MPD has mediaPresentationDuration or a duration on its last Period"),
        Rule("dash.duplicate-id", .must, "\(iso) §5.3.3.2", "AdaptationSet@id is unique within its Period"),
        Rule("dash.duplicate-representation-id", .should, "\(iso) §5.3.5.2", "Representation@id is unique within its Period unless the Representations are functionally identical"),
        Rule("dash.representation-missing", .must, "\(iso) §5.3.3.2", "an AdaptationSet has at least one Representation"),
        Rule("dash.representation-attribute-missing", .must, "\(iso) §5.3.5.2", "Representation has id and bandwidth"),
        Rule("dash.mimetype-missing", .must, "\(iso) §5.3.7.2", "mimeType is on the Representation or its AdaptationSet"),
        Rule("dash.codecs-missing", .should, "\(iop) §3.2.13", "codecs is on the Representation or its AdaptationSet"),
        Rule("dash.start-number", .must, "\(iso) §5.3.9.2", "SegmentTemplate@startNumber is an unsigned integer"),
        Rule("dash.timeline-duration", .must, "\(iso) §5.3.9.6", "S@d is a positive integer"),
        Rule("dash.timeline-overlap", .must, "\(iso) §5.3.9.6", "no S element starts before the previous one ends"),
        Rule("dash.timeline-gap", .must, "\(iso) §5.3.9.6", "no S element starts after the previous one ends"),
        Rule("dash.timeline-period-duration", .must, "\(iso) §5.3.9.6", "a static SegmentTimeline covers its Period, within one segment"),
        Rule("dash.profile-constraint", .should, "\(iso) §8.3.2, §8.4.2", "segment addressing fits the only profile the MPD claims"),
        Rule("dash.segment-alignment", .must, "\(iso) §5.3.3.2", "segmentAlignment=\"true\" Representations share segment boundaries"),
        Rule("dash.protection-value", .must, "\(iso) §5.8.5.2.2", "the mp4protection ContentProtection has @value"),
        Rule("dash.protection-scheme-unknown", .should, "\(iso) §5.8.5.2.2", "the mp4protection @value names a Common Encryption scheme"),
        Rule("dash.default-kid", .must, "\(cenc) §11.2", "cenc:default_KID is a UUID"),
    ]

    /// Rules of `--deep`, which reads the segments.
    static let dashDeep: [Rule] = [
        Rule("dash.emsg-syntax", .must, "\(iso) §5.10.3.3", "emsg boxes are version 0 or 1 and complete"),
        Rule("dash.emsg-placement", .must, "ISO/IEC 23000-19 §7.4.5", "each emsg box comes before a moof of its segment"),
        Rule("dash.emsg-scheme", .should, "\(iso) §5.10.3.2", "an InbandEventStream signals the scheme of every emsg"),
        Rule("dash.emsg-payload", .must, "SCTE 214-1 §7.3, AOM ID3 in CMAF §3", "SCTE-35 emsg hold a splice_info_section, ID3 emsg (version 1) an ID3 tag"),
        Rule("dash.segment-unreadable", .must, "\(iso) §5.3.9", "every initialization and media segment can be read"),
        Rule("dash.start-with-sap-violated", .must, "\(iso) §5.3.3.2, \(iop) §3.2.2", "with startWithSAP 1–3, every segment starts with a keyframe"),
        Rule("dash.segment-not-keyframe", .should, "\(iop) §3.2.2", "every video segment starts with a keyframe"),
        Rule("dash.segment-duration", .must, "\(iso) §5.3.9.6, §5.3.9.5.3", "segments last what the timeline or @duration says, within a frame"),
        Rule("dash.timestamp-gap", .must, "\(iso) §7.2.1", "consecutive segments are continuous in time"),
        Rule("dash.codecs-mismatch", .must, "\(iso) §5.3.7.2", "@codecs lists every codec the segments hold"),
        Rule("dash.resolution-mismatch", .must, "\(iso) §5.3.7.2", "@width and @height are the segments' picture size"),
        Rule("dash.cmaf-header", .must, "ISO/IEC 23000-19 §7.3", "under the CMAF profile, an initialization segment has a cmfc or cmf2 brand and one track"),
        Rule("dash.cmaf-fragment", .must, "ISO/IEC 23000-19 §7.3", "under the CMAF profile, every moof holds one traf with a tfdt"),
        Rule("dash.bandwidth-understated", .must, "\(iso) §5.3.5.2", "@bandwidth is at least the measured average bit rate (10 % tolerance)"),
    ]

    /// Rules of `--live`, which reloads a dynamic MPD.
    static let dashLive: [Rule] = [
        Rule("dash.live-reload-failed", .must, "\(iso) §5.4", "reloads return an MPD"),
        Rule("dash.live-publish-time", .must, "\(iso) §5.3.1.2", "MPD@publishTime never goes back"),
        Rule("dash.live-publish-time-unchanged", .should, "\(iso) §5.3.1.2", "an MPD that changes gets a new publishTime"),
        Rule("dash.live-timeline-continuity", .must, "\(iso) §5.3.9.6, \(iop) §4.4", "each MPD update continues the previous SegmentTimeline without a gap and keeps the segments it announced"),
        Rule("dash.live-segment-rewritten", .must, "\(iso) §5.4.1", "a published S entry keeps its number and duration"),
        Rule("dash.live-segment-unavailable", .must, "\(iso) §5.3.9.5.3, \(iop) §4.3", "the newest segment due by now answers"),
    ]
}

extension RuleCatalogue {
    /// Periods, availability and extensions.
    static let dashPeriods: [Rule] = [
        Rule("dash.schema-extension", .advice, "\(iso) Annex B (DASH-MPD.xsd)", "with --schema, an element of a later specification (DASH-IF Content Steering) the schema does not know; its own rules check it"),
        Rule("dash.timeline-sparse-text", .advice, "\(iso) §5.3.9.6, \(iop) §6.4", "a subtitle SegmentTimeline leaves part of its Period without segments (no text there)"),
        Rule("dash.timeline-beyond-period", .advice, "\(iso) §5.3.9.6, §7.2.1", "a static SegmentTimeline runs more than a segment past its Period's end (those segments are not played)"),
        Rule("dash.event-timescale", .must, "\(iso) §5.10.2.2", "EventStream@timescale is positive"),
        Rule("dash.event-outside-period", .should, "\(iso) §5.10.2.1", "an Event starts inside its Period"),
        Rule("dash.event-id", .must, "\(iso) §5.10.2.2", "Events of one EventStream with the same @id are the same event"),
        Rule("dash.scte35-binary", .must, DASHRules.scte214, "an xml+bin SCTE-35 Event holds scte35:Binary with a base64 splice_info_section"),
        Rule("dash.period-id", .must, "\(iso) §5.3.2.2", "Period@id is unique in the MPD and present in a dynamic MPD"),
        Rule("dash.period-order", .must, "\(iso) §5.3.2.1", "Periods follow each other in time without overlapping"),
        Rule("dash.period-gap", .should, "\(iop) §3.2.12", "consecutive Periods leave no time between them"),
        Rule("dash.period-continuity", .must, "\(iso) §5.3.2.4, \(iop) §3.2.12", "period-continuity and period-connectivity descriptors name an earlier Period with an AdaptationSet of the same @id"),
        Rule("dash.availability-time-offset", .must, "\(iso) §5.3.9.5.3", "availabilityTimeOffset is a non-negative number or INF"),
        Rule("dash.availability-time-offset-large", .should, "\(iso) §5.3.9.5.3, DASH-IF IOP Low-Latency Modes", "availabilityTimeOffset is no longer than the segments it brings forward"),
        Rule("dash.patch-location", .must, "\(iso) §5.15.2", "an MPD with PatchLocation is dynamic and has MPD@id and MPD@publishTime"),
        Rule("dash.service-description", .must, "\(iso) Annex K", "ServiceDescription Latency has min ≤ target ≤ max, PlaybackRate min ≤ max"),
        Rule("dash.preselection-components", .must, "\(iso) §5.3.11", "Preselection@preselectionComponents names AdaptationSets or ContentComponents of its Period"),
        Rule("dash.content-steering", .must, "DASH-IF Content Steering v1.0", "one ContentSteering element with the server's URL, queryBeforeStart true or false, defaultServiceLocation naming BaseURL@serviceLocation values"),
    ]
}

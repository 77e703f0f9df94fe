import KerfCore
import KerfMedia

/// Output beside the CMAF tracks: MPEG-TS variants and segmented WebVTT subtitles.
extension PackagingJob {
    // MARK: MPEG-TS

    /// One TS variant per video track (muxed with the first audio track), or per audio track
    /// when there is no video; with `--encrypt cbcs`, encrypted with SAMPLE-AES.
    /// - Throws: `CryptoError` when OpenSSL cannot set a cipher up, `MediaError` when the
    ///   metadata stream cannot be made.
    func makeTSWriters(plans: [PlannedTrack], inputs: [any PacketSource], directory: PackageDirectory) throws -> [TSVariantWriter] {
        func member(_ plan: PlannedTrack) -> TSVariantWriter.Member {
            TSVariantWriter.Member(track: plan.number, parameters: inputs[plan.input].codecParameters(track: plan.info.index),
                                   timeBase: plan.info.timeBase, language: plan.language)
        }
        // Timed ID3 of the inputs goes into every variant, as a metadata stream of its own.
        let carriesMetadata = inputs.contains { DataStreamScan.hasTimedMetadata($0.tracks) }
        return try SegmentDispatch.transportGroups(plans, kind: \.kind).map { group in
            let folder = "ts_\(group[0].folder)"
            let sampleAES = try trackKeys[group[0].number].flatMap { key in
                try options.commonEncryption?.transportEncryption(key: key, folder: folder)
            }
            return try TSVariantWriter(folder: folder, members: group.map(member), directory: directory, cipher: options.encryption,
                                       sampleAES: sampleAES, carriesMetadata: carriesMetadata)
        }
    }
    // MARK: text

    func writeText(_ runs: [TrackRun], timeline: Timeline, directory: PackageDirectory) throws {
        // Subtitles are published with the CMAF presentations only (TS variants carry none).
        guard writesCMAF else { return }
        for run in runs where run.plan.kind == .text {
            let folder = run.plan.folder
            var records: [SegmentRecord] = []
            for (index, range) in timeline.segments.enumerated() {
                let cues = WebVTT.cues(run.cues, from: range.start, to: index == timeline.segments.count - 1 ? nil : range.end)
                let path = "\(folder)/seg_\(index + 1).vtt"
                let bytes = Array(WebVTT.document(cues, timestampMap: 0).utf8)
                try directory.write(path, bytes)
                let start = range.start.rescaled(to: 1000), end = range.end.rescaled(to: 1000)
                records.append(SegmentRecord(number: index + 1, path: path, start: start, duration: end - start, size: bytes.count, offset: 0))
            }
            try directory.write("\(folder)/\(folder).vtt", text: WebVTT.document(run.cues, timestampMap: nil))
            run.textSegments = records
        }
    }
}

extension PackagingJob.TrackRun {
    /// Everything manifests need about this track once it is written.
    var published: PublishedTrack {
        PublishedTrack(plan: plan, timescale: initSegment?.timescale ?? 1000,
                       segments: writer?.segments ?? textSegments, keyframes: writer?.keyframes ?? [],
                       singleFileRanges: singleFileRanges, captions: captions.map { ClosedCaptions.labelled($0.found, plan.captionLabels) },
                       eventSchemes: writer?.eventSchemes ?? [])
    }
}

import KerfCore
import KerfMedia

/// Maps a ladder rung to one encoder family's settings: capped VBR (target bitrate, maxrate,
/// VBV buffer), the family's preset names, and keyframes only where Kerf forces them (no scene
/// cuts, closed GOPs, forced pictures coded as IDR).
public struct EncoderConfiguration: Sendable {
    public var family: EncoderFamily
    /// Encoder threads (0: the encoder's choice).
    public var threads: Int

    public init(family: EncoderFamily, threads: Int = 0) {
        self.family = family
        self.threads = threads
    }

    /// - Parameters:
    ///   - timeBase: the time base of the frames sent (the source's).
    ///   - gopSize: the longest GOP allowed; Kerf forces keyframes earlier, at segment starts.
    public func settings(for rung: Ladder.ResolvedRung, timeBase: Rational, frameRate: Rational,
                         gopSize: Int) -> EncoderSettings {
        var settings = EncoderSettings(codecName: family.encoderName(codec: rung.codec), timeBase: timeBase)
        settings.width = rung.width
        settings.height = rung.height
        settings.pixelFormat = family.needsUpload ? "vaapi" : family.softwarePixelFormat
        settings.frameRate = frameRate
        settings.sampleAspectRatio = Rational(1, 1)
        settings.gopSize = gopSize
        settings.bitRate = rung.bitRate
        settings.maxRate = rung.maxRate
        settings.bufferSize = rung.bufferSize
        settings.threads = threads
        settings.globalHeader = true
        var options: [String: String] = [:]
        if let preset = family.preset(rung.preset) { options["preset"] = preset }
        if let profile = rung.profile { options["profile"] = profile }
        switch family {
        case .software where rung.codec == "hevc":
            options["forced-idr"] = "1"
            options["x265-params"] = "scenecut=0:open-gop=0:keyint=\(gopSize):min-keyint=1:log-level=error"
        case .software:
            options["forced-idr"] = "1"
            options["x264-params"] = "scenecut=0:open-gop=0:keyint=\(gopSize):min-keyint=1"
        case .nvenc:
            options["rc"] = "vbr"
            options["forced-idr"] = "1"
            options["no-scenecut"] = "1"
            options["strict_gop"] = "1"
        case .qsv:
            options["forced_idr"] = "1"
        case .vaapi:
            options["rc_mode"] = "VBR"
        }
        settings.options = options
        return settings
    }
}

import KerfMedia

/// A kind of video encoder: one GPU API or software, each with its own encoder names,
/// picture format, presets and rate-control options.
public enum EncoderFamily: String, Sendable, CaseIterable, Codable {
    /// NVIDIA NVENC on a CUDA device.
    case nvenc
    /// Intel Quick Sync Video.
    case qsv
    /// VA-API on a /dev/dri render node.
    case vaapi
    /// libx264 / libx265 on the CPU.
    case software

    /// The order `--encoder auto` tries them in.
    public static let automaticOrder: [EncoderFamily] = [.nvenc, .qsv, .vaapi, .software]

    /// The GPU device API the family needs, `nil` for software.
    public var deviceKind: HardwareDevice.Kind? {
        switch self {
        case .nvenc: return .cuda
        case .qsv: return .qsv
        case .vaapi: return .vaapi
        case .software: return nil
        }
    }

    /// libavcodec's encoder for a codec ("h264" or "hevc").
    public func encoderName(codec: String) -> String {
        switch self {
        case .nvenc: return "\(codec)_nvenc"
        case .qsv: return "\(codec)_qsv"
        case .vaapi: return "\(codec)_vaapi"
        case .software: return codec == "hevc" ? "libx265" : "libx264"
        }
    }

    /// The picture format frames are converted to before encoding (VAAPI: then uploaded).
    public var softwarePixelFormat: String {
        switch self {
        case .software, .nvenc: return "yuv420p"
        case .qsv, .vaapi: return "nv12"
        }
    }

    /// True when the encoder takes only pictures in GPU memory.
    public var needsUpload: Bool { self == .vaapi }

    /// The encoder's own name for an x264-style speed preset, `nil` when it has none.
    public func preset(_ name: String) -> String? {
        let index = Ladder.presets.firstIndex(of: name) ?? 2
        switch self {
        case .software: return Ladder.presets[index]
        case .nvenc: return ["p1", "p2", "p2", "p3", "p4", "p4", "p5", "p6", "p7"][index]
        case .qsv: return ["veryfast", "veryfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"][index]
        case .vaapi: return nil
        }
    }
}

/// What `--encoder` asks for.
public enum EncoderChoice: String, Sendable, CaseIterable {
    case auto, nvenc, qsv, vaapi, x264, x265

    /// The families tried, in order.
    public var candidates: [EncoderFamily] {
        switch self {
        case .auto: return EncoderFamily.automaticOrder
        case .nvenc: return [.nvenc]
        case .qsv: return [.qsv]
        case .vaapi: return [.vaapi]
        case .x264, .x265: return [.software]
        }
    }

    /// The codec the choice imposes ("hevc" for x265), `nil` to keep the ladder's.
    public var codec: String? {
        switch self {
        case .x264: return "h264"
        case .x265: return "hevc"
        default: return nil
        }
    }
}

import FoundationEssentials
import KerfCore
import KerfMedia

/// Opens encoders and GPU devices for real, to learn what this machine can use.
public enum EncoderProbe {
    /// Opens the device a family needs and a small test encoder on it.
    /// - Returns: the opened device (nil for software), to be shared by the job's encoders.
    /// - Throws: `TranscodeError(.encoderUnavailable)` naming the missing device or encoder.
    public static func open(family: EncoderFamily, encoderName: String) throws(TranscodeError) -> HardwareDevice? {
        guard Encoder.exists(named: encoderName) else {
            throw TranscodeError(.encoderUnavailable, "this FFmpeg has no \(encoderName) encoder")
        }
        var device: HardwareDevice?
        if let kind = family.deviceKind {
            device = try openDevice(kind)
        }
        let codec = encoderName.hasPrefix("hevc") || encoderName == "libx265" ? "hevc" : "h264"
        let rung = Ladder.ResolvedRung(width: 256, height: 144, bitRate: 200_000, maxRate: 240_000, bufferSize: 400_000,
                                       codec: codec, profile: nil, preset: "veryfast")
        do {
            let frames = try family.needsUpload ? device.map { try HardwareFrames(device: $0, width: 256, height: 144) } : nil
            let settings = EncoderConfiguration(family: family).settings(for: rung, timeBase: Rational(1, 25),
                                                                          frameRate: Rational(25, 1), gopSize: 50)
            let encoder = try Encoder(settings: settings, hardware: device, frames: frames)
            try encoder.open()
            encoder.close()
        } catch {
            throw TranscodeError(.encoderUnavailable, "\(encoderName) does not open", reason: (error as? any ReportableError)?.oneLine ?? "\(error)")
        }
        return device
    }

    /// Opens a GPU device of `kind`: the first /dev/dri render node for VAAPI, the default
    /// device otherwise.
    public static func openDevice(_ kind: HardwareDevice.Kind) throws(TranscodeError) -> HardwareDevice {
        var node: String?
        if kind == .vaapi {
            node = renderNodes().first
            guard node != nil else {
                throw TranscodeError(.encoderUnavailable, "no VAAPI device", reason: "no render node /dev/dri/renderD*")
            }
        }
        do {
            return try HardwareDevice(kind: kind, device: node)
        } catch {
            let what: String
            switch kind {
            case .cuda: what = "no CUDA device (NVIDIA GPU and driver)"
            case .qsv: what = "no Intel Quick Sync device"
            case .vaapi: what = "VAAPI device \(node ?? "") does not open"
            }
            throw TranscodeError(.encoderUnavailable, what, reason: error.cause.isEmpty ? error.summary : error.cause)
        }
    }

    /// `/dev/dri/renderD*` nodes, sorted.
    static func renderNodes() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/dri")) ?? []
        return names.filter { $0.hasPrefix("renderD") }.sorted().map { "/dev/dri/\($0)" }
    }

    /// One line of `kerf probe --encoders`.
    public struct Capability: Sendable, Codable, Equatable {
        /// "encoder" or "hwaccel".
        public var kind: String
        /// The encoder ("h264_nvenc") or device API ("cuda").
        public var name: String
        public var available: Bool
        /// Why not, when unavailable.
        public var reason: String?
    }

    /// What this machine can open: every GPU and software encoder for H.264 and HEVC, and
    /// every hardware decoding device.
    public static func capabilities() -> [Capability] {
        var result: [Capability] = []
        for codec in Ladder.codecs {
            for family in EncoderFamily.automaticOrder {
                let name = family.encoderName(codec: codec)
                do {
                    _ = try open(family: family, encoderName: name)
                    result.append(Capability(kind: "encoder", name: name, available: true))
                } catch {
                    result.append(Capability(kind: "encoder", name: name, available: false,
                                             reason: error.reason.isEmpty ? error.message : "\(error.message): \(error.reason)"))
                }
            }
        }
        for kind in HardwareDevice.Kind.allCases {
            do {
                _ = try openDevice(kind)
                result.append(Capability(kind: "hwaccel", name: kind.rawValue, available: true))
            } catch {
                result.append(Capability(kind: "hwaccel", name: kind.rawValue, available: false,
                                         reason: error.reason.isEmpty ? error.message : "\(error.message): \(error.reason)"))
            }
        }
        return result
    }
}

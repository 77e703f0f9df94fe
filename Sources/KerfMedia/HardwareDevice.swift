internal import CFFmpeg
import Logging

/// An opened GPU device (`AVHWDeviceContext`) that decoders, filters and encoders share.
public final class HardwareDevice: @unchecked Sendable {
    /// The device APIs Kerf knows how to use.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case cuda, vaapi, qsv

        var type: AVHWDeviceType {
            switch self {
            case .cuda: return AV_HWDEVICE_TYPE_CUDA
            case .vaapi: return AV_HWDEVICE_TYPE_VAAPI
            case .qsv: return AV_HWDEVICE_TYPE_QSV
            }
        }
    }

    public let kind: Kind
    /// The device node or index that was opened (`/dev/dri/renderD128`, `0`), if one was given.
    public let device: String?
    /// Reference to the device context; immutable after creation.
    let reference: UnsafeMutablePointer<AVBufferRef>

    /// Opens a device. `device` is the node or index (`nil`: the API's default device).
    /// - Throws: `MediaError(.hardwareUnavailable)` naming the device and FFmpeg's reason.
    public init(kind: Kind, device: String? = nil) throws(MediaError) {
        MediaLibrary.initialize()
        self.kind = kind
        self.device = device
        var reference: UnsafeMutablePointer<AVBufferRef>?
        let result = av_hwdevice_ctx_create(&reference, kind.type, device, nil, 0)
        guard result >= 0, let reference else {
            throw LibAV.hardwareError(result, "av_hwdevice_ctx_create", "cannot open \(kind.rawValue) device \(device ?? "(default)")")
        }
        self.reference = reference
        LiveObjects.contextCount.add(1, ordering: .relaxed)
    }

    deinit {
        var p: UnsafeMutablePointer<AVBufferRef>? = reference
        av_buffer_unref(&p)
        LiveObjects.contextCount.subtract(1, ordering: .relaxed)
    }
}

/// How a decoder or encoder chooses between a GPU device and software.
public enum HardwarePreference: Sendable, Equatable {
    /// Software only.
    case none
    /// The first candidate that opens, else software with a log line per skipped candidate.
    case auto([HardwareDevice.Kind] = [.cuda, .qsv, .vaapi])
    /// This device or an error: no silent fallback.
    case require(HardwareDevice.Kind, device: String? = nil)
}

/// Picks a hardware device according to a `HardwarePreference`.
///
/// The opening function is injected so the selection and fallback rules are tested without a
/// GPU; production code uses `HardwareDevice.init(kind:device:)`.
public struct HardwareSelection<Device> {
    /// The device chosen, or `nil` for software.
    public var device: Device?
    /// One line per candidate tried: what was tried and why it was skipped or chosen.
    public var log: [String]

    /// - Throws: the opener's error when the preference is `.require` and the device fails.
    public init(preference: HardwarePreference, logger: Logger? = nil,
                open: (HardwareDevice.Kind, String?) throws(MediaError) -> Device) throws(MediaError) {
        device = nil
        log = []
        switch preference {
        case .none:
            log.append("hardware acceleration disabled: using software")
        case .require(let kind, let node):
            device = try open(kind, node)
            log.append("using \(kind.rawValue) device \(node ?? "(default)")")
        case .auto(let kinds):
            for kind in kinds {
                do {
                    device = try open(kind, nil)
                    log.append("using \(kind.rawValue) device")
                    break
                } catch {
                    log.append("skipping \(kind.rawValue): \(error.cause.isEmpty ? error.summary : error.cause)")
                }
            }
            if device == nil { log.append("no hardware device opened: using software") }
        }
        if let logger {
            for line in log { logger.info("\(line)") }
        }
    }
}

extension HardwareSelection where Device == HardwareDevice {
    /// Selects among real devices.
    public init(preference: HardwarePreference, logger: Logger? = nil) throws(MediaError) {
        try self.init(preference: preference, logger: logger) { (kind, node) throws(MediaError) in
            try HardwareDevice(kind: kind, device: node)
        }
    }
}

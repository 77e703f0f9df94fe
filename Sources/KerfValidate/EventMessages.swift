import KerfCore

/// The `emsg` boxes of a media segment (ISO/IEC 23009-1 §5.10.3.3, versions 0 and 1) and what
/// is wrong with them: their syntax, their place (each before a `moof`: ISO/IEC 23000-19
/// §7.4.5), their scheme's signalling by an InbandEventStream, and the payloads of the schemes
/// ad insertion and timed metadata use (SCTE-35 sections, ID3 tags).
enum EventMessages {
    static let scte35Scheme = "urn:scte:scte35:2013:bin"
    static let id3Scheme = "https://aomedia.org/emsg/ID3"

    struct Message {
        var version: UInt8
        var scheme: String
        var value: String
        var data: ArraySlice<UInt8>
    }

    struct Problem {
        var rule: String
        var severity: Finding.Severity
        var message: String
        var reference: String
    }

    /// Reads one emsg box body (version and flags first); nil when it is cut short.
    static func parse(_ bytes: [UInt8], _ body: Range<Int>) -> Message? {
        guard body.count >= 4 else { return nil }
        let version = bytes[body.lowerBound]
        var offset = body.lowerBound + 4
        func string() -> String? {
            guard let end = bytes[offset..<body.upperBound].firstIndex(of: 0) else { return nil }
            defer { offset = end + 1 }
            return String(decoding: bytes[offset..<end], as: UTF8.self)
        }
        switch version {
        case 0:
            guard let scheme = string(), let value = string(), offset + 16 <= body.upperBound else { return nil }
            return Message(version: 0, scheme: scheme, value: value, data: bytes[(offset + 16)..<body.upperBound])
        case 1:
            guard offset + 20 <= body.upperBound else { return nil }
            offset += 20  // timescale, presentation_time (64 bits), event_duration, id
            guard let scheme = string(), let value = string() else { return nil }
            return Message(version: 1, scheme: scheme, value: value, data: bytes[offset..<body.upperBound])
        default:
            return Message(version: version, scheme: "", value: "", data: [])
        }
    }

    /// The problems of a segment's emsg boxes; `signalled` are the InbandEventStream schemes.
    static func problems(_ bytes: [UInt8], signalled: Set<String>) -> [Problem] {
        let boxes = ISOBoxes.topLevel(bytes)
        var problems: [Problem] = []
        let iso = "\(DASHRules.iso) §5.10.3.3"
        for (index, box) in boxes.enumerated() where box.type == "emsg" {
            if !boxes[(index + 1)...].contains(where: { $0.type == "moof" }) {
                problems.append(Problem(rule: "dash.emsg-placement", severity: .error, message: "an emsg box follows the segment's last moof",
                                        reference: "\(CMAFStructure.spec) §7.4.5"))
            }
            guard let message = parse(bytes, box.body) else {
                problems.append(Problem(rule: "dash.emsg-syntax", severity: .error, message: "an emsg box is cut short", reference: iso))
                continue
            }
            guard message.version <= 1 else {
                problems.append(Problem(rule: "dash.emsg-syntax", severity: .error, message: "emsg version \(message.version) is not 0 or 1",
                                        reference: iso))
                continue
            }
            if !signalled.contains(message.scheme) {
                problems.append(Problem(rule: "dash.emsg-scheme", severity: .warning,
                                        message: "emsg scheme \(message.scheme) has no InbandEventStream: clients ignore it",
                                        reference: "\(DASHRules.iso) §5.10.3.2"))
            }
            switch message.scheme {
            case scte35Scheme:
                do {
                    _ = try SpliceInfoSection.parse(Array(message.data))
                } catch {
                    problems.append(Problem(rule: "dash.emsg-payload", severity: .error,
                                            message: "an emsg of \(scte35Scheme) holds no splice_info_section: \(error.reason)",
                                            reference: "SCTE 214-1 §7.3"))
                }
            case id3Scheme:
                if message.version != 1 || !message.data.starts(with: Array("ID3".utf8)) {
                    problems.append(Problem(rule: "dash.emsg-payload", severity: .error,
                                            message: "an emsg of \(id3Scheme) must be version 1 and hold an ID3 tag",
                                            reference: "AOM Carriage of ID3 Timed Metadata in CMAF §3"))
                }
            default:
                break
            }
        }
        return problems
    }
}

/// The fuzz targets: one per parser that reads bytes from the network or from an operator's
/// file, each an entry function taking any bytes. An entry returns normally for every input,
/// valid or not (parse errors are the expected outcome of most inputs); what it returns is the
/// list of invariants the input broke (empty when none). A trap or a sanitizer report is a defect.
///
/// `kerf-fuzz <target>` runs one under libFuzzer (`make fuzz`); KerfFuzzingTests replays the
/// committed corpus (`Fuzz/Corpus/<target>/`) through the same functions in every test run.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// An RTMP publisher's bytes: handshake, chunk stream, commands (AMF0), media messages.
    case rtmp
    /// AMF0 values as in command and data messages.
    case amf0
    /// An FLV byte stream as the ingest reads it, Enhanced RTMP (HEVC/AV1 configuration records) included.
    case flv
    /// An HTTP request head as the origin's raw request path reads it, and the path it names.
    case httpHead = "http-head"
    /// A Range header against resources of several sizes.
    case range
    /// A signed URL (`/token/<expires>/<signature>/…`) checked, and a path signed then checked.
    case signedURL = "signed-url"
    /// An HLS playlist: parser, rules and serialisation.
    case hls
    /// A DASH MPD: XML reader, DASH rules, segment addressing.
    case mpd
    /// MP4 init and media segments as `validate --deep` reads them: boxes, protection, timing,
    /// Common Encryption decryption.
    case mp4
    /// A YAML serve configuration (`kerf serve --config`).
    case yaml

    /// Runs the target's parsers on `bytes`; returns the invariants broken.
    public func run(_ bytes: [UInt8]) -> [String] {
        switch self {
        case .rtmp: Self.rtmp(bytes)
        case .amf0: Self.amf0(bytes)
        case .flv: Self.flv(bytes)
        case .httpHead: Self.httpHead(bytes)
        case .range: Self.range(bytes)
        case .signedURL: Self.signedURL(bytes)
        case .hls: Self.hls(bytes)
        case .mpd: Self.mpd(bytes)
        case .mp4: Self.mp4(bytes)
        case .yaml: Self.yaml(bytes)
        }
    }
}

/// CMAF structure (ISO/IEC 23000-19) read from the boxes, for MPDs that claim the CMAF profile
/// (`urn:mpeg:dash:profile:cmaf:2019`): a CMAF header carries a CMAF brand and one track; every
/// fragment's `moof` holds one `traf` with a `tfdt`.
enum CMAFStructure {
    static let spec = "ISO/IEC 23000-19"
    static let profile = "urn:mpeg:dash:profile:cmaf:2019"

    /// The major and compatible brands of the first `ftyp` or `styp` in `bytes`.
    static func brands(_ bytes: [UInt8], box type: String) -> [String]? {
        guard let ftyp = ISOBoxes.topLevel(bytes).first(where: { $0.type == type }), ftyp.body.count >= 8 else { return nil }
        var result = [ISOBoxes.fourCC(bytes, ftyp.body.lowerBound)]
        var offset = ftyp.body.lowerBound + 8
        while offset + 4 <= ftyp.body.upperBound {
            result.append(ISOBoxes.fourCC(bytes, offset))
            offset += 4
        }
        return result
    }

    /// What keeps an initialization segment from being a CMAF header.
    static func headerProblems(_ bytes: [UInt8]) -> [String] {
        guard let brands = brands(bytes, box: "ftyp") else { return ["it has no ftyp box"] }
        var problems: [String] = []
        if !brands.contains("cmfc") && !brands.contains("cmf2") {
            problems.append("its ftyp brands (\(brands.joined(separator: ", "))) include neither cmfc nor cmf2")
        }
        if let moov = ISOBoxes.topLevel(bytes).first(where: { $0.type == "moov" }) {
            let tracks = ISOBoxes.children(bytes, moov.body).filter { $0.type == "trak" }.count
            if tracks != 1 { problems.append("its moov holds \(tracks) tracks, a CMAF header one") }
        }
        return problems
    }

    /// What keeps a media segment's fragments from being CMAF fragments.
    static func fragmentProblems(_ bytes: [UInt8]) -> [String] {
        var problems: [String] = []
        for (index, moof) in ISOBoxes.topLevel(bytes).filter({ $0.type == "moof" }).enumerated() {
            let trafs = ISOBoxes.children(bytes, moof.body).filter { $0.type == "traf" }
            if trafs.count != 1 {
                problems.append("moof \(index + 1) holds \(trafs.count) traf boxes, a CMAF fragment one track")
            } else if ISOBoxes.children(bytes, trafs[0].body).first(where: { $0.type == "tfdt" }) == nil {
                problems.append("the traf of moof \(index + 1) has no tfdt")
            }
        }
        return problems
    }
}

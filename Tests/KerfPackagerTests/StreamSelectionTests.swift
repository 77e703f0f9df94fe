import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

@Suite(.tags(.unit)) struct StreamSelectionTests {
    @Test func parsesEveryKindOfSelector() throws {
        #expect(try StreamSelection.parseSelectors("0:1,1:a,v") == [
            .stream(input: 0, index: 1), .type(input: 1, .audio), .type(input: nil, .video),
        ])
        for bad in ["x", "0:", "a:0", "-1:2", "0:1:2", ""] {
            #expect(throws: PackagerError.self, "\(bad)") { _ = try StreamSelection.parseSelectors(bad) }
        }
    }

    @Test func parsesOverridesAndRejectsNonsense() throws {
        var selection = StreamSelection()
        try selection.parseOverride("0:2:language=fra")
        try selection.parseOverride("0:2:name=French dub: director's cut")
        try selection.parseOverride("0:2:bandwidth=128000")
        try selection.parseOverride("0:2:default=yes")
        let entry = selection.overrides["0:2"]
        #expect(entry?.language == "fra")
        #expect(entry?.name == "French dub: director's cut")
        #expect(entry?.bandwidth == 128000)
        #expect(entry?.isDefault == true)
        for bad in ["0:2", "0:2:colour=red", "0:2:bandwidth=-5", "0:2:default=maybe", "0:2:name=say \"hi\"",
                    "0:2:language=e1", "x:2:name=a"] {
            #expect(throws: PackagerError.self, "\(bad)") { try selection.parseOverride(bad) }
        }
    }

    func track(_ index: Int, _ type: TrackInfo.MediaType, _ codec: String, _ language: String? = nil) -> TrackInfo {
        var t = TrackInfo(index: index, mediaType: type, codec: codec, timeBase: Rational(1, 1000))
        t.language = language
        t.height = type == .video ? 360 : nil
        return t
    }

    @Test func planAppliesSelectionOverridesAndOneDefaultPerType() throws {
        let tracks = [track(0, .video, "h264"), track(1, .audio, "aac", "eng"), track(2, .audio, "aac", "eng"),
                      track(3, .subtitle, "mov_text", "eng"), track(4, .data, "bin_data")]
        var selection = StreamSelection(selectors: [.type(input: nil, .video), .type(input: 0, .audio)])
        try selection.parseOverride("0:2:default=yes")
        try selection.parseOverride("0:1:bandwidth=64000")
        let plans = try PlannedTrack.plan(inputs: [("in.mp4", tracks)], selection: selection)
        #expect(plans.map(\.info.index) == [0, 1, 2])
        #expect(plans.map(\.isDefault) == [false, false, true])
        #expect(plans.map(\.name) == ["360p", "English", "English 2"])  // NAME unique within the group
        #expect(plans.map(\.folder) == ["video_360p", "audio_eng_aac", "audio_eng_aac_2"])
        #expect(plans[1].bandwidth == 64000)
    }

    @Test func unknownOrUnpackageableStreamsAreErrors() throws {
        let tracks = [track(0, .video, "h264"), track(1, .data, "bin_data")]
        #expect(throws: PackagerError.self) {
            _ = try PlannedTrack.plan(inputs: [("in.mp4", tracks)], selection: StreamSelection(selectors: [.stream(input: 0, index: 7)]))
        }
        #expect(throws: PackagerError.self) {
            _ = try PlannedTrack.plan(inputs: [("in.mp4", tracks)], selection: StreamSelection(selectors: [.stream(input: 0, index: 1)]))
        }
        var selection = StreamSelection()
        try selection.parseOverride("1:0:name=x")
        #expect(throws: PackagerError.self) { _ = try PlannedTrack.plan(inputs: [("in.mp4", tracks)], selection: selection) }
    }
}

import KerfCore
import Testing
@testable import KerfManifest
import KerfTestTags

/// CLOSED-CAPTIONS groups and NONE in the shared model: NONE only when every video was read and
/// none has captions; videos with different channels get groups of their own.
@Suite(.tags(.unit)) struct CaptionSignallingTests {
    static func video(_ id: String, _ captions: ClosedCaptions?) -> RenditionDescription {
        RenditionDescription(id: id, kind: .video, info: TrackInfo(index: 0, mediaType: .video, codec: "h264", timeBase: Rational(1, 90_000)),
                             name: id, language: "eng", timescale: 90_000, captions: captions)
    }

    @Test func noneOnlyWhenEveryVideoWasReadAndHasNone() {
        let read = Presentation.captionSignalling([Self.video("a", ClosedCaptions()), Self.video("b", ClosedCaptions())])
        #expect(read.attribute == ["a": "NONE", "b": "NONE"] && read.renditions.isEmpty)
        // An unread video (AV1, a live feed) leaves the attribute out rather than deny captions.
        let unread = Presentation.captionSignalling([Self.video("a", ClosedCaptions()), Self.video("b", nil)])
        #expect(unread.attribute.isEmpty && unread.renditions.isEmpty)
    }

    @Test func eachSetOfChannelsHasItsGroup() {
        let cc1 = ClosedCaptions(cea608: [1], labels: ["CC1": .init(language: "eng", name: "English")])
        let both = ClosedCaptions(cea608: [1, 3], cea708: [1])
        let s = Presentation.captionSignalling([Self.video("a", cc1), Self.video("b", both), Self.video("c", cc1), Self.video("d", ClosedCaptions())])
        #expect(s.attribute == ["a": "cc", "b": "cc2", "c": "cc"])
        #expect(s.renditions.map { "\($0.groupID) \($0.instreamID ?? "") \($0.name) \($0.language ?? "") \($0.isDefault)" } == [
            "cc CC1 English eng true", "cc2 CC1 CC1 eng true", "cc2 CC3 CC3 eng false", "cc2 SERVICE1 SERVICE1 eng false",
        ])
        #expect(Presentation.accessibility(both, language: nil).map { "\($0.schemeIdUri) \($0.value ?? "")" } == [
            "urn:scte:dash:cc:cea-608:2015 CC1=und;CC3=und", "urn:scte:dash:cc:cea-708:2015 1=lang:und",
        ])
    }

    @Test func instreamIDsAreExact() {
        for valid in ["CC1", "CC4", "SERVICE1", "SERVICE63"] { #expect(ClosedCaptions.isInstreamID(valid)) }
        for invalid in ["CC0", "CC5", "CC01", "CC+1", "SERVICE0", "SERVICE64", "SERVICE07", "cc1", "CC", ""] {
            #expect(!ClosedCaptions.isInstreamID(invalid), "\(invalid)")
        }
    }
}

import Foundation
import KerfSystem
import KerfCore
import KerfTestSupport
import KerfXML
import Testing
@testable import KerfValidate
import KerfTestTags

/// 10,000 mutated MPDs (truncations, flipped bytes, huge numbers, bad UTF-8, deep nesting, entity
/// tricks) go through the reader and the DASH rules without crashing or hanging; run alone in a
/// process of its own (`MPDFuzzMemoryTests`), without growing its resident memory.
@Suite(.tags(.unit)) struct MPDFuzzTests {
    static let seed = """
        <?xml version="1.0" encoding="UTF-8"?>
        <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT2S">
          <Period id="0" start="PT0S">
            <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
              <Representation id="v" bandwidth="800000" codecs="avc1.64001f" width="1280" height="720">
                <SegmentTemplate timescale="1000" initialization="v/init.mp4" media="v/$Number$.m4s" startNumber="1">
                  <SegmentTimeline><S t="0" d="6000"/><S d="4000" r="3"/></SegmentTimeline>
                </SegmentTemplate>
              </Representation>
            </AdaptationSet>
          </Period>
        </MPD>
        """

    @Test func mutatedMPDsNeverCrashHangOrBloat() throws {
        var random = SplitMix(seed: 0x6b657266)
        let base = Array(Self.seed.utf8)
        let junk: [[UInt8]] = [Array("99999999999999999999999999".utf8), Array("<Period>".utf8), Array("</MPD>".utf8),
                               [0xff, 0xfe], [0xc3], Array("&lt;".utf8), Array("<!DOCTYPE x [<!ENTITY a \"b\">]>".utf8),
                               Array(String(repeating: "<a>", count: 400).utf8), Array(" r=\"-1\"".utf8), Array("\"".utf8),
                               Array(" type=\"dynamic\" availabilityStartTime=\"1970-01-01T00:00:00Z\"".utf8),
                               Array(" t=\"-9223372036854775808\"".utf8), Array(" presentationTimeOffset=\"9223372036854775807\"".utf8),
                               Array("<SegmentTemplate duration=\"1\" timescale=\"4294967295\" media=\"$Number%0999d$\"/>".utf8),
                               Array("<BaseURL>../../x/</BaseURL>".utf8), Array("$%$".utf8), Array(" media=\"$Time%$$Number%05\"".utf8),
                               Array("<Representation id=\"x\" bandwidth=\"1\"><SegmentTemplate duration=\"1\"/></Representation>".utf8),
                               Array(" timeShiftBufferDepth=\"PT99999999999S\"".utf8)]
        var slowest: Duration = .zero
        let rssBefore = Heap.residentBytes() ?? 0
        for _ in 0..<10_000 {
            let bytes = random.mutate(base, junk: junk)
            let start = ContinuousClock.now
            if let tree = try? XMLReader.read(bytes) {
                _ = DASHRules.check(tree, file: "fuzz.mpd")
                // Segment addressing too, as a live MPD read now would be.
                let presentation = DASHPresentation(tree, location: "http://fuzz.example/a/fuzz.mpd", now: UTCTime.now())
                _ = DASHRules.check(presentation, profiles: tree.attribute("profiles") ?? "", file: "fuzz.mpd")
                for representation in presentation.representations.prefix(4) {
                    _ = representation.segments.prefix(3).map(representation.url(of:))
                }
                _ = try? XMLDocument.serialize(tree)
            }
            slowest = max(slowest, ContinuousClock.now - start)
        }
        // A hang takes forever; a loaded machine may pause this thread for a second or two.
        #expect(slowest < .seconds(5))
        // Resident memory is the whole process's: measured only when nothing else runs in it.
        if TestProcess.isAlone {
            let grown = (Heap.residentBytes() ?? 0) - rssBefore
            #expect(grown < 200 << 20, "resident memory grew by \(grown >> 20) MiB")
            print("resident memory growth: \(grown >> 20) MiB")
        }
    }
}

/// The fuzz test again in a process of its own, where its resident memory is its alone.
@Suite(.tags(.integration)) struct MPDFuzzMemoryTests {
    @Test func mutatedMPDsDoNotGrowMemory() async throws {
        let run = try await TestProcess.runAlone(#"^KerfValidateTests\.MPDFuzzTests/mutatedMPDsNeverCrashHangOrBloat\("#)
        let output = run.stdout + run.stderr
        #expect(run.status == 0, "\(output)")
        #expect(output.contains("Test run with 1 test") && output.contains("resident memory growth: "), "\(output)")
    }
}

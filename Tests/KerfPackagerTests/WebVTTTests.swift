import KerfCore
import Testing
@testable import KerfPackager
import KerfTestTags

private func ms(_ value: Int64) -> MediaTime { MediaTime(value: value, timescale: 1000) }

@Suite(.tags(.unit)) struct WebVTTTests {
    @Test func formatsTimestamps() {
        #expect(WebVTT.timestamp(ms(3_723_004)) == "01:02:03.004")
        #expect(WebVTT.timestamp(ms(0)) == "00:00:00.000")
        #expect(WebVTT.timestamp(ms(59_999)) == "00:00:59.999")
        #expect(WebVTT.timestamp(MediaTime(value: 1001, timescale: 30_000)) == "00:00:00.033")  // rounded to ms
        #expect(WebVTT.timestamp(MediaTime(value: 90_000 * 100 * 3600, timescale: 90_000)) == "100:00:00.000")
        #expect(WebVTT.timestamp(ms(-40)) == "00:00:00.000")  // clamped at zero
    }

    @Test func escapesMarkupCharacters() {
        // Styling tags WebVTT shares with SubRip survive; <font> is dropped; anything else is text.
        #expect(WebVTT.escape("Tom & Jerry <i>italic</i> a > b") == "Tom &amp; Jerry <i>italic</i> a &gt; b")
        #expect(WebVTT.escape("<B>bold</B> <font color=\"red\">red</font>") == "<b>bold</b> red")
        #expect(WebVTT.escape("1 < 2 <script>") == "1 &lt; 2 &lt;script&gt;")
        #expect(WebVTT.escape("a --> b") == "a --&gt; b")
        #expect(WebVTT.escape("&amp;") == "&amp;amp;")
        #expect(WebVTT.escape("plain") == "plain")
    }

    @Test func extractsMovTextPayload() {
        let text = Array("Hello, world".utf8)
        // 16-bit length, text, then a style box that must be ignored.
        let styl: [UInt8] = [0, 0, 0, 10, 0x73, 0x74, 0x79, 0x6c, 0, 0]
        let payload = [0, UInt8(text.count)] + text + styl
        #expect(WebVTT.text(codec: "mov_text", payload: payload) == "Hello, world")
        let utf8 = Array("Grüße 😀".utf8)
        #expect(WebVTT.text(codec: "mov_text", payload: [UInt8(utf8.count >> 8), UInt8(utf8.count & 0xff)] + utf8) == "Grüße 😀")
        #expect(WebVTT.text(codec: "mov_text", payload: [0, 0]) == "")
        #expect(WebVTT.text(codec: "mov_text", payload: [5]) == "")
        #expect(WebVTT.text(codec: "mov_text", payload: []) == "")
    }

    @Test func movTextLengthIsBigEndian() {
        let text = [UInt8](repeating: 0x61, count: 300)
        let payload: [UInt8] = [0x01, 0x2c] + text + [0x62, 0x62]  // 0x012c = 300
        #expect(WebVTT.text(codec: "mov_text", payload: payload) == String(repeating: "a", count: 300))
    }

    @Test func extractsASSDialogueText() {
        let line = "0,0,Default,,0,0,0,,Hello {\\b1}world\\Nline2"
        #expect(WebVTT.text(codec: "ass", payload: Array(line.utf8)) == "Hello world\nline2")
        // Commas inside the text field belong to the text.
        let commas = "3,0,Default,Speaker,0,0,0,,One, two, {\\i1}three{\\i0}\\nfour"
        #expect(WebVTT.text(codec: "ssa", payload: Array(commas.utf8)) == "One, two, three\nfour")
        // Not a dialogue event line: kept whole.
        #expect(WebVTT.text(codec: "ass", payload: Array("just text".utf8)) == "just text")
    }

    @Test func otherCodecsArePlainUTF8() {
        #expect(WebVTT.text(codec: "subrip", payload: Array("<b>bold</b>".utf8)) == "<b>bold</b>")
    }

    @Test func cuesSpanningABoundaryAppearInBothSegments() {
        let cues = [
            Cue(start: ms(1000), end: ms(3000), text: "first"),
            Cue(start: ms(5000), end: ms(7000), text: "spans 6 s"),
            Cue(start: ms(6000), end: ms(6500), text: "starts at 6 s"),
            Cue(start: ms(11_000), end: ms(12_000), text: "ends at 12 s"),
            Cue(start: ms(12_500), end: ms(14_000), text: "last"),
        ]
        let first = WebVTT.cues(cues, from: ms(0), to: ms(6000))
        let second = WebVTT.cues(cues, from: ms(6000), to: ms(12_000))
        let third = WebVTT.cues(cues, from: ms(12_000), to: nil)
        #expect(first.map(\.text) == ["first", "spans 6 s"])
        #expect(second.map(\.text) == ["spans 6 s", "starts at 6 s", "ends at 12 s"])
        #expect(third.map(\.text) == ["last"])
        // Cues are kept unchanged, not clipped to the segment.
        #expect(second.first == cues[1])
    }

    @Test func writesADocumentWithTimestampMap() {
        let cues = [
            Cue(start: ms(1500), end: ms(3_723_004), text: "\nA & B <c>\n"),
            Cue(start: ms(4000), end: ms(5000), text: "two\nlines"),
        ]
        #expect(WebVTT.document(cues, timestampMap: 900_000) == """
            WEBVTT
            X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000

            00:00:01.500 --> 01:02:03.004
            A &amp; B &lt;c&gt;

            00:00:04.000 --> 00:00:05.000
            two
            lines


            """)
        #expect(WebVTT.document([], timestampMap: nil) == "WEBVTT\n\n")
    }

    /// A blank line inside the text (e.g. ASS \N\N) would end the cue early.
    @Test func blankLinesInsideCueTextDoNotSplitTheCue() {
        let document = WebVTT.document([Cue(start: ms(0), end: ms(1000), text: "one\n\ntwo")], timestampMap: nil)
        let blankLine: String = "\n\n"
        let blocks = document.split(separator: blankLine).map(String.init)
        #expect(blocks.first == "WEBVTT")
        // Every block after the header is a cue, so it has a timing line.
        #expect(blocks.dropFirst().allSatisfy { $0.contains(" --> ") })
        #expect(document.contains("one\ntwo"))
    }
}

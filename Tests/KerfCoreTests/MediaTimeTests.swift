import Testing
@testable import KerfCore
import KerfTestTags

@Suite(.tags(.unit)) struct MediaTimeTests {
    @Test func rescalesWithEachRounding() {
        let t = MediaTime(value: 1001, timescale: 30000)  // one NTSC frame
        #expect(t.rescaled(to: 90000).value == 3003)
        #expect(t.rescaled(to: 1000, rounding: .down).value == 33)
        #expect(t.rescaled(to: 1000, rounding: .up).value == 34)
        #expect(t.rescaled(to: 1000, rounding: .nearest).value == 33)
        #expect(MediaTime(value: 1, timescale: 2).rescaled(to: 1).value == 1)  // half rounds away
    }

    @Test func negativeValuesRoundSymmetrically() {
        let t = MediaTime(value: -1001, timescale: 30000)
        #expect(t.rescaled(to: 1000, rounding: .down).value == -34)
        #expect(t.rescaled(to: 1000, rounding: .up).value == -33)
        #expect(t.rescaled(to: 1000, rounding: .nearest).value == -33)
    }

    @Test func comparesAcrossTimescales() {
        let a = MediaTime(value: 1, timescale: 2)
        let b = MediaTime(value: 45000, timescale: 90000)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(MediaTime(value: 1001, timescale: 30000) < MediaTime(value: 34, timescale: 1000))
        #expect(MediaTime(value: 34, timescale: 1000) > MediaTime(value: 1001, timescale: 30000))
    }

    @Test func largeValuesDoNotOverflow() {
        // 30 days at 90 kHz rescaled to a 1 GHz-ish timescale needs 128-bit intermediates.
        let t = MediaTime(value: 90_000 * 86_400 * 30, timescale: 90_000)
        #expect(t.rescaled(to: 1_000_000_000).value == 86_400 * 30 * 1_000_000_000)
    }

    @Test func addsAndSubtractsInACommonTimescale() {
        let sum = MediaTime(value: 1, timescale: 25) + MediaTime(value: 1024, timescale: 48000)
        #expect(sum == MediaTime(value: 1920 + 1024, timescale: 48000))
        let difference = MediaTime(value: 2, timescale: 1) - MediaTime(value: 1, timescale: 3)
        #expect(difference == MediaTime(value: 5, timescale: 3))
    }

    @Test func convertsFFmpegTimeBases() {
        #expect(MediaTime(value: 512, timeBase: Rational(1, 12800)) == MediaTime(value: 1, timescale: 25))
        #expect(MediaTime(value: 3, timeBase: Rational(1001, 30000)).value == 3003)
        #expect(MediaTime(value: 3, timeBase: Rational(1001, 30000)).timescale == 30000)
    }

    @Test func ticksOfATimeBaseInvertTheConversion() {
        #expect(MediaTime(value: 10, timescale: 1).ticks(of: Rational(1, 90000)) == 900_000)
        #expect(MediaTime(value: 3003, timescale: 30000).ticks(of: Rational(1001, 30000)) == 3)
        #expect(MediaTime(value: 1, timescale: 3).ticks(of: Rational(1, 1000)) == 333)
    }

    @Test func rationalReduces() {
        #expect(Rational(1280 * 1, 720 * 1).reduced == Rational(16, 9))
        #expect(Rational(3, -6).reduced == Rational(-1, 2))
        #expect(Rational(0, 0).doubleValue.isNaN)
    }
}

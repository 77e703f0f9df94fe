import Testing
@testable import KerfCore
import KerfTestTags

@Suite(.tags(.unit)) struct UTCTimeTests {
    @Test func calendarRoundTrips() {
        #expect(UTCTime.httpDate(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(UTCTime.xsDateTime(1_795_478_400.25) == "2026-11-24T00:00:00.250Z")
        #expect(UTCTime.xsDateTime(1_709_208_000) == "2024-02-29T12:00:00.000Z")
        for seconds in stride(from: Int64(-86_400 * 400), to: 4_000_000_000, by: 7_777_777) {
            #expect(UTCTime.parseHTTPDate(UTCTime.httpDate(seconds)) == Double(seconds))
        }
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 99999999999999 08:49:37 GMT") == nil)
        #expect(UTCTime.parseHTTPDate("Sun, 06 Nov 1994 24:00:00 GMT") == nil)
    }
}

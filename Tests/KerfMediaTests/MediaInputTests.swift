import Foundation
import KerfCore
import KerfTestSupport
import Testing
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct MediaInputTests {
    @Test func customByteSourceReadsTheSamePacketsAsAPath() throws {
        let path = Fixtures.path("h264_aac_10s.mp4")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let fromMemory = try MediaInput(source: MemoryByteSource(bytes: bytes), name: "memory")
        let fromPath = try MediaInput(url: path)
        #expect(fromMemory.tracks == fromPath.tracks)
        #expect(fromMemory.container.duration == fromPath.container.duration)
        let a = Packet(), b = Packet()
        var count = 0
        while try fromPath.read(into: a) == .packet {
            #expect(try fromMemory.read(into: b) == .packet)
            #expect(a.size == b.size && a.ptsTicks == b.ptsTicks && a.streamIndex == b.streamIndex)
            count += 1
        }
        #expect(try fromMemory.read(into: b) == .endOfStream)
        #expect(count == 250 + 470)
    }

    @Test func sequentialSourceWithoutSeekingStillDemuxesTS() throws {
        // A live-like source: no size, no seeking (as an RTMP or HTTP body stream would be).
        final class Forward: ByteSource {
            let inner: MemoryByteSource
            init(_ bytes: [UInt8]) { inner = MemoryByteSource(bytes: bytes) }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try inner.read(into: buffer) }
            func seek(to offset: Int64) throws -> Bool { false }
            var size: Int64? { nil }
        }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mpeg2_mp2.ts"))))
        let input = try MediaInput(source: Forward(bytes), name: "stream", formatName: "mpegts")
        #expect(input.tracks.map(\.codec) == ["mpeg2video", "mp2"])
        let packet = Packet()
        var count = 0
        while try input.read(into: packet) == .packet { count += 1 }
        #expect(count > 150)
    }

    @Test func throwingSourceIsReportedAsIO() {
        final class Failing: ByteSource {
            struct Broken: Error, CustomStringConvertible { var description: String { "connection reset" } }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { throw Broken() }
            func seek(to offset: Int64) throws -> Bool { false }
            var size: Int64? { nil }
        }
        let error = #expect(throws: MediaError.self) { _ = try MediaInput(source: Failing(), name: "peer") }
        #expect(error?.code == .io)
        #expect(error?.oneLine.contains("connection reset") == true)
    }

    @Test(arguments: Fixtures.broken)
    func brokenFixturesFailWithOneLine(name: String) {
        let error = #expect(throws: MediaError.self) { _ = try MediaInput(url: Fixtures.path(name)) }
        #expect(error?.code == .invalidData)
        #expect(error?.function == "avformat_open_input")
        #expect(error?.file == Fixtures.path(name))
        #expect(error?.oneLine.contains("\n") == false)
        #expect(error?.isInputError == true)
    }

    @Test func missingFileIsAnIOError() {
        let error = #expect(throws: MediaError.self) { _ = try MediaInput(url: "/nonexistent/kerf.mp4") }
        #expect(error?.code == .io)
        #expect(error?.libraryMessage == "No such file or directory")
    }

    @Test func trackInfoCarriesLanguagesAndLayouts() throws {
        let input = try MediaInput(url: Fixtures.path("two_languages_subs.mp4"))
        #expect(input.tracks.map(\.mediaType) == [.video, .audio, .audio, .subtitle])
        #expect(input.tracks.map(\.language) == [nil, "eng", "fra", "eng"])
        #expect(input.tracks[1].channelLayout == "stereo")
        #expect(input.tracks[1].sampleRate == 48000)
        #expect(input.tracks[0].frameRate == Rational(25, 1))
        #expect(input.tracks[0].displayAspectRatio == Rational(16, 9))
        #expect(input.tracks[3].codec == "mov_text")
        #expect(input.tracks[1].extradata == [0x11, 0x90] || input.tracks[1].extradata.count >= 2)
    }

    @Test func packetReferencesShareThePayload() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let packet = Packet()
        #expect(try input.read(into: packet) == .packet)
        let reference = try packet.makeReference()
        #expect(reference.bytes == packet.bytes)
        #expect(reference.pts == packet.pts)
        packet.unref()
        #expect(packet.isEmpty)
        #expect(!reference.isEmpty)
        let moved = Packet()
        reference.move(into: moved)
        #expect(reference.isEmpty && moved.size > 0)
    }

    @Test func countsTheBytesOfThePacketsRead() throws {
        let input = try MediaInput(url: Fixtures.path("h264_aac_10s.mp4"))
        let packet = Packet()
        var total = 0
        while try input.read(into: packet) == .packet { total += packet.size }
        #expect(total > 500_000 && input.bytesRead == total)
    }
}

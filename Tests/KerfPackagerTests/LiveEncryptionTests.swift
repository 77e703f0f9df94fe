import Foundation
import KerfCore
import KerfCrypto
import KerfMedia
import KerfTestSupport
import KerfTestTags
import Testing
@testable import KerfPackager

/// A live channel's Common Encryption: the live packager's segments and parts, decrypted by
/// FFmpeg 5.1 (`-decryption_key`, init + one segment), give the clear run's frames; an origin
/// that joins the stream later publishes the same bytes for the same segment.
@Suite(.tags(.integration)) struct LiveEncryptionTests {
    static let keyID = "00112233445566778899aabbccddeeff", key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let wrongKey = "ffeeddccbbaa99887766554433221100"

    static func encryption(_ scheme: ProtectionScheme) throws -> CommonEncryption {
        var common = CommonEncryption(scheme: scheme)
        try common.addKey("\(keyID):\(key)", option: "test")
        common.drmSystems = [.common, .widevine]
        return common
    }

    func frames(_ initBytes: [UInt8], _ segment: [UInt8], key: String?, scratch: URL) throws -> String? {
        try DecryptedFrames.framemd5(Data(initBytes + segment), key: key, scratch: scratch)
    }

    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func segmentsDecryptToTheClearFrames(_ scheme: ProtectionScheme) throws {
        let scratch = try Fixtures.temporaryDirectory("kerf-live-cenc")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let offset = MediaTime(value: 1_700_000_000, timescale: 1)
        let (_, clear) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset)
        let (packager, protected) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, encryption: try Self.encryption(scheme))
        #expect(packager.tracks.allSatisfy { $0.protection?.scheme == scheme && $0.protection?.keyURI == nil })
        #expect(packager.tracks[0].protection?.systems.map(\.id) == [ContentProtection.System.commonID, ContentProtection.System.widevineID])
        #expect(protected.segments.count == clear.segments.count && protected.segments.count >= 8)
        for (index, segment) in protected.segments.enumerated() {
            let initBytes = try #require(protected.inits[segment.track]).bytes, clearInit = try #require(clear.inits[segment.track]).bytes
            let expected = try #require(try frames(clearInit, clear.segments[index].bytes, key: nil, scratch: scratch))
            #expect(segment.bytes != clear.segments[index].bytes)
            #expect(try frames(initBytes, segment.bytes, key: Self.key, scratch: scratch) == expected, "segment \(index) of track \(segment.track)")
            if !(scheme == .cbcs && segment.track == 1 && index >= protected.segments.count - 2) {
                #expect(try frames(initBytes, segment.bytes, key: Self.wrongKey, scratch: scratch) != expected)
            }
        }
    }

    /// LL-HLS parts are cut from the encrypted segment: put end to end they are the segment,
    /// and each part (one fragment) decrypts to the clear part's frames.
    @Test func partsAreEncryptedLikeTheirSegment() throws {
        let scratch = try Fixtures.temporaryDirectory("kerf-live-cenc")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let offset = MediaTime(value: 1_700_000_000, timescale: 1), part = MediaTime(value: 500, timescale: 1000)
        let (_, clear) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, partDuration: part)
        let (_, protected) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, partDuration: part, encryption: try Self.encryption(.cbcs))
        let initBytes = try #require(protected.inits[0]).bytes, clearInit = try #require(clear.inits[0]).bytes
        let segments = protected.segments.filter { $0.track == 0 }
        #expect(segments.count >= 4)
        var checked = 0
        for segment in segments.dropLast() {
            let parts = protected.parts.filter { $0.track == 0 && $0.part.segmentStart == segment.start }
            let clearParts = clear.parts.filter { $0.track == 0 && $0.part.segmentStart == segment.start }
            #expect(parts.count >= 2 && parts.count == clearParts.count)
            #expect(parts.flatMap(\.bytes) == segment.bytes)
            // The first part starts at the keyframe, so it decodes alone.
            if let part = parts.first, let clearPart = clearParts.first {
                let expected = try #require(try frames(clearInit, clearPart.bytes, key: nil, scratch: scratch))
                #expect(try frames(initBytes, part.bytes, key: Self.key, scratch: scratch) == expected)
                #expect(part.bytes != clearPart.bytes)
                checked += 1
            }
        }
        #expect(checked >= 3)
    }

    /// Two origins on the same timeline, one joining two seconds late: every segment both
    /// publish is byte-identical (cenc IVs follow decode times, cbcs uses a constant IV).
    @Test(arguments: [ProtectionScheme.cenc, .cbcs], [false, true])
    func aLateJoinerPublishesTheSameBytes(_ scheme: ProtectionScheme, rotating: Bool) throws {
        let offset = MediaTime(value: 1_700_000_000, timescale: 1)
        var encryption = try Self.encryption(scheme)
        encryption.drmSystems = [.common]
        if rotating {
            encryption = CommonEncryption(scheme: scheme)
            encryption.rotation = KeyRotation(rootKey: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"), segmentsPerPeriod: 1,
                                              segmentDuration: MediaTime(value: 2, timescale: 1))
        }
        let (_, first) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, mediaTimeline: offset, encryption: encryption)
        let (_, second) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, mediaTimeline: offset, encryption: encryption, skip: 120)
        // The late origin's first segments start mid-way; the ones after its first keyframe are whole.
        #expect(second.segments.count >= 4 && second.segments.count < first.segments.count)
        for segment in second.segments.dropFirst(2) {
            let same = first.segments.first { $0.track == segment.track && $0.start == segment.start }
            #expect(same?.bytes == segment.bytes, "track \(segment.track) at \(segment.start)")
        }
    }
}

/// Key rotation: each key period's segments name their key in a `seig` sample group and
/// decrypt with it, and only with it.
extension LiveEncryptionTests {
    /// The KID of a fragment's `seig` sample group entry (nil without one).
    static func sampleGroupKeyID(_ bytes: [UInt8]) -> [UInt8]? {
        let type = Array("sgpd".utf8)
        guard let at = (4..<(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == type }) else { return nil }
        let box = at - 4
        guard Array(bytes[box + 12..<box + 16]) == Array("seig".utf8) else { return nil }
        return Array(bytes[box + 28..<box + 44])
    }

    @Test(arguments: [ProtectionScheme.cenc, .cbcs])
    func rotatedSegmentsDecryptWithTheirPeriodsKey(_ scheme: ProtectionScheme) throws {
        let scratch = try Fixtures.temporaryDirectory("kerf-live-rotation")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let offset = MediaTime(value: 1_700_000_000, timescale: 1)
        var encryption = CommonEncryption(scheme: scheme)
        let rotation = KeyRotation(rootKey: try AES128Key(hex: "000102030405060708090a0b0c0d0e0f"), segmentsPerPeriod: 2,
                                   segmentDuration: MediaTime(value: 2, timescale: 1))
        encryption.rotation = rotation
        encryption.drmSystems = [.common, .widevine]
        let (_, clear) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset)
        let (packager, protected) = try LivePackagerTests.run("h264_aac_10s.mp4", offset: offset, encryption: encryption)
        #expect(packager.tracks[0].protection?.keyID == [UInt8](repeating: 0, count: 16))
        let initBytes = try #require(protected.inits[0]).bytes
        let tenc = try #require((0..<(initBytes.count - 4)).first { Array(initBytes[$0..<$0 + 4]) == Array("tenc".utf8) })
        #expect(Array(initBytes[tenc + 12..<tenc + 28]) == [UInt8](repeating: 0, count: 16), "tenc names no key")
        var periods = Set<Int64>()
        for (index, segment) in protected.segments.enumerated() where segment.track == 0 {
            let period = rotation.period(of: segment.start)
            let key = rotation.key(period: period), other = rotation.key(period: period + 1)
            periods.insert(period)
            #expect(Self.sampleGroupKeyID(segment.bytes) == key.keyID, "segment \(index) names its period's key")
            #expect(segment.protection?.keyID == key.keyID)
            // The sgpd entry, the common pssh and the Widevine pssh each name the period's key.
            var named = 0, from = segment.bytes.startIndex
            while let found = Data(segment.bytes[from...]).range(of: Data(key.keyID)) {
                named += 1
                from += found.upperBound
            }
            #expect(named == 3, "the period's KID is named \(named) times")
            let clearInit = try #require(clear.inits[0]).bytes
            let expected = try #require(try frames(clearInit, clear.segments[index].bytes, key: nil, scratch: scratch))
            #expect(try frames(initBytes, segment.bytes, key: Hex.string(key.key.bytes), scratch: scratch) == expected)
            #expect(try frames(initBytes, segment.bytes, key: Hex.string(other.key.bytes), scratch: scratch) != expected)
        }
        #expect(periods.count >= 3)
    }
}

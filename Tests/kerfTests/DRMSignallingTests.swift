import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// `--drm`, `--pssh`, `--license-url` and `--cpix`: what the MPD and the playlists signal for
/// each DRM system, checked against boxes and headers built here by hand, the DASH schema
/// (xmllint), OpenSSL's AES-ECB (the PlayReady checksum) and FFmpeg decrypting with the keys the
/// CPIX document assigns.
@Suite(.tags(.integration)) struct DRMSignallingTests {
    static let videoKID = "11112233445566778899aabbccddeeff", videoKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    static let audioKID = "22112233445566778899aabbccddeeff", audioKey = "a0b1c2d3e4f5061728394a5b6c7d8e9f"
    static let widevine = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed", playReady = "9a04f079-9840-4286-ab92-e65be0885f95"

    static func hex(_ text: String) -> [UInt8] {
        stride(from: 0, to: text.count, by: 2).map { UInt8(text.dropFirst($0).prefix(2), radix: 16)! }
    }

    static func uuid(_ hex: String) -> String {
        let h = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(h[$0]) }.joined(separator: "-")
    }

    /// A version 0 `pssh` box, written from ISO/IEC 23001-7 §8.1.1 here rather than by Kerf.
    static func psshBox(system: String, data: [UInt8]) -> [UInt8] {
        let systemID = hex(system.filter { $0 != "-" })
        let size = 32 + data.count
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)] + Array("pssh".utf8)
            + [0, 0, 0, 0] + systemID + [0, 0, 0, UInt8(data.count)] + data
    }

    func package(_ options: [String], into dir: URL, name: String, inputs: [String] = [Fixtures.path("h264_aac_10s.mp4")]) throws -> (URL, Command.Result) {
        let out = dir.appendingPathComponent(name)
        let result = try Command.run(Fixtures.kerf, ["package"] + inputs + ["-o", out.path, "--segment-duration", "2"] + options)
        return (out, result)
    }

    func text(_ url: URL, _ path: String) throws -> String { try String(contentsOf: url.appendingPathComponent(path), encoding: .utf8) }

    @Test func widevinePlayReadyAndFairPlayFromRawKeys() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-drm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (out, result) = try package(["--encrypt", "cbcs", "--key", "\(Self.videoKID):\(Self.videoKey)", "--drm", "widevine,playready,fairplay",
                                         "--license-url", "playready=https://pr.example.com/rightsmanager.asmx"], into: dir, name: "out")
        try #require(result.status == 0, "\(result.stderr)")
        let mpd = try text(out, "manifest.mpd")
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, out.appendingPathComponent("manifest.mpd").path])
        #expect(schema.status == 0, "\(schema.stderr)")
        // Widevine: a version 0 pssh whose data is WidevinePsshData { key_id (2), protection_scheme (9) = 'cbcs' }.
        let cbcs = Array("cbcs".utf8).reduce(0) { $0 << 8 | Int($1) }
        var varint: [UInt8] = []
        var value = cbcs
        while value >= 0x80 { varint.append(UInt8(value & 0x7f) | 0x80); value >>= 7 }
        varint.append(UInt8(value))
        let widevineBox = Self.psshBox(system: Self.widevine, data: [0x12, 0x10] + Self.hex(Self.videoKID) + [0x48] + varint)
        let widevineBase64 = Data(widevineBox).base64EncodedString()
        #expect(mpd.contains("<ContentProtection schemeIdUri=\"urn:uuid:\(Self.widevine)\" value=\"Widevine\">\n        <cenc:pssh>\(widevineBase64)</cenc:pssh>"))
        #expect(!mpd.contains("e2719d58-a985-b3c9-781a-b030af78d30e"), "no Clear Key unless asked for")
        #expect(!mpd.contains("94ce86fb"), "FairPlay is not signalled in DASH")
        // PlayReady: mspr:pro is a PlayReady Header Object holding a 4.3 WRMHEADER (AESCBC) with the KID in GUID order and LA_URL.
        let pro = try #require(mpd.firstMatch(of: /<mspr:pro>([^<]+)<\/mspr:pro>/).map { String($0.1) })
        let object = [UInt8](try #require(Data(base64Encoded: pro)))
        let length = Int(object[0]) | Int(object[1]) << 8 | Int(object[2]) << 16 | Int(object[3]) << 24
        #expect(length == object.count && object[4] == 1 && object[6] == 1)
        let xmlLength = Int(object[8]) | Int(object[9]) << 8
        #expect(xmlLength == object.count - 10)
        let header = String(decoding: stride(from: 10, to: object.count, by: 2).map { UInt16(object[$0]) | UInt16(object[$0 + 1]) << 8 }, as: UTF16.self)
        let kid = Self.hex(Self.videoKID)
        let guid = Array(kid[0..<4].reversed()) + kid[4..<6].reversed() + kid[6..<8].reversed() + kid[8...]
        #expect(header.contains("version=\"4.3.0.0\""))
        #expect(header.contains("<KID ALGID=\"AESCBC\" VALUE=\"\(Data(guid).base64EncodedString())\"></KID>"))
        #expect(header.contains("<LA_URL>https://pr.example.com/rightsmanager.asmx</LA_URL>"))
        #expect(mpd.contains("<dashif:Laurl>https://pr.example.com/rightsmanager.asmx</dashif:Laurl>"))
        #expect(mpd.contains("xmlns:mspr=\"urn:microsoft:playready\"") && mpd.contains("xmlns:dashif=\"https://dashif.org/CPS\""))
        let playReadyBox = Self.psshBox(system: Self.playReady, data: []).prefix(28) + [UInt8(object.count >> 24), UInt8(object.count >> 16 & 0xff),
                                                                                        UInt8(object.count >> 8 & 0xff), UInt8(object.count & 0xff)] + object
        var sized = Array(playReadyBox)
        sized.replaceSubrange(0..<4, with: [UInt8(sized.count >> 24), UInt8(sized.count >> 16 & 0xff), UInt8(sized.count >> 8 & 0xff), UInt8(sized.count & 0xff)])
        #expect(mpd.contains("<cenc:pssh>\(Data(sized).base64EncodedString())</cenc:pssh>"))
        // HLS: one EXT-X-KEY per KEYFORMAT, no identity key, no key file in the package.
        let playlist = try text(out, "video_360p/playlist.m3u8")
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,\(widevineBase64)\",KEYID=0x\(Self.videoKID),KEYFORMAT=\"urn:uuid:\(Self.widevine)\",KEYFORMATVERSIONS=\"1\"\n"))
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;charset=UTF-16;base64,\(pro)\",KEYID=0x\(Self.videoKID),KEYFORMAT=\"com.microsoft.playready\",KEYFORMATVERSIONS=\"1\"\n"))
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://\(Self.videoKID)\",KEYID=0x\(Self.videoKID),KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n"))
        #expect(!playlist.contains("identity"))
        let master = try text(out, "master.m3u8")
        #expect(master.components(separatedBy: "#EXT-X-SESSION-KEY:").count == 4)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!files.contains { $0.hasPrefix("key_") }, "keys are not published without Clear Key: \(files)")
        let validate = try Command.run(Fixtures.kerf, ["validate", out.appendingPathComponent("master.m3u8").path])
        #expect(validate.status == 0, "\(validate.stdout)")
    }

    @Test func playReadyChecksumForCencIsTheKeyIDEncryptedWithTheKey() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-drm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (out, result) = try package(["--encrypt", "cenc", "--key", "\(Self.videoKID):\(Self.videoKey)", "--drm", "playready", "--formats", "dash"],
                                        into: dir, name: "out")
        try #require(result.status == 0, "\(result.stderr)")
        let pro = try #require(try text(out, "manifest.mpd").firstMatch(of: /<mspr:pro>([^<]+)<\/mspr:pro>/).map { String($0.1) })
        let object = [UInt8](try #require(Data(base64Encoded: pro)))
        let header = String(decoding: stride(from: 10, to: object.count, by: 2).map { UInt16(object[$0]) | UInt16(object[$0 + 1]) << 8 }, as: UTF16.self)
        #expect(header.contains("version=\"4.0.0.0\"") && header.contains("<ALGID>AESCTR</ALGID>"))
        let kid = Self.hex(Self.videoKID)
        let guid = Array(kid[0..<4].reversed()) + kid[4..<6].reversed() + kid[6..<8].reversed() + kid[8...]
        let block = dir.appendingPathComponent("kid.bin")
        try Data(guid).write(to: block)
        let ecb = try Command.run("openssl", ["enc", "-aes-128-ecb", "-nopad", "-K", Self.videoKey, "-in", block.path, "-out", block.path + ".enc"])
        try #require(ecb.status == 0, "\(ecb.stderr)")
        let encrypted = try Data(contentsOf: URL(fileURLWithPath: block.path + ".enc"))
        #expect(header.contains("<CHECKSUM>\(encrypted.prefix(8).base64EncodedString())</CHECKSUM>"))
    }

    @Test func psshGivenReplacesTheGeneratedBoxAndUnknownSystemsAreListed() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-drm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let widevine = Self.psshBox(system: Self.widevine, data: Array("provider-data".utf8))
        let other = Self.psshBox(system: "5e629af5-38da-4063-8977-97ffbd9902d4", data: [1, 2, 3])
        let hex = (widevine + other).map { String(format: "%02x", $0) }.joined()
        let (out, result) = try package(["--encrypt", "cenc", "--key", "\(Self.videoKID):\(Self.videoKey)", "--drm", "common,widevine",
                                         "--pssh", hex, "--pssh-in-init"], into: dir, name: "out")
        try #require(result.status == 0, "\(result.stderr)")
        let mpd = try text(out, "manifest.mpd")
        #expect(mpd.contains("<cenc:pssh>\(Data(widevine).base64EncodedString())</cenc:pssh>"))
        #expect(mpd.contains("schemeIdUri=\"urn:uuid:5e629af5-38da-4063-8977-97ffbd9902d4\">\n        <cenc:pssh>\(Data(other).base64EncodedString())</cenc:pssh>"))
        let initSegment = try Data(contentsOf: out.appendingPathComponent("video_360p/init.mp4"))
        #expect(initSegment.range(of: Data(widevine)) != nil && initSegment.range(of: Data(other)) != nil)
        // Malformed boxes and unknown systems are one-line errors.
        let (_, truncated) = try package(["--encrypt", "cenc", "--key", "\(Self.videoKID):\(Self.videoKey)", "--pssh", String(hex.prefix(40))],
                                         into: dir, name: "bad")
        #expect(truncated.status == 2 && truncated.stderr.hasPrefix("kerf: --pssh: a pssh box is truncated") && truncated.stderr.split(separator: "\n").count == 1,
                "\(truncated.stderr)")
        let (_, unknown) = try package(["--encrypt", "cenc", "--key", "\(Self.videoKID):\(Self.videoKey)", "--drm", "marlin"], into: dir, name: "bad2")
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown DRM system \"marlin\""), "\(unknown.stderr)")
        let (_, fairplay) = try package(["--encrypt", "cenc", "--key", "\(Self.videoKID):\(Self.videoKey)", "--drm", "fairplay"], into: dir, name: "bad3")
        #expect(fairplay.status == 2 && fairplay.stderr.contains("FairPlay needs --encrypt cbcs"), "\(fairplay.stderr)")
    }
}

/// `--cpix`: a DASH-IF CPIX 2.3 document with a video key and an audio key, usage rules by
/// track type and Widevine, PlayReady and FairPlay entries.
extension DRMSignallingTests {
    static func base64(_ hex: String) -> String { Data(Self.hex(hex)).base64EncodedString() }
    static func base64(text: String) -> String { Data(text.utf8).base64EncodedString() }

    static func cpix(widevineVideo: [UInt8], widevineAudio: [UInt8], pro: [UInt8], encryptedKey: Bool = false) -> String {
        let playReadyData = "<cenc:pssh>\(Data(psshBox(system: playReady, data: pro)).base64EncodedString())</cenc:pssh><mspr:pro>\(Data(pro).base64EncodedString())</mspr:pro>"
        func key(_ kid: String, _ key: String) -> String {
            let value = encryptedKey
                ? "<pskc:EncryptedValue><enc:CipherData><enc:CipherValue>AAAA</enc:CipherValue></enc:CipherData></pskc:EncryptedValue>"
                : "<pskc:PlainValue>\(base64(key))</pskc:PlainValue>"
            return "<cpix:ContentKey kid=\"\(uuid(kid))\" commonEncryptionScheme=\"cbcs\"><cpix:Data><pskc:Secret>\(value)</pskc:Secret></cpix:Data></cpix:ContentKey>"
        }
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:enc="http://www.w3.org/2001/04/xmlenc#" contentId="title-1">
          <cpix:ContentKeyList>
            \(key(videoKID, videoKey))
            \(key(audioKID, audioKey))
          </cpix:ContentKeyList>
          <cpix:DRMSystemList>
            <cpix:DRMSystem kid="\(uuid(videoKID))" systemId="\(widevine)">
              <cpix:PSSH>\(Data(widevineVideo).base64EncodedString())</cpix:PSSH>
            </cpix:DRMSystem>
            <cpix:DRMSystem kid="\(uuid(audioKID))" systemId="\(widevine)">
              <cpix:PSSH>\(Data(widevineAudio).base64EncodedString())</cpix:PSSH>
            </cpix:DRMSystem>
            <cpix:DRMSystem kid="\(uuid(videoKID))" systemId="\(playReady)">
              <cpix:ContentProtectionData>\(base64(text: playReadyData))</cpix:ContentProtectionData>
              <cpix:HLSSignalingData playlist="media">\(base64(text: "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;charset=UTF-16;base64,\(Data(pro).base64EncodedString())\",KEYFORMAT=\"com.microsoft.playready\",KEYFORMATVERSIONS=\"1\""))</cpix:HLSSignalingData>
            </cpix:DRMSystem>
            <cpix:DRMSystem kid="\(uuid(videoKID))" systemId="94ce86fb-07ff-4f43-adb8-93d2fa968ca2">
              <cpix:URIExtXKey>\(base64(text: "skd://title-1/video"))</cpix:URIExtXKey>
            </cpix:DRMSystem>
          </cpix:DRMSystemList>
          <cpix:ContentKeyUsageRuleList>
            <cpix:ContentKeyUsageRule kid="\(uuid(videoKID))" intendedTrackType="VIDEO"><cpix:VideoFilter/></cpix:ContentKeyUsageRule>
            <cpix:ContentKeyUsageRule kid="\(uuid(audioKID))" intendedTrackType="AUDIO"><cpix:AudioFilter/></cpix:ContentKeyUsageRule>
          </cpix:ContentKeyUsageRuleList>
        </cpix:CPIX>
        """
    }

    @Test func cpixGivesEachTrackItsKeyAndItsSignalling() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cpix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let widevineVideo = Self.psshBox(system: Self.widevine, data: Array("video-license".utf8))
        let widevineAudio = Self.psshBox(system: Self.widevine, data: Array("audio-license".utf8))
        let pro: [UInt8] = Array("a PlayReady Header Object".utf8)
        let document = dir.appendingPathComponent("keys.cpix.xml")
        try Self.cpix(widevineVideo: widevineVideo, widevineAudio: widevineAudio, pro: pro).write(to: document, atomically: true, encoding: .utf8)
        let (clear, clearResult) = try package([], into: dir, name: "clear")
        try #require(clearResult.status == 0)
        let (out, result) = try package(["--encrypt", "cbcs", "--cpix", document.path, "--json"], into: dir, name: "out")
        try #require(result.status == 0, "\(result.stderr)")
        for secret in [Self.videoKey, Self.audioKey, Self.base64(Self.videoKey)] {
            #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret), "a key is printed")
        }
        let mpd = try text(out, "manifest.mpd")
        let schema = try Command.run("xmllint", ["--noout", "--schema", Fixtures.dashSchema, out.appendingPathComponent("manifest.mpd").path])
        #expect(schema.status == 0, "\(schema.stderr)")
        let sets = mpd.components(separatedBy: "<AdaptationSet").dropFirst()
        let video = try #require(sets.first { $0.contains("contentType=\"video\"") }), audio = try #require(sets.first { $0.contains("contentType=\"audio\"") })
        #expect(video.contains("cenc:default_KID=\"\(Self.uuid(Self.videoKID))\"") && audio.contains("cenc:default_KID=\"\(Self.uuid(Self.audioKID))\""))
        #expect(video.contains("<cenc:pssh>\(Data(widevineVideo).base64EncodedString())</cenc:pssh>"))
        #expect(audio.contains("<cenc:pssh>\(Data(widevineAudio).base64EncodedString())</cenc:pssh>"))
        #expect(video.contains("<mspr:pro>\(Data(pro).base64EncodedString())</mspr:pro>") && !audio.contains("mspr:pro"))
        #expect(!mpd.contains("ClearKey1.0") && mpd.contains("urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"))
        let playlist = try text(out, "video_360p/playlist.m3u8")
        #expect(playlist.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://title-1/video\",KEYID=0x\(Self.videoKID),KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n"))
        #expect(playlist.contains("KEYFORMAT=\"com.microsoft.playready\""))
        #expect(playlist.contains("URI=\"data:text/plain;base64,\(Data(widevineVideo).base64EncodedString())\""))
        let audioPlaylist = try text(out, "audio_und_aac/playlist.m3u8")
        #expect(audioPlaylist.contains("KEYID=0x\(Self.audioKID)") && !audioPlaylist.contains("skd://"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).allSatisfy { !$0.hasPrefix("key_") })
        // Each track decrypts with the key the document's rules gave it.
        for (rendition, key, other) in [("video_360p", Self.videoKey, Self.audioKey), ("audio_und_aac", Self.audioKey, Self.videoKey)] {
            let expected = try frames(clear, rendition, key: nil, scratch: dir)
            #expect(try frames(out, rendition, key: key, scratch: dir) == expected, "\(rendition) with its key")
            #expect(try frames(out, rendition, key: other, scratch: dir) != expected, "\(rendition) with the other key")
        }
    }

    @Test func cpixProblemsAreOneLineErrors() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-cpix")
        defer { try? FileManager.default.removeItem(at: dir) }
        let encrypted = dir.appendingPathComponent("encrypted.xml"), broken = dir.appendingPathComponent("broken.xml")
        try Self.cpix(widevineVideo: [], widevineAudio: [], pro: [], encryptedKey: true).write(to: encrypted, atomically: true, encoding: .utf8)
        try "<cpix:CPIX xmlns:cpix=\"urn:dashif:org:cpix\"><cpix:ContentKeyList>".write(to: broken, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--cpix", encrypted.path], "keys encrypted with a document key are not supported"),
            (["--cpix", broken.path], "CPIX document is not well-formed XML"),
            (["--cpix", dir.appendingPathComponent("missing.xml").path], "cannot read the CPIX document"),
            (["--cpix", broken.path, "--key", "\(Self.videoKID):\(Self.videoKey)"], "--key and --cpix cannot be combined"),
        ]
        for (options, message) in cases {
            let (_, result) = try package(["--encrypt", "cbcs"] + options, into: dir, name: "out")
            // Option checks print the usage after their line (ArgumentParser); the others are one line.
            let lines = result.stderr.split(separator: "\n")
            #expect(result.status == 2 && lines.first?.contains(message) == true && (lines.count == 1 || lines[1].isEmpty || lines[1].hasPrefix("Usage")),
                    "\(options): \(result.stderr)")
        }
    }

    /// The frame checksums ffmpeg decodes from init + the first segment.
    func frames(_ package: URL, _ rendition: String, key: String?, scratch: URL) throws -> String? {
        let bytes = try Data(contentsOf: package.appendingPathComponent("\(rendition)/init.mp4"))
            + Data(contentsOf: package.appendingPathComponent("\(rendition)/seg_1.m4s"))
        return try DecryptedFrames.framemd5(bytes, key: key, scratch: scratch)
    }
}

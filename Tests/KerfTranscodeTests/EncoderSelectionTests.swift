import Testing
import KerfMedia
@testable import KerfTranscode
import KerfTestTags

@Suite(.tags(.unit)) struct EncoderSelectionTests {
    /// An opener where only `working` families open; the others fail like a machine without them.
    func opener(working: Set<EncoderFamily>) -> (EncoderFamily, String) throws(TranscodeError) -> String? {
        { family, name throws(TranscodeError) in
            guard working.contains(family) else {
                let device = family.deviceKind.map { "no \($0.rawValue) device" } ?? "no encoder"
                throw TranscodeError(.encoderUnavailable, device, reason: "test machine")
            }
            return family == .software ? nil : "\(family.rawValue) device"
        }
    }

    @Test func autoFallsBackToSoftwareAndSaysWhyEachGPUWasSkipped() throws {
        let selection = try EncoderSelection(choice: .auto, codec: "h264", open: opener(working: [.software]))
        #expect(selection.family == .software && selection.device == nil)
        #expect(selection.log == [
            "skipping h264_nvenc: no cuda device (test machine)",
            "skipping h264_qsv: no qsv device (test machine)",
            "skipping h264_vaapi: no vaapi device (test machine)",
            "using libx264 (software)",
        ])
    }

    @Test func autoTakesTheFirstGPUThatOpens() throws {
        let selection = try EncoderSelection(choice: .auto, codec: "hevc", open: opener(working: [.vaapi, .software]))
        #expect(selection.family == .vaapi && selection.device == "vaapi device")
        #expect(selection.log.count == 3 && selection.log.last == "using hevc_vaapi on a vaapi device")
    }

    @Test func anExplicitEncoderThatCannotOpenIsAnErrorNotAFallback() {
        #expect {
            _ = try EncoderSelection(choice: .nvenc, codec: "h264", open: opener(working: [.software]))
        } throws: { error in
            guard let error = error as? TranscodeError else { return false }
            return error.code == .encoderUnavailable && error.isInputError
                && error.message == "--encoder nvenc: no cuda device" && error.reason == "test machine"
        }
        #expect(throws: TranscodeError.self) {
            _ = try EncoderSelection(choice: .auto, codec: "h264", open: opener(working: []))
        }
    }

    @Test func choicesMapToFamiliesCodecsAndEncoderNames() {
        #expect(EncoderChoice.x265.candidates == [.software] && EncoderChoice.x265.codec == "hevc")
        #expect(EncoderChoice.auto.candidates == [.nvenc, .qsv, .vaapi, .software] && EncoderChoice.auto.codec == nil)
        #expect(EncoderFamily.software.encoderName(codec: "hevc") == "libx265")
        #expect(EncoderFamily.nvenc.encoderName(codec: "h264") == "h264_nvenc")
        #expect(EncoderFamily.nvenc.preset("veryfast") == "p2" && EncoderFamily.qsv.preset("ultrafast") == "veryfast")
        #expect(EncoderFamily.vaapi.preset("slow") == nil)
    }

    @Test func rateControlIsCappedVBRWithKeyframesOnlyWhereForced() {
        let rung = Ladder.ResolvedRung(width: 1280, height: 720, bitRate: 3_000_000, maxRate: 3_600_000, bufferSize: 6_000_000,
                                       codec: "h264", profile: "high", preset: "veryfast")
        let x264 = EncoderConfiguration(family: .software).settings(for: rung, timeBase: .init(1, 90_000),
                                                                    frameRate: .init(25, 1), gopSize: 100)
        #expect(x264.codecName == "libx264" && x264.bitRate == 3_000_000 && x264.maxRate == 3_600_000 && x264.bufferSize == 6_000_000)
        #expect(x264.options["x264-params"]?.contains("scenecut=0") == true && x264.options["forced-idr"] == "1")
        #expect(x264.options["preset"] == "veryfast" && x264.options["profile"] == "high" && x264.pixelFormat == "yuv420p")
        let nvenc = EncoderConfiguration(family: .nvenc).settings(for: rung, timeBase: .init(1, 90_000), frameRate: .init(25, 1), gopSize: 100)
        #expect(nvenc.codecName == "h264_nvenc" && nvenc.options["rc"] == "vbr" && nvenc.options["no-scenecut"] == "1" && nvenc.options["preset"] == "p2")
        let vaapi = EncoderConfiguration(family: .vaapi).settings(for: rung, timeBase: .init(1, 90_000), frameRate: .init(25, 1), gopSize: 100)
        #expect(vaapi.pixelFormat == "vaapi" && vaapi.options["rc_mode"] == "VBR")
    }

    @Test func theRealProbeFindsSoftwareEncodersAndNamesMissingDevices() throws {
        let device = try EncoderProbe.open(family: .software, encoderName: "libx264")
        #expect(device == nil)
        let capabilities = EncoderProbe.capabilities()
        #expect(capabilities.contains { $0.name == "libx264" && $0.available })
        for capability in capabilities where !capability.available {
            #expect(capability.reason?.isEmpty == false, "\(capability.name) unavailable without a reason")
        }
    }
}

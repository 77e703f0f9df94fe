import Testing
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct HardwareSelectionTests {
    struct FakeDevice: Equatable { var kind: HardwareDevice.Kind }

    func opener(working: Set<HardwareDevice.Kind>) -> (HardwareDevice.Kind, String?) throws(MediaError) -> FakeDevice {
        { (kind, _) throws(MediaError) in
            guard working.contains(kind) else {
                throw MediaError(.hardwareUnavailable, "cannot open \(kind.rawValue) device",
                                 function: "av_hwdevice_ctx_create", libraryMessage: "No such device")
            }
            return FakeDevice(kind: kind)
        }
    }

    @Test func autoTakesTheFirstDeviceThatOpens() throws {
        let selection = try HardwareSelection(preference: .auto([.cuda, .qsv, .vaapi]), open: opener(working: [.vaapi]))
        #expect(selection.device == FakeDevice(kind: .vaapi))
        #expect(selection.log == ["skipping cuda: av_hwdevice_ctx_create: No such device",
                                  "skipping qsv: av_hwdevice_ctx_create: No such device",
                                  "using vaapi device"])
    }

    @Test func autoFallsBackToSoftwareSayingWhy() throws {
        let selection = try HardwareSelection(preference: .auto(), open: opener(working: []))
        #expect(selection.device == nil)
        #expect(selection.log.count == 4)
        #expect(selection.log.last == "no hardware device opened: using software")
    }

    @Test func requiredDeviceFailsWithoutFallback() {
        let error = #expect(throws: MediaError.self) {
            _ = try HardwareSelection(preference: .require(.cuda), open: opener(working: [.vaapi]))
        }
        #expect(error?.code == .hardwareUnavailable)
    }

    @Test func noneNeverOpensADevice() throws {
        let selection = try HardwareSelection(preference: .none) { (kind, _) throws(MediaError) -> FakeDevice in
            Issue.record("opened \(kind) although hardware was disabled")
            return FakeDevice(kind: kind)
        }
        #expect(selection.device == nil)
    }

    /// On a machine without a GPU (CI), opening a real device fails with a typed error naming
    /// the device; on one with a GPU it opens. Either way nothing crashes.
    @Test(arguments: HardwareDevice.Kind.allCases)
    func realDevicesOpenOrFailCleanly(kind: HardwareDevice.Kind) {
        do {
            let device = try HardwareDevice(kind: kind, device: kind == .vaapi ? "/dev/dri/renderD128" : nil)
            #expect(device.kind == kind)
        } catch {
            #expect(error.code == .hardwareUnavailable)
            #expect(error.function == "av_hwdevice_ctx_create")
            #expect(error.message.contains(kind.rawValue))
        }
    }
}

import Testing
@testable import KerfMedia
import KerfTestTags

@Suite(.tags(.unit)) struct CodecStateMachineTests {
    typealias State = CodecStateMachine.State

    @Test func happyPathVisitsEveryState() throws {
        var machine = CodecStateMachine(role: "decoder")
        #expect(machine.state == .created)
        #expect(try machine.open() == .openCodec)
        machine.opened()
        #expect(machine.state == .opened)
        #expect(try machine.receive() == .receiveOutput)
        #expect(try machine.send() == .sendInput)
        #expect(machine.state == .streaming)
        #expect(try machine.receive() == .receiveOutput)
        #expect(try machine.drain() == .sendEndOfInput)
        #expect(machine.state == .draining)
        #expect(try machine.receive() == .receiveOutput)
        machine.reachedEndOfStream()
        #expect(try machine.receive() == .reportEndOfStream)
        #expect(machine.close() == .freeCodec)
        #expect(machine.state == .closed)
        #expect(machine.close() == .none)
    }

    /// Every event that a state does not allow throws `.wrongState` and leaves the state alone.
    @Test(arguments: [
        (State.created, "send"), (.created, "receive"), (.created, "drain"),
        (.opened, "open"),
        (.streaming, "open"),
        (.draining, "open"), (.draining, "send"), (.draining, "drain"),
        (.closed, "open"), (.closed, "send"), (.closed, "receive"), (.closed, "drain"),
    ])
    func wrongStateEventsThrow(state: State, event: String) throws {
        var machine = try machine(in: state)
        let before = machine
        let error = #expect(throws: MediaError.self) {
            switch event {
            case "open": _ = try machine.open()
            case "send": _ = try machine.send()
            case "receive": _ = try machine.receive()
            default: _ = try machine.drain()
            }
        }
        #expect(error?.code == .wrongState)
        #expect(error?.message.contains(state.rawValue) == true)
        #expect(machine == before)
    }

    func machine(in state: State) throws -> CodecStateMachine {
        var machine = CodecStateMachine(role: "encoder")
        if state == .created { return machine }
        if state == .closed { _ = machine.close(); return machine }
        _ = try machine.open()
        machine.opened()
        if state == .opened { return machine }
        _ = try machine.send()
        if state == .streaming { return machine }
        _ = try machine.drain()
        return machine
    }
}

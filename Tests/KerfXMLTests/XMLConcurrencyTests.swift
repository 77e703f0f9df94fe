import Foundation
import KerfTestSupport
import Testing
@testable import KerfXML
import KerfTestTags

/// libxml2 used from several tasks at once gives the same results as from one. (The deadlock in
/// libxml2's lazy global initialisation that `LibXML.initialize()` prevents can only happen on a
/// process's very first libxml2 call, so this test cannot force it; it checks the results.)
@Suite(.tags(.unit)) struct XMLConcurrencyTests {
    static let schema = Fixtures.dashSchema

    @Test(.timeLimit(.minutes(1)))
    func schemasLoadAndValidateFromManyTasksAtOnce() async throws {
        guard FileManager.default.fileExists(atPath: Self.schema) else {
            Issue.record("DASH schema missing at \(Self.schema)")
            return
        }
        let valid = Array("""
            <?xml version="1.0"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S">
              <Period id="0"/>
            </MPD>
            """.utf8)
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let schema = try XMLSchema(path: Self.schema)
                    return try schema.validate(valid)
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0.isEmpty }, "\(results)")
    }
}

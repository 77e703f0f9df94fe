import Foundation
import KerfFuzzing
import KerfTestSupport
import KerfTestTags
import Testing

/// Every committed fuzz corpus file (`Fuzz/Corpus/<target>/`, the seeds and the inputs that once
/// found a defect) through its target's entry function, as `kerf-fuzz` runs it: no trap and no
/// broken invariant, in the normal build, without the sanitizer build `make fuzz` needs.
@Suite(.tags(.unit)) struct FuzzCorpusTests {
    static let corpus = Fixtures.root.appendingPathComponent("Fuzz/Corpus")

    static func files(_ target: FuzzTarget) -> [URL] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases) func corpusReplaysCleanly(_ target: FuzzTarget) throws {
        let files = Self.files(target)
        #expect(!files.isEmpty, "no corpus for \(target.rawValue)")
        for file in files {
            let problems = target.run(Array(try Data(contentsOf: file)))
            #expect(problems.isEmpty, "\(target.rawValue)/\(file.lastPathComponent): \(problems)")
        }
    }
}

import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// `kerf package` writes the same bytes as before for every case of `Golden/cases.txt`: the
/// SHA-256 of each file of each tree is compared with `Golden/<case>.sha256`. A changed file is
/// named with the case, so a refactoring that changes output is caught at once; a deliberate
/// rule change regenerates the list (`KERF_GOLDEN_WRITE=1`) and names the rule in README.
@Suite(.tags(.integration)) struct GoldenPackageTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var inputs: [String]
        var options: [String]
        var testDescription: String { name }
    }

    static let folder = Fixtures.root.appendingPathComponent("Tests/kerfTests/Golden")

    static let cases: [Case] = {
        let text = (try? String(contentsOf: folder.appendingPathComponent("cases.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> Case? in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else { return nil }
            // Option values are written without spaces ("French_dub" stands for "French dub").
            let options = fields[2].split(separator: " ").map { $0.replacingOccurrences(of: "_", with: " ") }
            return Case(name: fields[0], inputs: fields[1].split(separator: " ").map { Fixtures.path(String($0)) }, options: options)
        }
    }()

    @Test func everyCaseIsListed() {
        #expect(Self.cases.count >= 10)
    }

    @Test(arguments: cases)
    func packageIsByteIdentical(_ golden: Case) throws {
        let dir = try Fixtures.temporaryDirectory("kerf-golden")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let result = try Command.run(Fixtures.kerf, ["package"] + golden.inputs + ["-o", out.path] + golden.options)
        try #require(result.status == 0, "kerf package failed: \(result.stderr)")
        let hashes = try Self.hashes(of: out)
        let list = hashes.keys.sorted().map { "\(hashes[$0]!)  \($0)" }.joined(separator: "\n") + "\n"
        let file = Self.folder.appendingPathComponent("\(golden.name).sha256")
        if ProcessInfo.processInfo.environment["KERF_GOLDEN_WRITE"] == "1" {
            try list.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        var wanted: [String: String] = [:]
        for line in expected.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { wanted[parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0]) }
        }
        #expect(Set(hashes.keys) == Set(wanted.keys), "\(golden.name): files differ")
        for (path, hash) in hashes.sorted(by: { $0.key < $1.key }) where wanted[path] != nil {
            #expect(wanted[path] == hash, "\(golden.name): \(path) changed")
        }
    }

    /// SHA-256 (hex, from coreutils' sha256sum) of every regular file under `root`, by path
    /// relative to it.
    static func hashes(of root: URL) throws -> [String: String] {
        let result = try Command.run("sh", ["-c", "cd \"$1\" && find . -type f -print0 | xargs -0 sha256sum", "sh", root.path])
        try #require(result.status == 0, "sha256sum failed: \(result.stderr)")
        var hashes: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            hashes[String(parts[1].trimmingCharacters(in: .whitespaces).dropFirst(2))] = String(parts[0])
        }
        return hashes
    }
}

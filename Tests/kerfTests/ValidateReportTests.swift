import Foundation
import KerfTestSupport
import Testing
import KerfTestTags

/// `kerf validate --rules`, `--ignore`, `--severity` and the HTML and JUnit reports, against
/// oracles nobody here wrote: xmllint with the JUnit XML schema CI systems read, and Chromium.
@Suite(.tags(.integration)) struct ValidateReportTests {
    let corpus = Fixtures.root.appendingPathComponent("manifests")
    let junitSchema = Fixtures.root.appendingPathComponent("Tests/Conformance/junit/junit-10.xsd").path

    @Test func rulesPrintsTheCommittedCatalogue() throws {
        let rules = try Command.run(Fixtures.kerf, ["validate", "--rules"])
        #expect(rules.status == 0)
        #expect(rules.stdout == (try String(contentsOf: corpus.appendingPathComponent("RULES.md"), encoding: .utf8)))
        #expect(rules.stdout.contains("| `hls.define-undefined` | error | MUST | RFC 8216bis §4.3 |"))
    }

    @Test func ignoreAndSeverityFilterTheFindingsAndTheExitStatus() throws {
        let sample = corpus.appendingPathComponent("invalid/targetduration-too-small.m3u8").path
        #expect(try Command.run(Fixtures.kerf, ["validate", sample]).status == 1)
        let ignored = try Command.run(Fixtures.kerf, ["validate", "--ignore", "hls.targetduration-too-small", sample])
        #expect(ignored.status == 0)
        #expect(ignored.stdout.hasSuffix("0 errors, 0 warnings\n"))
        let family = try Command.run(Fixtures.kerf, ["validate", "--ignore", "hls.targetduration-*", sample])
        #expect(family.status == 0)
        let unknown = try Command.run(Fixtures.kerf, ["validate", "--ignore", "hls.no-such-rule", sample])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("--ignore: no rule hls.no-such-rule"))
        let badLevel = try Command.run(Fixtures.kerf, ["validate", "--severity", "fatal", sample])
        #expect(badLevel.status == 2)
        // Warnings only: --severity error leaves nothing; info is kept by default and dropped by warning.
        let authoring = corpus.appendingPathComponent("invalid/video-authoring.m3u8").path
        #expect(try Command.run(Fixtures.kerf, ["validate", authoring]).stdout.contains("warning ["))
        let errorsOnly = try Command.run(Fixtures.kerf, ["validate", "--severity", "error", authoring])
        #expect(errorsOnly.status == 0)
        #expect(!errorsOnly.stdout.contains("warning ["))
        let attributes = corpus.appendingPathComponent("invalid/attributes.m3u8").path
        #expect(try Command.run(Fixtures.kerf, ["validate", attributes]).stdout.contains("info [hls.attribute-unknown]"))
        #expect(!(try Command.run(Fixtures.kerf, ["validate", "--severity", "warning", attributes]).stdout.contains("info [")))
    }

    @Test(arguments: ["invalid/attributes.m3u8", "invalid/periods.mpd", "valid/define.m3u8"])
    func junitReportValidatesAgainstTheJUnitSchema(sample: String) throws {
        let dir = try Fixtures.temporaryDirectory("kerf-junit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = corpus.appendingPathComponent(sample).path
        let junit = try Command.run(Fixtures.kerf, ["validate", "--format", "junit", path])
        let json = try Command.run(Fixtures.kerf, ["validate", "--format", "json", path])
        #expect(junit.status == json.status)
        let report = dir.appendingPathComponent("report.xml")
        try junit.stdoutData.write(to: report)
        let lint = try Command.run("xmllint", ["--noout", "--schema", junitSchema, report.path])
        #expect(lint.status == 0, "\(lint.stderr)")
        // One failure per error finding, one testsuite per document read.
        let decoded = try JSONSerialization.jsonObject(with: json.stdoutData) as? [String: Any]
        let errors = decoded?["errors"] as? Int ?? -1
        let documents = (decoded?["documents"] as? [Any])?.count ?? -1
        #expect(junit.stdout.components(separatedBy: "<failure ").count - 1 == errors)
        #expect(junit.stdout.components(separatedBy: "<testsuite ").count - 1 == documents)
        #expect(junit.stdout.contains("<skipped message=\"needs --deep\"/>"))
    }

    @Test func junitSchemaRejectsWhatCIWouldNotRead() throws {
        let dir = try Fixtures.temporaryDirectory("kerf-junit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.xml")
        try "<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>".write(to: broken, atomically: true, encoding: .utf8)
        #expect(try Command.run("xmllint", ["--noout", "--schema", junitSchema, broken.path]).status != 0)
    }

    @Test func htmlReportRendersInChromium() throws {
        guard let chromium = HeadlessChromium.executable else {
            Issue.record("Chromium is not installed: make test-deps installs it")
            return
        }
        let dir = try Fixtures.temporaryDirectory("kerf-html")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (sample, expected) in [("invalid/attributes.m3u8", ["hls.attribute-value", "VIDEO-RANGE=HDR", "attributes/iframes.m3u8"]),
                                   ("invalid/periods.mpd", ["Period 2", "dash.period-order", "&lt;Period id=\"b\""])] {
            let html = try Command.run(Fixtures.kerf, ["validate", "--format", "html", "--schema", Fixtures.dashSchema,
                                                       corpus.appendingPathComponent(sample).path])
            #expect(html.status == 1)
            #expect(!html.stdout.contains("<script") && !html.stdout.contains("<link") && !html.stdout.contains(" src="))
            let page = dir.appendingPathComponent("report.html")
            try html.stdoutData.write(to: page)
            let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--user-data-dir=\(dir.appendingPathComponent("profile").path)"]
            // Chromium parses the page: its DOM holds the findings, in the elements the page made.
            let dom = try Command.run(chromium, flags + ["--dump-dom", page.absoluteString])
            #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
            for text in expected { #expect(dom.stdout.contains(text), "\(sample): \(text)") }
            #expect(dom.stdout.contains("<div class=\"finding error\">"))
            let png = dir.appendingPathComponent("report.png")
            let shot = try Command.run(chromium, flags + ["--screenshot=\(png.path)", "--window-size=1100,900", page.absoluteString])
            #expect(shot.status == 0, "\(shot.stderr.suffix(500))")
            let bytes = try Data(contentsOf: png)
            #expect(bytes.starts(with: [0x89, 0x50, 0x4e, 0x47]) && bytes.count > 10_000)
        }
    }
}

import Foundation
import KerfTestSupport
import KerfTestTags
import Testing

/// `kerf package` onto a disk that fills up: a 1 MiB tmpfs, mounted in a mount namespace of the
/// test's own (`unshare -rm`: no root needed where user namespaces are allowed), holds a 360p
/// package (~0.5 MiB) but not a 720p+540p one. The second run, over the first with `--force`,
/// must exit 2 with one line naming the full disk, publish nothing, leave the first package's
/// bytes as they were and give the space back.
@Suite(.tags(.integration)) struct DiskFullTests {
    /// Runs in the namespace: $1 mount point, $2 kerf, $3 $4 the small package's inputs, $5 the
    /// large one's extra input, $6 where the results go (outside the tmpfs).
    static let script = """
        mount -t tmpfs -o size=1m tmpfs "$1" || exit 90
        "$2" package "$3" "$4" -o "$1/out" --segment-duration 2 --formats hls > /dev/null 2> "$6/first.err"
        echo $? > "$6/first.status"
        (cd "$1/out" && find . -type f | sort | xargs sha256sum) > "$6/before.txt"
        "$2" package "$5" "$3" "$4" -o "$1/out" --force --segment-duration 2 > /dev/null 2> "$6/second.err"
        echo $? > "$6/second.status"
        (cd "$1/out" && find . -type f | sort | xargs sha256sum) > "$6/after.txt"
        ls -A "$1" > "$6/listing.txt"
        du -sk "$1" | cut -f1 > "$6/used.txt"
        """

    @Test func packagingOntoAFullDiskFailsAndKeepsTheEarlierPackage() throws {
        let directory = try Fixtures.temporaryDirectory("kerf-disk-full")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mount = directory.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let run = try Command.run("unshare", ["-rm", "sh", "-c", Self.script, "sh", mount.path, Fixtures.kerf,
                                              Fixtures.path("ladder_360p.mp4"), Fixtures.path("ladder_audio.m4a"),
                                              Fixtures.path("ladder_720p.mp4"), directory.path])
        try #require(run.status != 90 && run.status == 0,
                     "cannot mount a tmpfs in a namespace of the test's own (unshare -rm: \(run.status)): \(run.stderr)")
        func read(_ name: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let firstError = try read("first.err")
        #expect(try read("first.status") == "0", "the first package did not fit: \(firstError)")
        #expect(try read("second.status") == "2")
        let error = try read("second.err")
        #expect(error.split(separator: "\n").count == 1, "\(error)")
        #expect(error.hasPrefix("kerf: ") && error.contains("No space left on device"), "\(error)")
        let before = try read("before.txt"), after = try read("after.txt")
        #expect(before.split(separator: "\n").count > 5 && after == before, "the earlier package changed")
        // Nothing but the earlier package: no staging folder, no partial output.
        #expect(try read("listing.txt") == "out")
        let used = try #require(Int(try read("used.txt")))
        #expect(used < 700, "\(used) KiB still used on the 1 MiB disk")
    }
}

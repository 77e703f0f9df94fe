// Decodes and re-encodes a file through Kerf's Packet/Frame wrappers, then prints the live
// object counts. `make leakcheck` runs this under valgrind's memcheck; the counts must be zero
// and valgrind must report no definitely-lost bytes.
import Foundation
import KerfMedia
import KerfTestSupport

let path = CommandLine.arguments.dropFirst().first ?? Fixtures.path("h264_aac_10s.mp4")
do {
    let counts = try RoundTrip.run(path: path)
    print("decoded frames: \(counts.decodedFrames.sorted { $0.key < $1.key }.map { "#\($0.key)=\($0.value)" }.joined(separator: " "))")
    print("encoded packets: \(counts.encodedPackets.sorted { $0.key < $1.key }.map { "#\($0.key)=\($0.value)" }.joined(separator: " "))")
} catch {
    print("kerf-leakcheck: \(error)")
    exit(2)
}
print("live objects after release: packets=\(LiveObjects.packets) frames=\(LiveObjects.frames) contexts=\(LiveObjects.contexts)")
exit(LiveObjects.total == 0 ? 0 : 1)

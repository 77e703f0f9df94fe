import Testing

/// The test layers. `make test` runs all three; `make test-unit` only `.unit`.
extension Tag {
    /// Pure tests: no processes, sockets or sleeps; the whole layer runs in well under a minute.
    @Tag public static var unit: Tag
    /// Tests that run processes (kerf, ffmpeg, xmllint, players) or open sockets.
    @Tag public static var integration: Tag
    /// Tests fed in real time (live channels, RTMP publishers, LL-HLS): they wait on
    /// conditions with generous deadlines, never on fixed sleeps.
    @Tag public static var realtime: Tag
}

import KerfManifest
import NIOCore

extension LiveChannel {
    /// After archive writes failed (a full disk) and one succeeded again: what only memory holds
    /// goes to disk (the window's init segments, segments kept in memory because their write
    /// failed) and the journal is rewritten from the window, so a restart restores all of it.
    /// - Returns: the number of files written.
    /// - Throws: the first write that fails (the disk is still full).
    func catchUp(_ archive: LiveArchive) throws -> Int {
        // References to the buffers under the lock (no copy); the bytes are written outside it.
        let (files, records) = window.withLock { window -> ([(folder: String, name: String, uri: String?, body: ByteBuffer)], [LiveArchive.Record]) in
            var files: [(folder: String, name: String, uri: String?, body: ByteBuffer)] = []
            for (folder, track) in window.presentation.tracks {
                for (epoch, entry) in track.initializations {
                    guard let body = window.stored[entry.uri]?.body else { continue }
                    files.append((folder, "init_\(epoch).mp4", nil, body))
                }
                for segment in track.segments {
                    guard let stored = window.stored[segment.uri], stored.pinned, let body = stored.body else { continue }
                    files.append((folder, String(segment.uri.dropFirst(folder.count + 1)), segment.uri, body))
                }
            }
            return (files, window.records())
        }
        for file in files {
            try archive.store(folder: file.folder, name: file.name, bytes: Array(buffer: file.body))
            if let uri = file.uri { window.withLock { $0.stored[uri]?.pinned = false } }
        }
        try archive.rewrite(records)
        return files.count
    }
}

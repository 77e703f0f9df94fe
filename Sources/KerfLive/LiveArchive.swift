import FoundationEssentials
import KerfPackager
import KerfSystem
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A live channel's window on disk (`archive:`): every init and media segment as a file named
/// like its URL (`<rendition>/seg_<time>.m4s`), and a journal of what the window holds (one
/// JSON record per line), so a DVR window of hours costs disk rather than memory and survives a
/// restart of the origin.
///
/// Files are written whole under a temporary name and renamed, so a request never reads half a
/// segment; the journal is appended after the file exists and rewritten (compacted) from the
/// window's state at start and when it has grown well past it. Used from the channel's ingest
/// thread; requests only read segment files (through `OpenFile`).
package final class LiveArchive: Sendable {
    /// The archive folder (absolute or relative to the working directory).
    let directory: String
    private let logger: Logger
    private var journal: String { directory + "/journal.jsonl" }

    /// - Throws: `LiveError` when the folder cannot be created.
    init(directory: String, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        try Self.makeFolder(directory)
    }

    /// The records of the journal; a line that cannot be read (a write cut short by a crash)
    /// ends the replay there.
    func records() -> [Record] {
        guard let data = FileManager.default.contents(atPath: journal) else { return [] }
        var records: [Record] = []
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let record = try? decoder.decode(Record.self, from: Data(line)) else {
                logger.warning("archive journal: unreadable line, later lines ignored", metadata: ["journal": "\(journal)"])
                break
            }
            records.append(record)
        }
        return records
    }

    /// Appends records to the journal.
    /// - Throws: `LiveError` `.archive` when the journal cannot be opened or written.
    func append(_ records: [Record]) throws {
        guard !records.isEmpty else { return }
        let bytes = try Self.lines(records)
        do throws(SystemError) {
            let file = try SystemFile.open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC)
            defer { try? file.close() }
            try file.write(all: bytes)
        } catch {
            throw LiveError(.archive, "cannot append to the archive journal", reason: error.reason, file: journal)
        }
    }

    /// Replaces the journal with `records` (the window's state), on disk before it replaces it.
    func rewrite(_ records: [Record]) throws {
        try write(path: journal, try Self.lines(records), durable: true)
    }

    /// Deletes the files of the archive no record names (`<folder>/<name>` in `keep`): what a
    /// crash between a file and its journal line, or a cut journal, left behind, and `.part`s.
    func removeUnreferenced(keep: Set<String>) {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for folder in folders where !folder.hasPrefix(".") && folder != "journal.jsonl" {
            let path = directory + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names where !keep.contains(folder + "/" + name) { unlink(path + "/" + name) }
        }
        unlink(journal + ".part")
    }

    /// Writes a segment or init segment file: `<folder>/<name>`.
    func store(folder: String, name: String, bytes: [UInt8]) throws {
        try Self.makeFolder(directory + "/" + folder)
        try write(path: directory + "/" + folder + "/" + name, bytes)
    }

    /// Reads a stored file whole (init segments at restore).
    func load(folder: String, name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: directory + "/" + folder + "/" + name).map { Array($0) }
    }

    /// Deletes files that left the window.
    func remove(_ files: [(folder: String, name: String)]) {
        for file in files { unlink(directory + "/" + file.folder + "/" + file.name) }
    }

    /// Writes `bytes` to `path` under a temporary name and renames it; `durable` syncs the file
    /// before the rename.
    /// - Throws: `LiveError` `.archive`; nothing is left at the temporary name.
    private func write(path: String, _ bytes: [UInt8], durable: Bool = false) throws {
        let temporary = path + ".part"
        do throws(SystemError) {
            let file = try SystemFile.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
            do throws(SystemError) {
                try file.write(all: bytes)
                if durable { try file.sync() }
            } catch {
                try? file.close()
                unlink(temporary)
                throw error
            }
            do throws(SystemError) {
                try file.close()
                try FileSystem.rename(temporary, to: path)
            } catch {
                unlink(temporary)
                throw error
            }
        } catch {
            throw LiveError(.archive, "cannot write to the archive", reason: error.reason, file: path)
        }
    }

    private static func lines(_ records: [Record]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes: [UInt8] = []
        for record in records {
            bytes += try encoder.encode(record)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    private static func makeFolder(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw LiveError(.archive, "cannot create the archive folder", reason: "\(error)", file: path)
        }
    }
}

import CompressNIO
import Hummingbird
import KerfCore
import NIOCore
import HTTPTypes
import Synchronization

/// A VOD file ready to answer: the open file (or its snapshot) with the response headers and
/// validators worked out once, and for manifests the gzip body made once, so a file the
/// `FileCache` holds costs a request no formatting or compression.
final class ServedFile: Sendable {
    let file: OpenFile
    let isManifest: Bool
    /// Content-Type, Cache-Control, Last-Modified, Accept-Ranges, ETag (and Vary for manifests).
    let headers: HTTPFields
    let etag: String
    /// The ETag of the gzip representation.
    let gzipETag: String
    private let gzipBody = Mutex<ByteBuffer?>(nil)
    /// For a file read whole, the fast path's response head as HTTP/1.1 bytes: the status line
    /// and header lines, without Date and the blank line that ends the head (for
    /// `RawRequestResponder`).
    let rawHead: ByteBuffer?

    init(file: OpenFile, path: Substring, configuration: OriginConfiguration) {
        self.file = file
        let type = MediaContentType(path: path)
        isManifest = type.isManifest
        var headers = HTTPFields()
        headers[.contentType] = type.mimeType
        headers[.cacheControl] = type.isManifest ? "public, max-age=\(configuration.vodManifestMaxAge)" : LiveResponder.immutable
        headers[.lastModified] = UTCTime.httpDate(file.modified)
        headers[.acceptRanges] = "bytes"
        if type.isManifest && configuration.gzip { headers[.vary] = "Accept-Encoding" }
        // Strong validator from size and modification time: stable across restarts while the
        // file is unchanged.
        etag = "\"\(String(file.size, radix: 16))-\(String(file.modified, radix: 16)).\(String(file.modifiedNanoseconds, radix: 16))\""
        gzipETag = String(etag.dropLast()) + "-gz\""
        headers[.eTag] = etag
        self.headers = headers
        if let contents = file.contents, contents.readableBytes == file.size {
            var fast = headers
            fast[.contentLength] = String(file.size)
            if configuration.cors { VODResponder.addCORS(to: &fast) }
            fast[.server] = OriginServer.serverName
            rawHead = RawHead.ok(fast, ended: false)
        } else {
            rawHead = nil
        }
    }

    /// The whole file compressed with gzip (made on first use, then kept).
    func gzipped() async throws -> ByteBuffer {
        if let made = gzipBody.withLock({ $0 }) { return made }
        var plain = try await file.read(offset: 0, count: file.size)
        let compressed = try plain.compress(with: .gzip)
        gzipBody.withLock { $0 = compressed }
        return compressed
    }
}

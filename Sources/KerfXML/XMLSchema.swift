internal import CLibXML2
import Synchronization

/// An XSD schema loaded with libxml2, for validating documents (MPDs against DASH-MPD.xsd).
///
/// Loading never fetches anything from the network; imports are resolved relative to the
/// schema file. Validation collects libxml2's messages instead of printing them.
public final class XMLSchema: @unchecked Sendable {
    private let schema: xmlSchemaPtr
    public let path: String
    /// libxml2 validation contexts are not thread-safe; one validation at a time.
    private let lock = Mutex(())

    public init(path: String) throws(XMLError) {
        self.path = path
        LibXML.initialize()
        guard let parser = xmlSchemaNewParserCtxt(path) else {
            throw XMLError(.schemaUnavailable, "cannot read schema", file: path)
        }
        defer { xmlSchemaFreeParserCtxt(parser) }
        let collector = MessageCollector()
        let opaque = Unmanaged.passUnretained(collector).toOpaque()
        xmlSchemaSetParserStructuredErrors(parser, collectStructured, opaque)
        guard let schema = xmlSchemaParse(parser) else {
            throw XMLError(.schemaUnavailable, "cannot load schema", details: collector.messages, file: path)
        }
        self.schema = schema
    }

    deinit { xmlSchemaFree(schema) }

    /// Validates a document held in memory.
    /// - Returns: the schema violations as "line N: message" strings; empty when valid.
    /// - Throws: `.malformed` when the bytes are not well-formed XML.
    public func validate(_ bytes: [UInt8], name: String = "document") throws(XMLError) -> [String] {
        let document = try XMLParsing.parse(bytes, name: name)
        defer { xmlFreeDoc(document) }
        return lock.withLock { _ in
            guard let context = xmlSchemaNewValidCtxt(schema) else { return ["cannot create validation context"] }
            defer { xmlSchemaFreeValidCtxt(context) }
            let collector = MessageCollector()
            xmlSchemaSetValidStructuredErrors(context, collectStructured, Unmanaged.passUnretained(collector).toOpaque())
            let result = xmlSchemaValidateDoc(context, document)
            if result != 0 && collector.messages.isEmpty { return ["document is not valid (libxml2 code \(result))"] }
            return collector.messages
        }
    }
}

/// Parsing with the safe options Kerf always uses: no network, no external entities, no DTD
/// loading, no entity substitution, libxml2's default limits on depth and size.
enum XMLParsing {
    static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    static func parse(_ bytes: [UInt8], name: String) throws(XMLError) -> xmlDocPtr {
        LibXML.initialize()
        let collector = MessageCollector()
        guard let context = xmlNewParserCtxt() else { throw XMLError(.library, "cannot create XML parser") }
        defer { xmlFreeParserCtxt(context) }
        xmlCtxtSetErrorHandler(context, collector)
        let document: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                // No forced encoding: the document's declaration (or BOM) decides.
                xmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), name, nil, options)
            }
        }
        // An undeclared prefix breaks Namespaces in XML well-formedness, which libxml2 tracks apart.
        guard let document, context.pointee.wellFormed != 0, context.pointee.nsWellFormed != 0 else {
            if let document { xmlFreeDoc(document) }
            throw XMLError(.malformed, "not well-formed XML", details: collector.messages, file: name)
        }
        return document
    }
}

final class MessageCollector {
    var messages: [String] = []
}

private func xmlCtxtSetErrorHandler(_ context: xmlParserCtxtPtr, _ collector: MessageCollector) {
    context.pointee.sax.pointee.serror = collectParserError
    context.pointee._private = Unmanaged.passUnretained(collector).toOpaque()
}

/// Errors raised while parsing (any domain: parser, namespace, I/O, DTD…). libxml2 passes the
/// parser context as user data for every one of them; the collector hangs off `_private`.
private let collectParserError: xmlStructuredErrorFunc = { opaque, error in
    guard let error, let opaque else { return }
    let context = opaque.assumingMemoryBound(to: xmlParserCtxt.self)
    guard let target = context.pointee._private else { return }
    append(error, to: Unmanaged<MessageCollector>.fromOpaque(target).takeUnretainedValue())
}

/// Errors raised by schema parsing and validation, whose user data is the collector itself.
private let collectStructured: xmlStructuredErrorFunc = { opaque, error in
    guard let error, let opaque else { return }
    append(error, to: Unmanaged<MessageCollector>.fromOpaque(opaque).takeUnretainedValue())
}

private func append(_ error: UnsafeMutablePointer<xmlError>, to collector: MessageCollector) {
    let message = (error.pointee.message.map { String(cString: $0) } ?? "unknown error")
        .split(whereSeparator: \.isNewline).joined(separator: " ")
    collector.messages.append("line \(error.pointee.line): \(message)")
}

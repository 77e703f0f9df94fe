internal import CLibXML2
import KerfCore

/// Reads XML into `XMLElement` trees with libxml2, safely: no network access, no external
/// entities or DTD loading, no entity substitution, libxml2's default depth and size limits
/// (no XML_PARSE_HUGE). Qualified names and namespace declarations are kept as written, so a
/// document read and serialised again keeps its meaning.
public enum XMLReader {
    /// Longest single tag accepted (attributes included).
    public static let maxTagBytes = 64 << 10

    /// Parses `bytes`.
    /// - Throws: `XMLError(.malformed)` with libxml2's messages when not well-formed;
    ///   `.tooLarge` beyond `maxBytes`, or for a tag longer than `maxTagBytes`.
    public static func read(_ bytes: [UInt8], name: String = "document", maxBytes: Int = 64 << 20) throws(XMLError) -> XMLElement {
        guard bytes.count <= maxBytes else {
            throw XMLError(.tooLarge, "document is \(bytes.count) bytes, over the \(maxBytes)-byte limit", file: name)
        }
        // libxml2 checks duplicate attributes pairwise: bound the length of any one tag.
        // Comments and CDATA sections are not tags: their length is libxml2's to bound.
        var index = 0, tagStart: Int? = nil
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                // Only between tags: a "<!--" inside a processing instruction or a declaration
                // is not a comment, and must not hide the tag after it from the bound.
                if tagStart == nil, let end = skipped(bytes, at: index, opening: "<!--", closing: "-->")
                    ?? skipped(bytes, at: index, opening: "<![CDATA[", closing: "]]>") {
                    index = end
                    continue
                }
                tagStart = index
            } else if byte == UInt8(ascii: ">") {
                tagStart = nil
            } else if let start = tagStart, index - start > maxTagBytes {
                throw XMLError(.tooLarge, "a tag is longer than \(maxTagBytes) bytes", file: name)
            }
            index += 1
        }
        let document = try XMLParsing.parse(bytes, name: name)
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else {
            throw XMLError(.malformed, "document has no root element", file: name)
        }
        if let dtd = document.pointee.intSubset, dtd.pointee.children != nil {
            // Entity declarations are not expanded (no XML_PARSE_NOENT); refuse DTDs outright so a
            // "billion laughs" or external-entity document is never interpreted.
            throw XMLError(.malformed, "documents with a DTD are not accepted", file: name)
        }
        return element(root)
    }

    /// When `opening` starts at `index`, the index after the first `closing` (the end of the
    /// bytes when there is none); else nil.
    private static func skipped(_ bytes: [UInt8], at index: Int, opening: String, closing: String) -> Int? {
        let open = Array(opening.utf8), close = Array(closing.utf8)
        guard bytes.count - index >= open.count, bytes[index..<index + open.count].elementsEqual(open) else { return nil }
        var position = index + open.count
        while position + close.count <= bytes.count {
            if bytes[position..<position + close.count].elementsEqual(close) { return position + close.count }
            position += 1
        }
        return bytes.count
    }

    private static func element(_ node: xmlNodePtr) -> XMLElement {
        var result = XMLElement(qualifiedName(node.pointee.name, node.pointee.ns))
        var declaration = node.pointee.nsDef
        while let ns = declaration {
            let prefix = string(ns.pointee.prefix)
            result.attributes.append((name: prefix.map { "xmlns:\($0)" } ?? "xmlns", value: string(ns.pointee.href) ?? ""))
            declaration = ns.pointee.next
        }
        var property = node.pointee.properties
        while let attribute = property {
            let value = xmlNodeListGetString(node.pointee.doc, attribute.pointee.children, 1)
            result.attributes.append((name: qualifiedName(attribute.pointee.name, attribute.pointee.ns),
                                      value: value.map { String(cString: $0) } ?? ""))
            if let value { kerf_xml_free(value) }
            property = attribute.pointee.next
        }
        var text = ""
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                result.children.append(element(current))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { text += String(cString: content) }
            default:
                break  // comments, processing instructions, entity references: not part of the model
            }
            child = current.pointee.next
        }
        if result.children.isEmpty {
            let trimmed = text.trimming { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            result.text = trimmed.isEmpty ? nil : trimmed
        }
        return result
    }

    private static func qualifiedName(_ name: UnsafePointer<xmlChar>?, _ ns: xmlNsPtr?) -> String {
        let local = string(name) ?? ""
        if let prefix = ns.flatMap({ string($0.pointee.prefix) }) { return "\(prefix):\(local)" }
        return local
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

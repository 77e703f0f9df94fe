internal import CLibXML2

/// Serialises an `XMLElement` tree with libxml2: UTF-8, an XML declaration, two-space
/// indentation, escaping by the library.
public enum XMLDocument {
    /// - Parameter namespaces: prefix → URI declared on the root ("" for the default namespace).
    public static func serialize(_ root: XMLElement, namespaces: [(prefix: String, uri: String)] = []) throws(XMLError) -> [UInt8] {
        LibXML.initialize()
        guard let document = xmlNewDoc("1.0") else { throw XMLError(.library, "cannot create XML document") }
        defer { xmlFreeDoc(document) }
        let node = build(root, in: document)
        for (prefix, uri) in namespaces {
            let ns = xmlNewNs(node, uri, prefix.isEmpty ? nil : prefix)
            if prefix.isEmpty { xmlSetNs(node, ns) }
        }
        xmlDocSetRootElement(document, node)
        var buffer: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpFormatMemoryEnc(document, &buffer, &size, "UTF-8", 1)
        guard let buffer else { throw XMLError(.library, "cannot serialise XML document") }
        defer { kerf_xml_free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    private static func build(_ element: XMLElement, in document: xmlDocPtr) -> xmlNodePtr {
        let node = xmlNewDocNode(document, nil, element.name, nil)!
        for attribute in element.attributes {
            xmlNewProp(node, attribute.name, attribute.value)
        }
        if let text = element.text {
            xmlNodeAddContent(node, text)  // escapes &, <, >
        }
        for child in element.children {
            xmlAddChild(node, build(child, in: document))
        }
        return node
    }
}

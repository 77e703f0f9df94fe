/// An XML element as a Swift value: name, attributes in the order given, children, text.
///
/// Manifest writers build a tree of these; `XMLDocument` serialises it through libxml2, which
/// does the escaping. Attribute order is preserved so output is deterministic.
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String?

    public init(_ name: String, _ attributes: [(String, String?)] = [], children: [XMLElement] = [], text: String? = nil) {
        self.name = name
        self.attributes = attributes.compactMap { pair in pair.1.map { (name: pair.0, value: $0) } }
        self.children = children
        self.text = text
    }

    /// Sets (or replaces) an attribute; `nil` removes it.
    public mutating func set(_ name: String, _ value: String?) {
        attributes.removeAll { $0.name == name }
        if let value { attributes.append((name: name, value: value)) }
    }

    /// The name without its namespace prefix.
    public var localName: String {
        name.firstIndex(of: ":").map { String(name[name.index(after: $0)...]) } ?? name
    }

    /// Child elements with this local name.
    public func children(named local: String) -> [XMLElement] { children.filter { $0.localName == local } }

    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    public mutating func append(_ child: XMLElement) { children.append(child) }

    public static func == (lhs: XMLElement, rhs: XMLElement) -> Bool {
        lhs.name == rhs.name && lhs.text == rhs.text && lhs.children == rhs.children
            && lhs.attributes.map(\.name) == rhs.attributes.map(\.name)
            && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }
}

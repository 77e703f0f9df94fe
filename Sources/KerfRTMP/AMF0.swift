import NIOCore

/// Action Message Format 0 values, as RTMP commands (`connect`, `publish`…) and `onMetaData`
/// carry them. Decoding is bounded: nesting depth, string and collection sizes, so a hostile
/// publisher cannot make the server recurse or allocate without limit.
enum AMF0: Equatable, Sendable {
    case number(Double)
    case boolean(Bool)
    case string(String)
    case object([Property])
    case null
    case undefined
    case ecmaArray([Property])
    case strictArray([AMF0])
    case date(Double)

    struct Property: Equatable, Sendable {
        var key: String
        var value: AMF0
    }

    static let maximumDepth = 16
    static let maximumItems = 4096
    /// Values one decode may produce in all (nested ones included).
    static let maximumTotal = 65_536

    /// The value of `key` in an object or ECMA array.
    subscript(key: String) -> AMF0? {
        switch self {
        case .object(let properties), .ecmaArray(let properties): properties.first { $0.key == key }?.value
        default: nil
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }

    /// Decodes every value in `buffer` (a command message's body).
    static func decodeAll(_ buffer: ByteBuffer) throws(RTMPError) -> [AMF0] {
        var buffer = buffer
        var values: [AMF0] = []
        var budget = maximumTotal
        while buffer.readableBytes > 0 {
            values.append(try decode(&buffer, depth: 0, budget: &budget))
        }
        return values
    }

    static func decode(_ buffer: inout ByteBuffer, depth: Int) throws(RTMPError) -> AMF0 {
        var budget = maximumTotal
        return try decode(&buffer, depth: depth, budget: &budget)
    }

    private static func decode(_ buffer: inout ByteBuffer, depth: Int, budget: inout Int) throws(RTMPError) -> AMF0 {
        guard depth < maximumDepth else { throw RTMPError(.amf, "nested too deep") }
        budget -= 1
        guard budget >= 0 else { throw RTMPError(.amf, "too many values") }
        guard let marker = buffer.readInteger(as: UInt8.self) else { throw RTMPError(.amf, "truncated value") }
        switch marker {
        case 0x00:
            guard let bits = buffer.readInteger(as: UInt64.self) else { throw RTMPError(.amf, "truncated number") }
            return .number(Double(bitPattern: bits))
        case 0x01:
            guard let byte = buffer.readInteger(as: UInt8.self) else { throw RTMPError(.amf, "truncated boolean") }
            return .boolean(byte != 0)
        case 0x02:
            return .string(try shortString(&buffer))
        case 0x03:
            return .object(try properties(&buffer, depth: depth, budget: &budget))
        case 0x05:
            return .null
        case 0x06:
            return .undefined
        case 0x08:
            guard buffer.readInteger(as: UInt32.self) != nil else { throw RTMPError(.amf, "truncated ECMA array") }
            return .ecmaArray(try properties(&buffer, depth: depth, budget: &budget))
        case 0x0A:
            guard let count = buffer.readInteger(as: UInt32.self), count <= maximumItems else {
                throw RTMPError(.amf, "strict array too long or truncated")
            }
            var items: [AMF0] = []
            for _ in 0..<count { items.append(try decode(&buffer, depth: depth + 1, budget: &budget)) }
            return .strictArray(items)
        case 0x0B:
            guard let bits = buffer.readInteger(as: UInt64.self), buffer.readInteger(as: Int16.self) != nil else {
                throw RTMPError(.amf, "truncated date")
            }
            return .date(Double(bitPattern: bits))
        case 0x0C:
            guard let length = buffer.readInteger(as: UInt32.self), length <= 1 << 20,
                  let text = buffer.readString(length: Int(length)) else { throw RTMPError(.amf, "long string too long or truncated") }
            return .string(text)
        default:
            throw RTMPError(.amf, "unsupported AMF0 type \(marker)")
        }
    }

    private static func shortString(_ buffer: inout ByteBuffer) throws(RTMPError) -> String {
        guard let length = buffer.readInteger(as: UInt16.self), let text = buffer.readString(length: Int(length)) else {
            throw RTMPError(.amf, "truncated string")
        }
        return text
    }

    /// Key/value pairs up to the object end marker (an empty key and 0x09).
    private static func properties(_ buffer: inout ByteBuffer, depth: Int, budget: inout Int) throws(RTMPError) -> [Property] {
        var properties: [Property] = []
        while true {
            let key = try shortString(&buffer)
            if key.isEmpty, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0x09 {
                buffer.moveReaderIndex(forwardBy: 1)
                return properties
            }
            guard properties.count < maximumItems else { throw RTMPError(.amf, "too many properties") }
            properties.append(Property(key: key, value: try decode(&buffer, depth: depth + 1, budget: &budget)))
        }
    }

    /// Appends the value's encoding.
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .number(let value):
            buffer.writeInteger(UInt8(0x00))
            buffer.writeInteger(value.bitPattern)
        case .boolean(let value):
            buffer.writeInteger(UInt8(0x01))
            buffer.writeInteger(UInt8(value ? 1 : 0))
        case .string(let value):
            if value.utf8.count > 0xFFFF {
                buffer.writeInteger(UInt8(0x0C))
                buffer.writeInteger(UInt32(value.utf8.count))
            } else {
                buffer.writeInteger(UInt8(0x02))
                buffer.writeInteger(UInt16(value.utf8.count))
            }
            buffer.writeString(value)
        case .object(let properties):
            buffer.writeInteger(UInt8(0x03))
            Self.encode(properties, into: &buffer)
        case .null:
            buffer.writeInteger(UInt8(0x05))
        case .undefined:
            buffer.writeInteger(UInt8(0x06))
        case .ecmaArray(let properties):
            buffer.writeInteger(UInt8(0x08))
            buffer.writeInteger(UInt32(properties.count))
            Self.encode(properties, into: &buffer)
        case .strictArray(let items):
            buffer.writeInteger(UInt8(0x0A))
            buffer.writeInteger(UInt32(items.count))
            for item in items { item.encode(into: &buffer) }
        case .date(let value):
            buffer.writeInteger(UInt8(0x0B))
            buffer.writeInteger(value.bitPattern)
            buffer.writeInteger(Int16(0))
        }
    }

    private static func encode(_ properties: [Property], into buffer: inout ByteBuffer) {
        for property in properties {
            buffer.writeInteger(UInt16(property.key.utf8.count))
            buffer.writeString(property.key)
            property.value.encode(into: &buffer)
        }
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(UInt8(0x09))
    }
}

import KerfCore

/// A publisher's timed data message: `onTextData` (timed text, any time) or an `onMetaData`
/// sent again while publishing (a metadata update), whose scalar properties (strings, numbers,
/// booleans; names up to 64 bytes, values up to 1,024) the channel carries as a timed ID3 tag.
/// It applies at the message's timestamp on the stream's timeline.
package struct RTMPTextData: Sendable, Equatable {
    /// "onTextData" or "onMetaData".
    package var handler: String
    package var properties: [(name: String, value: String)]
    /// When it applies on the stream's timeline (the FLV tags' milliseconds).
    package var time: MediaTime

    package init(handler: String, properties: [(name: String, value: String)], time: MediaTime) {
        self.handler = handler
        self.properties = properties
        self.time = time
    }

    package static func == (a: RTMPTextData, b: RTMPTextData) -> Bool {
        a.handler == b.handler && a.time == b.time && a.properties.map(\.name) == b.properties.map(\.name)
            && a.properties.map(\.value) == b.properties.map(\.value)
    }

    /// The data of a message's values (`"onTextData", {…}`); nil for another handler or one
    /// without an object (or ECMA array) of properties.
    static func parse(_ values: [AMF0], timestamp: UInt32) -> RTMPTextData? {
        guard let handler = values.first?.string, ["onTextData", "onMetaData"].contains(handler), values.count >= 2 else { return nil }
        let properties: [AMF0.Property]
        switch values[1] {
        case .object(let list), .ecmaArray(let list): properties = list
        default: return nil
        }
        let scalars = properties.prefix(64).compactMap { property -> (name: String, value: String)? in
            let value: String
            switch property.value {
            case .string(let text): value = text
            case .number(let number) where number.isFinite:
                value = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .boolean(let flag): value = flag ? "true" : "false"
            default: return nil
            }
            guard !property.key.isEmpty, property.key.utf8.count <= 64, value.utf8.count <= 1024 else { return nil }
            return (property.key, value)
        }
        return RTMPTextData(handler: handler, properties: scalars, time: MediaTime(value: Int64(timestamp), timescale: 1000))
    }
}

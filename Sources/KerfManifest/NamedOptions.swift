/// An option set written as a list of names in options and configuration files
/// (`--ad-markers daterange,cue`, `dash-events: [period, inband]`).
public protocol NamedOptions: OptionSet, Sendable where Element == Self {
    /// Every name and the option it stands for, in the order help texts list them.
    static var names: [(name: String, option: Self)] { get }
}

extension NamedOptions {
    /// The names, for messages ("daterange, cue").
    public static var nameList: String { names.map(\.name).joined(separator: ", ") }

    /// The options `list` names (comma-separated, spaces ignored).
    /// - Returns: nil when the list is empty; `.failure` with the first name that is not one.
    public static func parse(_ list: [String]) -> Result<Self, UnknownOptionName>? {
        var options: Self = []
        for name in list.map({ $0.filter { !$0.isWhitespace } }) where !name.isEmpty {
            guard let option = names.first(where: { $0.name == name })?.option else { return .failure(UnknownOptionName(name: name)) }
            options.insert(option)
        }
        return options.isEmpty ? nil : .success(options)
    }

    /// `parse` of a comma-separated list.
    public static func parse(_ list: String) -> Result<Self, UnknownOptionName>? {
        parse(list.split(separator: ",").map(String.init))
    }
}

/// A name a `NamedOptions` list does not know.
public struct UnknownOptionName: Error, Sendable {
    public var name: String
}

extension Presentation.AdMarkers: NamedOptions {
    public static let names: [(name: String, option: Self)] = [("daterange", .dateRange), ("cue", .cue)]
}

extension Presentation.DASHEvents: NamedOptions {
    public static let names: [(name: String, option: Self)] = [("period", .period), ("inband", .inband)]
}

import KerfCore

/// Why `kerf serve` cannot start: a bad configuration, a root that is not a folder, an address
/// that cannot be bound.
public typealias OriginError = InputError

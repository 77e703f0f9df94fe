internal import CLibXML2

/// Process-wide libxml2 set-up. `xmlInitParser` must run once before libxml2 is used from
/// several threads: without it, its globals (dictionary random seed, mutexes) are initialised
/// lazily and concurrent first uses can deadlock.
enum LibXML {
    private static let initialized: Bool = {
        xmlInitParser()
        // Schema imports and DTDs never reach the network (file paths only).
        xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader)
        // Errors no context handler claims are dropped instead of printed to stderr.
        xmlSetStructuredErrorFunc(nil, ignoreError)
        return true
    }()

    /// Idempotent and thread-safe (Swift initialises `initialized` exactly once).
    static func initialize() {
        _ = initialized
    }
}

private let ignoreError: xmlStructuredErrorFunc = { _, _ in }

internal import CFFmpeg
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// libavfilter, loaded on first use with `dlopen`.
///
/// Linking libavfilter would load it and the ~150 libraries it depends on into every run of
/// every command; only re-encoding that needs a filter (deinterlacing, GPU scaling) pays for it.
struct FilterLibrary: @unchecked Sendable {
    typealias GraphAlloc = @convention(c) () -> UnsafeMutablePointer<AVFilterGraph>?
    typealias GraphFree = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<AVFilterGraph>?>?) -> Void
    typealias GetByName = @convention(c) (UnsafePointer<CChar>?) -> UnsafePointer<AVFilter>?
    typealias CreateFilter = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<AVFilterContext>?>?, UnsafePointer<AVFilter>?,
                                             UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?,
                                             UnsafeMutablePointer<AVFilterGraph>?) -> Int32
    typealias Parse = @convention(c) (UnsafeMutablePointer<AVFilterGraph>?, UnsafePointer<CChar>?,
                                      UnsafeMutablePointer<UnsafeMutablePointer<AVFilterInOut>?>?,
                                      UnsafeMutablePointer<UnsafeMutablePointer<AVFilterInOut>?>?) -> Int32
    typealias Link = @convention(c) (UnsafeMutablePointer<AVFilterContext>?, UInt32, UnsafeMutablePointer<AVFilterContext>?, UInt32) -> Int32
    typealias InOutFree = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<AVFilterInOut>?>?) -> Void
    typealias Configure = @convention(c) (UnsafeMutablePointer<AVFilterGraph>?, UnsafeMutableRawPointer?) -> Int32
    typealias AddFrame = @convention(c) (UnsafeMutablePointer<AVFilterContext>?, UnsafeMutablePointer<AVFrame>?, Int32) -> Int32
    typealias GetFrame = @convention(c) (UnsafeMutablePointer<AVFilterContext>?, UnsafeMutablePointer<AVFrame>?) -> Int32
    typealias GetTimeBase = @convention(c) (UnsafePointer<AVFilterContext>?) -> AVRational

    let graphAlloc: GraphAlloc
    let graphFree: GraphFree
    let getByName: GetByName
    let createFilter: CreateFilter
    let parse: Parse
    let link: Link
    let inOutFree: InOutFree
    let configure: Configure
    let addFrame: AddFrame
    let getFrame: GetFrame
    let getTimeBase: GetTimeBase

    /// The soname of the libavfilter matching the headers Kerf was built against.
    static let soname = "libavfilter.so.\(LIBAVFILTER_VERSION_MAJOR)"

    private static let loaded = Mutex<Result<FilterLibrary, MediaError>?>(nil)

    /// The library, loaded once.
    /// - Throws: `.codecUnavailable` when libavfilter cannot be loaded or lacks a function.
    static func shared() throws(MediaError) -> FilterLibrary {
        let result = loaded.withLock { cached -> Result<FilterLibrary, MediaError> in
            if let cached { return cached }
            let result = Result { () throws(MediaError) in try FilterLibrary() }
            cached = result
            return result
        }
        return try result.get()
    }

    private init() throws(MediaError) {
        guard let handle = dlopen(Self.soname, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            throw MediaError(.codecUnavailable, "libavfilter is needed and cannot be loaded",
                             libraryMessage: "\(reason) (apt-get install libavfilter\(LIBAVFILTER_VERSION_MAJOR))")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(MediaError) -> T {
            guard let address = dlsym(handle, name) else {
                throw MediaError(.codecUnavailable, "libavfilter has no \(name)", function: "dlsym")
            }
            return unsafeBitCast(address, to: type)
        }
        graphAlloc = try symbol("avfilter_graph_alloc", as: GraphAlloc.self)
        graphFree = try symbol("avfilter_graph_free", as: GraphFree.self)
        getByName = try symbol("avfilter_get_by_name", as: GetByName.self)
        createFilter = try symbol("avfilter_graph_create_filter", as: CreateFilter.self)
        parse = try symbol("avfilter_graph_parse2", as: Parse.self)
        link = try symbol("avfilter_link", as: Link.self)
        inOutFree = try symbol("avfilter_inout_free", as: InOutFree.self)
        configure = try symbol("avfilter_graph_config", as: Configure.self)
        addFrame = try symbol("av_buffersrc_add_frame_flags", as: AddFrame.self)
        getFrame = try symbol("av_buffersink_get_frame", as: GetFrame.self)
        getTimeBase = try symbol("av_buffersink_get_time_base", as: GetTimeBase.self)
    }
}

import Hummingbird
import Metrics
import Prometheus

/// The origin's metrics, exposed at `/metrics` in Prometheus text format: Hummingbird's
/// request counters and timers by route, method and status (through swift-metrics), bytes
/// served by route, and per live channel the ingest bitrate, bytes, segments produced,
/// reconnects and the age of the last segment.
enum OriginMetrics {
    /// The process-wide registry, made the swift-metrics backend on first use (once: the
    /// metrics system can be bootstrapped only once per process).
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    static let bytesServed: [String: Prometheus.Counter] = ["vod", "live", "other"].reduce(into: [:]) { counters, route in
        counters[route] = registry.makeCounter(name: "kerf_http_response_bytes_total", labels: [("route", route)],
                                               help: "Bytes of response bodies sent, by route")
    }

    /// Per-channel metrics, created with the channel.
    struct Channel: Sendable {
        let segments: Prometheus.Counter
        let reconnects: Prometheus.Counter
        let ingestBytes: Prometheus.Counter
        let ingestBitRate: Prometheus.Gauge
        let lastSegmentAge: Prometheus.Gauge
        let listingLatencyP50: Prometheus.Gauge
        let listingLatencyP99: Prometheus.Gauge

        init(name: String) {
            let labels = [("channel", name)]
            segments = registry.makeCounter(name: "kerf_live_segments_total", labels: labels,
                                            help: "Media segments produced (all renditions)")
            reconnects = registry.makeCounter(name: "kerf_live_reconnects_total", labels: labels,
                                              help: "Times the input was reconnected")
            ingestBytes = registry.makeCounter(name: "kerf_live_ingest_bytes_total", labels: labels,
                                               help: "Bytes of media packets read from the input")
            ingestBitRate = registry.makeGauge(name: "kerf_live_ingest_bitrate_bps", labels: labels,
                                               help: "Input bit rate over the last published segment")
            lastSegmentAge = registry.makeGauge(name: "kerf_live_last_segment_age_seconds", labels: labels,
                                                help: "Seconds since the last segment was published")
            listingLatencyP50 = registry.makeGauge(name: "kerf_live_listing_latency_p50_seconds", labels: labels,
                                                   help: "Median time from reading the packet that completes a segment to its listing (last 1024)")
            listingLatencyP99 = registry.makeGauge(name: "kerf_live_listing_latency_p99_seconds", labels: labels,
                                                   help: "99th percentile of the same")
        }
    }
}

/// Counts the body bytes of GET responses by route (`/vod`, `/live`, the rest).
struct ByteCountMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        if request.method == .get, let length = response.headers[.contentLength].flatMap({ Int($0) }), length > 0 {
            let path = request.uri.path
            let route = path.hasPrefix("/vod/") ? "vod" : path.hasPrefix("/live/") ? "live" : "other"
            OriginMetrics.bytesServed[route]?.increment(by: Int64(length))
        }
        return response
    }
}

import Hummingbird
import Metrics
import Prometheus
import Synchronization

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

    /// Connections answered 503 because `max-connections` were open.
    static let connectionsRefused = registry.makeCounter(
        descriptor: describe("kerf_http_connections_refused_total", "Connections refused because max-connections were open"), labels: [])

    /// A metric's name (used whole, no unit suffix added) and help text.
    static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Requests by route, method and status (both the router's and the fast path's).
    static let requests = RequestCollectors()

    /// Router answers whose body went with `sendfile` from the file (`SendfileBody`).
    static let sendfileResponses = registry.makeCounter(
        descriptor: describe("kerf_http_sendfile_responses_total", "Answers whose body was sent with sendfile from the file on disk"), labels: [])

    /// Connections closed because a file shrank while it was being sent.
    static let filesShrank = registry.makeCounter(
        descriptor: describe("kerf_http_files_shrank_total", "Connections closed because a file shrank while it was being sent"), labels: [])

    static let bytesServed: [String: Prometheus.Counter] = ["vod", "live", "other"].reduce(into: [:]) { counters, route in
        counters[route] = registry.makeCounter(descriptor: describe("kerf_http_response_bytes_total", "Bytes of response bodies sent, by route"), labels: [("route", route)])
    }

}

/// Counts requests and their handling time by route, method and status
/// (`kerf_http_requests_total`, `kerf_http_request_duration_seconds`), with the collectors of each
/// combination made once and found again under one lock per request.
final class RequestCollectors: Sendable {
    private struct Key: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: Int
    }

    private let byKey = Mutex<[Key: (Prometheus.Counter, DurationHistogram)]>([:])

    func record(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let (counter, histogram) = byKey.withLock { collectors in
            if let found = collectors[key] { return found }
            let labels = [("route", key.route), ("method", key.method.rawValue), ("status", String(key.status))]
            let made = (OriginMetrics.registry.makeCounter(descriptor: OriginMetrics.describe("kerf_http_requests_total", "HTTP requests answered"),
                                                           labels: labels),
                        OriginMetrics.registry.makeDurationHistogram(
                            descriptor: OriginMetrics.describe("kerf_http_request_duration_seconds",
                                                               "Time from a request's head to its response's head"),
                            labels: labels,
                            buckets: [.microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100),
                                      .milliseconds(500), .seconds(2)]))
            collectors[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }
}

/// Records every request routed by Hummingbird in `OriginMetrics.requests`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        defer {
            OriginMetrics.requests.record(route: context.endpointPath ?? "none", method: request.method, status: status,
                                          duration: ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            throw error
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

import Prometheus

/// One live channel's Prometheus metrics, labelled with the channel's name: what it ingests,
/// what it produces and how fast it lists and answers. The owner of the registry (the origin)
/// exposes them; the channel only updates them.
package struct ChannelMetrics: Sendable {
    package let segments: Prometheus.Counter
    package let reconnects: Prometheus.Counter
    package let ingestBytes: Prometheus.Counter
    package let ingestBitRate: Prometheus.Gauge
    package let lastSegmentAge: Prometheus.Gauge
    package let listingLatencyP50: Prometheus.Gauge
    package let listingLatencyP99: Prometheus.Gauge
    package let partAnswerLatencyP50: Prometheus.Gauge
    package let partAnswerLatencyP99: Prometheus.Gauge
    package let heldRequests: Prometheus.Gauge
    package let largestReleaseRequests: Prometheus.Gauge
    package let largestReleaseSeconds: Prometheus.Gauge

    package init(name: String, registry: PrometheusCollectorRegistry) {
        let labels = [("channel", name)]
        func counter(_ metric: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: MetricNameDescriptor(metricName: metric, unitName: "", helpText: help), labels: labels)
        }
        func gauge(_ metric: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: metric, unitName: "", helpText: help), labels: labels)
        }
        segments = counter("kerf_live_segments_total", "Media segments produced (all renditions)")
        reconnects = counter("kerf_live_reconnects_total", "Times the input was reconnected")
        ingestBytes = counter("kerf_live_ingest_bytes_total", "Bytes of media packets read from the input")
        ingestBitRate = gauge("kerf_live_ingest_bitrate_bps", "Input bit rate over the last published segment")
        lastSegmentAge = gauge("kerf_live_last_segment_age_seconds", "Seconds since the last segment was published")
        listingLatencyP50 = gauge("kerf_live_listing_latency_p50_seconds",
                                  "Median time from reading the packet that completes a segment to its listing (last 1024)")
        listingLatencyP99 = gauge("kerf_live_listing_latency_p99_seconds", "99th percentile of the same")
        partAnswerLatencyP50 = gauge("kerf_live_part_answer_latency_p50_seconds",
                                     "Median time from reading the packet that completes a video part to the requests held for it being answered (last 1024)")
        partAnswerLatencyP99 = gauge("kerf_live_part_answer_latency_p99_seconds", "99th percentile of the same")
        heldRequests = gauge("kerf_live_held_requests", "LL-HLS requests held for a part or segment")
        largestReleaseRequests = gauge("kerf_live_largest_release_requests",
                                       "Held requests answered by the publication that answered most (last 1024 that answered any)")
        largestReleaseSeconds = gauge("kerf_live_largest_release_seconds",
                                      "Time from that publication until every event loop had handed its held requests their answers")
    }

    /// Metrics nobody exposes (a registry of their own): for channels made outside an origin.
    package static func unregistered(name: String) -> ChannelMetrics {
        ChannelMetrics(name: name, registry: PrometheusCollectorRegistry())
    }
}

import CoreMetrics
import Foundation
import HTTPServer
import Pipeline
import Prometheus
import RedisClient

/// A worker's operator endpoints: `GET /metrics` (Prometheus text format, through swift-prometheus) and
/// `GET /health/queue` (JSON, 503 when unhealthy). The pipeline counts through swift-metrics; this
/// bootstraps the Prometheus backend and adds the gauges read at scrape time.
final class MetricsEndpoint: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let server: BlockingHTTPServer

    /// Call before any worker starts, so that every counter is Prometheus'.
    init(host: String, port: Int, endpoint: RedisEndpoint, queues: [String], workers: WorkerPool) throws {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120].map { Duration.milliseconds(Int64($0 * 1000)) }
        MetricsSystem.bootstrap(factory)
        let registry = self.registry
        server = try BlockingHTTPServer(host: host, port: UInt16(port)) { request in
            switch (request.method, request.path.split(separator: "?").first.map(String.init) ?? request.path) {
            case ("GET", "/metrics"):
                Self.refreshGauges(registry, endpoint: endpoint, queues: queues, workers: workers)
                return HTTPServerResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                          body: registry.emitToBuffer())
            case ("GET", "/health/queue"):
                return Self.health(endpoint: endpoint, queues: queues, workers: workers)
            default:
                return HTTPServerResponse(status: 404, headers: ["Content-Type": "text/plain"], body: Array("try /metrics or /health/queue\n".utf8))
            }
        }
    }

    var port: UInt16 { server.port }

    func stop() { server.stop() }

    /// Queue lengths from Redis and this process's workers, as they are at the moment of the scrape.
    private static func refreshGauges(_ registry: PrometheusCollectorRegistry, endpoint: RedisEndpoint, queues: [String], workers: WorkerPool) {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tts_active_workers", unitName: "", helpText: "Workers running in this process"))
            .set(Double(workers.identities.count))
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tts_busy_workers", unitName: "", helpText: "Workers of this process holding a job"))
            .set(Double(workers.busyWorkers))
        guard let lengths = try? queueLengths(endpoint: endpoint, queues: queues) else { return }
        for (queue, length) in lengths {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tts_queue_length", unitName: "", helpText: "Jobs waiting in the queue"),
                               labels: [("queue", queue)]).set(Double(length))
        }
    }

    private static func queueLengths(endpoint: RedisEndpoint, queues: [String]) throws -> [(String, Int)] {
        let connection = try RedisConnection(endpoint, connectTimeout: 2, commandTimeout: 2)
        let replies = try connection.pipeline(queues.map { ["LLEN", "rq:queue:\($0)"].map { Array($0.utf8) } })
        return zip(queues, replies.map { $0.int ?? 0 }).map { ($0, $1) }
    }

    private static func health(endpoint: RedisEndpoint, queues: [String], workers: WorkerPool) -> HTTPServerResponse {
        let lengths = try? queueLengths(endpoint: endpoint, queues: queues)
        let running = workers.fatalError == nil ? workers.identities.count : 0
        let statistics = workers.statistics
        let queued = lengths?.reduce(0) { $0 + $1.1 } ?? 0
        let queuesHealthy = lengths != nil && (queued == 0 || running > 0)
        let healthy = lengths != nil && queuesHealthy && running > 0
        let body: [String: Any] = [
            "redis_connected": lengths != nil,
            "queues_healthy": queuesHealthy,
            "workers_running": running,
            "avg_job_duration": (statistics.averageSeconds * 1000).rounded() / 1000,
            "error_rate": (statistics.errorRate * 1000).rounded() / 1000,
            "jobs_completed": statistics.completed,
            "jobs_failed": statistics.failed,
            "queues": Dictionary(uniqueKeysWithValues: (lengths ?? []).map { ($0.0, $0.1) }),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPServerResponse(status: healthy ? 200 : 503, headers: ["Content-Type": "application/json"], body: Array(data))
    }
}

import CoreMetrics
import MrshControl
import MrshPlan
import Prometheus
import Synchronization

/// `/metrics`: the coordinator's metrics in Prometheus text format, through swift-metrics' API on a
/// swift-prometheus registry of its own (no process-wide `MetricsSystem.bootstrap`, so several coordinators
/// in one process, as in tests, do not share numbers).
///
/// Counted as attempts and runs end (fed by `JobHistory`): `mrsh_jobs_total{state}`,
/// `mrsh_task_attempts_total{phase,outcome}`, `mrsh_bytes_read_total`, `mrsh_bytes_shuffled_total`,
/// `mrsh_bytes_written_total` (winning attempts), `mrsh_task_duration_seconds{phase}` (a histogram). Set at
/// each scrape: `mrsh_jobs_running`, `mrsh_tasks{state}` (attempts of the kept runs by state), `mrsh_workers`,
/// `mrsh_worker_heartbeat_age_seconds{worker}`, `mrsh_worker_served_bytes{worker}` (bytes the worker's
/// shuffle server sent since it started, as it reported).
public final class StatusMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let bytesRead: CoreMetrics.Counter
    private let bytesShuffled: CoreMetrics.Counter
    private let bytesWritten: CoreMetrics.Counter
    private let jobsRunning: CoreMetrics.Gauge
    private let workers: CoreMetrics.Gauge
    /// Per-worker heartbeat gauges, by worker (removed when the worker is gone).
    private let heartbeats = Mutex<[String: Prometheus.Gauge]>([:])
    /// Per-worker bytes served, by worker (removed with the worker).
    private let served = Mutex<[String: Prometheus.Gauge]>([:])

    public init(history: JobHistory) {
        var configured = PrometheusMetricsFactory(registry: registry)
        configured.defaultDurationHistogramBuckets = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        let factory = configured
        self.factory = factory
        bytesRead = CoreMetrics.Counter(label: "mrsh_bytes_read_total", factory: factory)
        bytesShuffled = CoreMetrics.Counter(label: "mrsh_bytes_shuffled_total", factory: factory)
        bytesWritten = CoreMetrics.Counter(label: "mrsh_bytes_written_total", factory: factory)
        jobsRunning = CoreMetrics.Gauge(label: "mrsh_jobs_running", factory: factory)
        workers = CoreMetrics.Gauge(label: "mrsh_workers", factory: factory)
        let read = bytesRead
        let shuffled = bytesShuffled
        let written = bytesWritten
        history.onAttemptEnd { end in
            CoreMetrics.Counter(
                label: "mrsh_task_attempts_total", dimensions: [("phase", end.phase.rawValue), ("outcome", end.outcome.label)],
                factory: factory
            ).increment()
            CoreMetrics.Timer(label: "mrsh_task_duration_seconds", dimensions: [("phase", end.phase.rawValue)], factory: factory)
                .recordNanoseconds(Int64(max(0, end.seconds) * 1e9))
            guard end.outcome == .won, let c = end.counters else { return }
            switch end.phase {
            case .map:
                read.increment(by: c.bytesIn)
                if end.shuffled { shuffled.increment(by: c.bytesOut) } else { written.increment(by: c.bytesOut) }
            case .reduce:
                written.increment(by: c.bytesOut)
            }
        }
        history.onRunEnd { state in
            CoreMetrics.Counter(label: "mrsh_jobs_total", dimensions: [("state", state.label)], factory: factory).increment()
        }
        // Present from the start, at zero.
        for state in ["succeeded", "failed"] {
            CoreMetrics.Counter(label: "mrsh_jobs_total", dimensions: [("state", state)], factory: factory).increment(by: 0)
        }
    }

    /// The text of a scrape, after setting the gauges from `runs` and `workers`.
    public func scrape(runs: [JobHistory.Run], workers rows: [WorkerRow]) -> String {
        jobsRunning.record(runs.filter(\.isRunning).count)
        workers.record(rows.filter { $0.state != "lost" }.count)
        var byState: [String: Int] = ["running": 0, "succeeded": 0, "failed": 0, "killed": 0, "discarded": 0]
        for run in runs { for job in run.jobs { for a in job.attempts { byState[a.outcome.label, default: 0] += 1 } } }
        for (state, count) in byState {
            CoreMetrics.Gauge(label: "mrsh_tasks", dimensions: [("state", state)], factory: factory).record(count)
        }
        heartbeats.withLock { gauges in
            let names = Set(rows.compactMap { $0.heartbeatAge == nil ? nil : $0.name })
            for (name, gauge) in gauges where !names.contains(name) {
                registry.unregisterGauge(gauge)
                gauges.removeValue(forKey: name)
            }
            for row in rows {
                guard let age = row.heartbeatAge else { continue }
                let gauge =
                    gauges[row.name]
                    ?? registry.makeGauge(name: "mrsh_worker_heartbeat_age_seconds", labels: [("worker", row.name)])
                gauges[row.name] = gauge
                gauge.set(age)
            }
        }
        served.withLock { gauges in
            let names = Set(rows.compactMap { $0.servedBytes == nil ? nil : $0.name })
            for (name, gauge) in gauges where !names.contains(name) {
                registry.unregisterGauge(gauge)
                gauges.removeValue(forKey: name)
            }
            for row in rows {
                guard let bytes = row.servedBytes else { continue }
                let gauge =
                    gauges[row.name] ?? registry.makeGauge(name: "mrsh_worker_served_bytes", labels: [("worker", row.name)])
                gauges[row.name] = gauge
                gauge.set(Double(bytes))
            }
        }
        return registry.emitToString()
    }
}

//! Prometheus metrics: requests by route and status, latency histogram, pool state, the relay.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The process's metrics registry and the handles that update it.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    pool_max: Gauge<u64, AtomicU64>,
    pool_connections: Gauge<u64, AtomicU64>,
    pool_idle: Gauge<u64, AtomicU64>,
    ai_overhead: Histogram,
    webhook_deliveries: Family<OutcomeLabels, Counter>,
    meta_events_refused: Counter,
}

/// Labels of an outgoing webhook delivery attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let pool_max = Gauge::<u64, AtomicU64>::default();
        let pool_connections = Gauge::<u64, AtomicU64>::default();
        let pool_idle = Gauge::<u64, AtomicU64>::default();
        let ai_overhead = latency_histogram();
        let webhook_deliveries = Family::<OutcomeLabels, Counter>::default();
        let meta_events_refused = Counter::default();
        registry.register(
            "meta_events_refused",
            "Meta webhook events the store refused: acknowledged, kept in the audit log",
            meta_events_refused.clone(),
        );
        registry.register(
            "ai_answer_overhead_seconds",
            "Time the AI responder spends on an answer besides waiting on the provider",
            ai_overhead.clone(),
        );
        registry.register(
            "outgoing_webhook_attempts",
            "Outgoing webhook delivery attempts by outcome",
            webhook_deliveries.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            latency.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Largest number of database connections the pool opens",
            pool_max.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections currently open",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Open database connections not in use",
            pool_idle.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool_max,
            pool_connections,
            pool_idle,
            ai_overhead,
            webhook_deliveries,
            meta_events_refused,
        }
    }
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// Counts one Meta event the store refused.
    pub fn meta_event_refused(&self) {
        self.meta_events_refused.inc();
    }

    /// Records the responder's own time for one answer.
    pub fn ai_overhead(&self, overhead: std::time::Duration) {
        self.ai_overhead.observe(overhead.as_secs_f64());
    }

    /// Counts one outgoing webhook attempt (`delivered`, `retry`, `dead`).
    pub fn webhook_attempt(&self, outcome: &str) {
        self.webhook_deliveries
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Serves the relay's figures too (several hub processes).
    pub fn register_relay(&mut self, relay: &RelayMetrics) {
        let registry = &mut self.registry;
        registry.register(
            "relay_up",
            "1 while this process hears the other hub processes through Redis",
            relay.up.clone(),
        );
        registry.register(
            "relay_lag_seconds",
            "From an event's commit on another process to its arrival here",
            relay.lag.clone(),
        );
        registry.register(
            "relay_gap_fills",
            "Gaps in the relayed events filled from the database",
            relay.gap_fills.clone(),
        );
        registry.register(
            "relay_filled_events",
            "Events read from the database to fill gaps in the relay",
            relay.filled.clone(),
        );
        registry.register(
            "relay_dropped_messages",
            "Messages to the other processes dropped while Redis was unreachable",
            relay.dropped.clone(),
        );
        registry.register(
            "relay_rejected_messages",
            "Messages from Redis refused: unsigned, wrongly signed, stale or replayed",
            relay.rejected.clone(),
        );
    }

    /// Renders every metric in the Prometheus text format, pool state read now.
    pub fn render(&self, pool: (u32, u32, u32)) -> Result<String, std::fmt::Error> {
        self.pool_max.set(u64::from(pool.0));
        self.pool_connections.set(u64::from(pool.1));
        self.pool_idle.set(u64::from(pool.2));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The relay's figures, served at `/metrics`.
#[derive(Debug, Clone)]
pub struct RelayMetrics {
    /// 1 while this process hears the others through Redis.
    pub up: Gauge,
    /// From an event's commit on another process to its arrival here, in seconds.
    pub lag: Histogram,
    /// Gaps filled from the database.
    pub gap_fills: Counter,
    /// Events read from the database to fill gaps.
    pub filled: Counter,
    /// Messages to the other processes dropped while Redis was unreachable.
    pub dropped: Counter,
    /// Messages from Redis refused: unsigned, wrongly signed, stale or replayed.
    pub rejected: Counter,
}

impl Default for RelayMetrics {
    fn default() -> Self {
        Self {
            up: Gauge::default(),
            // 0.1 ms .. ~3 s
            lag: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            gap_fills: Counter::default(),
            filled: Counter::default(),
            dropped: Counter::default(),
            rejected: Counter::default(),
        }
    }
}

//! Logs: one JSON object per line on stdout for Cloud Logging (`severity`, `message`,
//! `timestamp`, `httpRequest`, trace), or plain lines for people on a terminal.
//!
//! Lines never block serving: they go through a bounded queue to one writer thread.
//! When stdout is stuck (a pipe nobody reads) and the queue is full, lines are dropped
//! and counted, and the count is logged once the writer gets through again.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// `LOG_FORMAT=json|text` wins; otherwise JSON unless stdout is a terminal.
    pub(crate) fn from_env() -> LogFormat {
        match std::env::var("LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            Ok("text") => LogFormat::Text,
            _ if std::io::stdout().is_terminal() => LogFormat::Text,
            _ => LogFormat::Json,
        }
    }
}

/// Lines waiting for stdout; beyond this they are dropped (a line is ~500 bytes, so
/// the queue holds at most a few MB).
pub(crate) const QUEUE_LINES: usize = 4096;

enum Msg {
    Line(String),
    Flush(mpsc::Sender<()>),
}

/// The queue to the writer thread, and how many lines it has had to drop. A list
/// channel bounded by a counter rather than a preallocated ring: an idle server keeps
/// no room for 4,096 lines it is not writing.
struct Queue {
    tx: Sender<Msg>,
    queued: AtomicUsize,
    dropped: AtomicU64,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();

/// Installs the global logger. `RUST_LOG` filters as usual (default `info`).
pub(crate) fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if QUEUE.get().is_none() {
        let (tx, rx) = mpsc::channel();
        if QUEUE
            .set(Queue {
                tx,
                queued: AtomicUsize::new(0),
                dropped: AtomicU64::new(0),
            })
            .is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("log-writer".into())
                .spawn(move || write_lines(rx, format));
        }
    }
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(LineLayer { format })
        .try_init();
}

/// Waits up to `limit` for the queued lines to reach stdout (at exit); gives up
/// rather than hang when stdout is stuck.
pub(crate) fn flush(limit: Duration) {
    let Some(queue) = QUEUE.get() else { return };
    let (done_tx, done_rx) = mpsc::channel();
    if queue.tx.send(Msg::Flush(done_tx)).is_ok() {
        let _ = done_rx.recv_timeout(limit);
    }
}

fn enqueue(line: String) {
    let Some(queue) = QUEUE.get() else {
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
        return;
    };
    if queue.queued.fetch_add(1, Ordering::AcqRel) >= QUEUE_LINES {
        queue.queued.fetch_sub(1, Ordering::AcqRel);
        queue.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if queue.tx.send(Msg::Line(line)).is_err() {
        queue.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The writer thread: the only place that may block on stdout.
fn write_lines(rx: Receiver<Msg>, format: LogFormat) {
    let mut out = std::io::stdout();
    loop {
        let msg = rx.recv_timeout(Duration::from_secs(1));
        // Whatever was dropped while the last write was stuck is reported now that
        // the writer is free again.
        let dropped = QUEUE
            .get()
            .map_or(0, |q| q.dropped.swap(0, Ordering::Relaxed));
        if dropped > 0 {
            let line = render(
                format,
                Level::WARN,
                &format!("dropped {dropped} log lines: stdout was not keeping up"),
                "log",
                Fields::default(),
            );
            let _ = out.write_all(line.as_bytes());
        }
        match msg {
            Ok(Msg::Line(line)) => {
                if let Some(q) = QUEUE.get() {
                    q.queued.fetch_sub(1, Ordering::AcqRel);
                }
                let _ = out.write_all(line.as_bytes());
            }
            Ok(Msg::Flush(done)) => {
                let _ = out.flush();
                let _ = done.send(());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

struct LineLayer {
    format: LogFormat,
}

/// Fields named `http.<name>` become `httpRequest.<name>`; `trace`, `span_id` and
/// `trace_sampled` become Cloud Logging's special fields.
#[derive(Default)]
struct Fields {
    message: String,
    http: Map<String, Value>,
    other: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field.name(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field.name(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field.name(), Value::from(format!("{value:?}")));
    }
}

impl Fields {
    fn put(&mut self, name: &str, value: Value) {
        if name == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else if let Some(key) = name.strip_prefix("http.") {
            self.http.insert(key.to_string(), value);
        } else {
            let key = match name {
                "trace" => "logging.googleapis.com/trace",
                "span_id" => "logging.googleapis.com/spanId",
                "trace_sampled" => "logging.googleapis.com/trace_sampled",
                other => other,
            };
            self.other.insert(key.to_string(), value);
        }
    }
}

fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

impl<S: Subscriber> Layer<S> for LineLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = std::mem::take(&mut fields.message);
        let meta = event.metadata();
        enqueue(render(
            self.format,
            *meta.level(),
            &message,
            meta.target(),
            fields,
        ));
    }
}

/// One log line, newline included.
fn render(format: LogFormat, level: Level, message: &str, target: &str, fields: Fields) -> String {
    let now = chrono::Utc::now();
    match format {
        LogFormat::Json => {
            let mut obj = Map::new();
            obj.insert("severity".into(), severity(&level).into());
            obj.insert("message".into(), message.into());
            obj.insert(
                "timestamp".into(),
                now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                    .into(),
            );
            if !fields.http.is_empty() {
                obj.insert("httpRequest".into(), Value::Object(fields.http));
            }
            obj.insert("target".into(), target.into());
            obj.extend(fields.other);
            let mut line = Value::Object(obj).to_string();
            line.push('\n');
            line
        }
        LogFormat::Text => {
            let mut line = format!("{} {:5} {}", now.format("%H:%M:%S%.3f"), level, message);
            for (k, v) in &fields.other {
                let _ = write!(line, " {k}={v}");
            }
            line.push('\n');
            line
        }
    }
}

/// A trace ID from `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or W3C `traceparent:
/// 00-TRACE-SPAN-01`, with the span and whether it was sampled.
pub(crate) fn parse_trace(
    cloud: Option<&str>,
    traceparent: Option<&str>,
) -> Option<(String, Option<String>, bool)> {
    if let Some(v) = cloud {
        let (trace, rest) = v.split_once('/').unwrap_or((v, ""));
        let (span, options) = rest.split_once(';').unwrap_or((rest, ""));
        if is_hex(trace, 32) {
            let span = (!span.is_empty() && span.bytes().all(|b| b.is_ascii_digit()))
                .then(|| span.to_string());
            return Some((trace.to_ascii_lowercase(), span, options.contains("o=1")));
        }
    }
    if let Some(v) = traceparent {
        let parts: Vec<&str> = v.trim().split('-').collect();
        if let [_, trace, span, flags] = parts.as_slice() {
            if is_hex(trace, 32) && is_hex(span, 16) && trace.bytes().any(|b| b != b'0') {
                let sampled = u8::from_str_radix(flags, 16).is_ok_and(|f| f & 1 == 1);
                return Some((
                    trace.to_ascii_lowercase(),
                    Some(span.to_ascii_lowercase()),
                    sampled,
                ));
            }
        }
    }
    None
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_trace_headers() {
        let t = "105445aa7843bc8bf206b12000100000";
        assert_eq!(
            parse_trace(Some(&format!("{t}/1;o=1")), None),
            Some((t.into(), Some("1".into()), true))
        );
        assert_eq!(
            parse_trace(None, Some(&format!("00-{t}-00f067aa0ba902b7-01"))),
            Some((t.into(), Some("00f067aa0ba902b7".into()), true))
        );
        assert_eq!(parse_trace(Some("nonsense"), Some("00-zz-yy-01")), None);
    }
}

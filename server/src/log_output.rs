//! How vto writes its own log (stderr): plain text for a person reading a
//! terminal or the journal, or with `--log-format json` one JSON object per
//! line for a log collector. Every line names its area: the module that
//! wrote it (`target`, such as `vto::door::lock`).

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};
use tracing::{
    field::{Field, Visit},
    Event, Subscriber,
};
use tracing_subscriber::{
    fmt::{
        format::Writer,
        time::{FormatTime, SystemTime},
        FmtContext, FormatEvent, FormatFields,
    },
    registry::LookupSpan,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// One line per event: `time`, `level`, `target`, `message`, the event's
/// fields and `spans` (names, outermost first); keys in alphabetical order.
pub struct Json;

impl<S, N> FormatEvent<S, N> for Json
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut time = String::new();
        SystemTime.format_time(&mut Writer::new(&mut time))?;
        let mut line = Map::new();
        line.insert("time".into(), Value::String(time));
        line.insert("level".into(), Value::String(meta.level().to_string()));
        line.insert("target".into(), Value::String(meta.target().to_string()));
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        if let Some(m) = fields.0.remove("message") {
            line.insert("message".into(), m);
        }
        for (k, v) in fields.0 {
            // A field never hides one of the line's own keys.
            let key = if line.contains_key(&k) {
                format!("field.{k}")
            } else {
                k
            };
            line.insert(key, v);
        }
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<Value> = scope
                .from_root()
                .map(|s| Value::String(s.name().to_string()))
                .collect();
            line.insert("spans".into(), Value::Array(spans));
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// An event's fields as JSON values.
struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.put(field, Value::String(text));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What the subscriber writes, kept for the test.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_event_is_one_json_line_with_its_area_and_fields() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(Json)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("call", id = 7);
            let _in = span.enter();
            tracing::warn!(
                room = "9901",
                code = 480u64,
                ok = false,
                level = "x",
                "door call \"refused\""
            );
        });
        let out = String::from_utf8(sink.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let v: Value = serde_json::from_str(lines[0]).expect("JSON");
        assert_eq!(v["level"], "WARN");
        assert!(
            v["target"]
                .as_str()
                .is_some_and(|t| t.ends_with("log_output::tests")),
            "{v}"
        );
        assert_eq!(v["message"], "door call \"refused\"");
        assert_eq!(v["room"], "9901");
        assert_eq!(v["code"], 480);
        assert_eq!(v["ok"], false);
        assert_eq!(
            v["field.level"], "x",
            "a field named like a key keeps its value"
        );
        assert_eq!(v["spans"], serde_json::json!(["call"]));
        assert!(v["time"].as_str().is_some_and(|t| t.len() >= 20), "{v}");
    }
}

//! Exchanges as lines of the `--format json` event stream.
//!
//! libtest's JSON stream has `"type"` values `suite`, `test`, `bench` and
//! `report`; consumers (IDEs, cargo2junit, nextest's libtest-json reader) skip
//! types they do not know, so an exchange is its own `"type": "http"` line,
//! written after the step's `started` event and before its result.

use serde::Serialize;

use super::model::Exchange;

#[derive(Serialize)]
struct ExchangeEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    name: &'a str,
    round: u32,
    worker: &'a str,
    #[serde(flatten)]
    exchange: &'a Exchange,
}

/// One JSON line (no newline) for `exchange`, made by step `name` on
/// `worker` in `round`: `{"type":"http","event":"exchange","name":…,
/// "round":…,"worker":…,"method":…,"url":…,…}` with every field of the
/// (already redacted) [`Exchange`].
pub(crate) fn exchange_event(name: &str, round: u32, worker: &str, exchange: &Exchange) -> String {
    serde_json::to_string(&ExchangeEvent {
        kind: "http",
        event: "exchange",
        name,
        round,
        worker,
        exchange,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::body::Body;
    use crate::record::golden::assert_golden;
    use crate::record::model::Message;
    use crate::record::sample;

    #[test]
    fn an_exchange_is_one_json_line_naming_its_step() {
        let exchange = Exchange {
            method: "POST".into(),
            url: "http://127.0.0.1:5/x\ny".into(),
            started_ms: 7,
            duration_ms: 2,
            request: Message {
                headers: vec![("authorization".into(), "[redacted]".into())],
                body: Body::Empty,
            },
            status: Some(404),
            response: None,
            error: None,
            signatures: vec![],
            origin: None,
        };
        assert_eq!(
            exchange_event("steps::submit", 2, "worker1", &exchange),
            r#"{"type":"http","event":"exchange","name":"steps::submit","round":2,"worker":"worker1","method":"POST","url":"http://127.0.0.1:5/x\ny","started_ms":7,"duration_ms":2,"request":{"headers":[["authorization","[redacted]"]],"body":{"kind":"empty"}},"status":404,"response":null,"error":null,"signatures":[]}"#
        );
    }

    #[test]
    fn the_small_run_is_the_golden_event_stream() {
        let record = sample::small(true);
        let mut lines = String::new();
        for (round, step) in record.steps() {
            for exchange in &step.exchanges {
                lines.push_str(&exchange_event(&step.path, round, &step.worker, exchange));
                lines.push('\n');
            }
        }
        assert_golden("small.exchange-events.jsonl", &lines);
    }
}

//! What a failed step prints under its error.

use std::fmt::Write as _;

use super::model::{Exchange, StepRecord, Stream};

/// How much of a step [`failure_excerpt`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExcerptLimits {
    /// The last this-many exchanges (3 by default).
    pub(crate) exchanges: usize,
    /// Characters of each body and payload shown (400 by default).
    pub(crate) body_chars: usize,
    /// The last this-many worker log lines (12 by default).
    pub(crate) log_lines: usize,
}

impl Default for ExcerptLimits {
    fn default() -> Self {
        Self {
            exchanges: 3,
            body_chars: 400,
            log_lines: 12,
        }
    }
}

impl ExcerptLimits {
    /// Everything: for reports, where nothing is cut.
    pub(crate) const COMPLETE: Self = Self {
        exchanges: usize::MAX,
        body_chars: usize::MAX,
        log_lines: usize::MAX,
    };
}

/// The step's last HTTP exchanges, newest first (status line, decoded signed
/// payloads, response body), then its worker's last log lines, indented to sit
/// under the step's error. Empty when the step made no request and its
/// worker printed nothing.
pub(crate) fn failure_excerpt(step: &StepRecord, limits: ExcerptLimits) -> String {
    let mut out = String::new();
    let total = step.exchanges.len();
    if total > 0 {
        let shown = total.min(limits.exchanges);
        if shown == total {
            let _ = writeln!(out, "  HTTP exchanges ({total}, newest first):");
        } else {
            let _ = writeln!(
                out,
                "  last {shown} of {total} HTTP exchanges (newest first):"
            );
        }
        for exchange in step.exchanges.iter().rev().take(shown) {
            push_exchange(&mut out, exchange, limits);
        }
    }
    let lines = step.log.len();
    if lines > 0 {
        let shown = lines.min(limits.log_lines);
        if shown == lines {
            let noun = if lines == 1 { "line" } else { "lines" };
            let _ = writeln!(out, "  {} log ({lines} {noun}):", step.worker);
        } else {
            let _ = writeln!(
                out,
                "  {} log (last {shown} of {lines} lines):",
                step.worker
            );
        }
        for line in &step.log[lines - shown..] {
            let stream = match line.stream {
                Stream::Stdout => "out",
                Stream::Stderr => "err",
            };
            let _ = writeln!(out, "    {stream}| {}", line.text);
        }
    }
    out
}

fn push_exchange(out: &mut String, exchange: &Exchange, limits: ExcerptLimits) {
    let outcome = match (exchange.status, &exchange.error) {
        (Some(status), _) => status.to_string(),
        (None, Some(error)) => format!("failed: {error}"),
        (None, None) => "no response".to_owned(),
    };
    let by = exchange.origin.as_ref().map_or_else(String::new, |origin| {
        format!("{} ({}): ", origin.worker, origin.handling.name())
    });
    let _ = writeln!(
        out,
        "    {by}{} {} -> {outcome} ({} ms)",
        exchange.method, exchange.url, exchange.duration_ms
    );
    for found in &exchange.signatures {
        let signer = match &found.signer {
            Some(signer) => match &signer.worker {
                Some(worker) => format!("verified, signed by {worker} ({})", signer.public_key),
                None => format!("verified, signed by {}", signer.public_key),
            },
            None => "NOT verified by any known key".to_owned(),
        };
        let _ = writeln!(
            out,
            "      signed payload at {} ({signer}): {}",
            found.location,
            cut(&found.payload.to_string(), limits.body_chars)
        );
    }
    if let Some(response) = &exchange.response {
        let _ = writeln!(
            out,
            "      response body: {}",
            cut(&response.body.describe(), limits.body_chars)
        );
    }
}

/// At most `chars` characters of `text` on one line.
fn cut(text: &str, chars: usize) -> String {
    let one_line = text.replace('\n', "⏎");
    match one_line.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::body::{Body, CaptureLimits};
    use crate::record::model::{DecodedSignature, LogLine, Message, Outcome, Signer};

    #[test]
    fn a_workers_call_names_the_worker_and_how_the_proxy_answered_it() {
        let mut call = exchange(200, "ok");
        call.origin = Some(crate::record::model::Origin {
            worker: "worker3".into(),
            handling: crate::record::model::Handling::Replayed,
            entry: Some(1),
        });
        let mut out = String::new();
        push_exchange(&mut out, &call, ExcerptLimits::default());
        assert!(
            out.starts_with("    worker3 (replayed): GET http://127.0.0.1:9/200 -> 200 (5 ms)\n"),
            "{out}"
        );
    }

    fn exchange(n: u16, response: &str) -> Exchange {
        Exchange {
            method: "GET".into(),
            url: format!("http://127.0.0.1:9/{n}"),
            started_ms: u64::from(n),
            duration_ms: 5,
            request: Message {
                headers: vec![],
                body: Body::Empty,
            },
            status: Some(n),
            response: Some(Message {
                headers: vec![],
                body: Body::capture(response.as_bytes(), None, CaptureLimits::default()),
            }),
            error: None,
            signatures: vec![],
            origin: None,
        }
    }

    fn step() -> StepRecord {
        let mut last = exchange(500, "{\"error\":\"round 3 not open\"}\nmore");
        last.signatures.push(DecodedSignature {
            location: "request/signature".into(),
            payload: serde_json::json!({"roundNumber": 3}),
            signer: Some(Signer {
                worker: Some("worker2".into()),
                public_key: "PUB2".into(),
            }),
        });
        StepRecord {
            path: "steps::audit".into(),
            worker: "worker2".into(),
            started_ms: 0,
            duration_ms: 10,
            outcome: Outcome::failed("audit rejected"),
            exchanges: vec![exchange(200, "first"), exchange(201, "second"), last],
            log: (1..=4)
                .map(|i| LogLine {
                    worker: "worker2".into(),
                    stream: if i == 4 {
                        Stream::Stderr
                    } else {
                        Stream::Stdout
                    },
                    text: format!("line {i}"),
                })
                .collect(),
            faults: vec![],
        }
    }

    #[test]
    fn the_newest_exchange_comes_first_and_the_log_ends_the_excerpt() {
        let limits = ExcerptLimits {
            exchanges: 2,
            body_chars: 20,
            log_lines: 2,
        };
        assert_eq!(
            failure_excerpt(&step(), limits),
            "  last 2 of 3 HTTP exchanges (newest first):\n\
             \x20   GET http://127.0.0.1:9/500 -> 500 (5 ms)\n\
             \x20     signed payload at request/signature (verified, signed by worker2 (PUB2)): {\"roundNumber\":3}\n\
             \x20     response body: {\"error\":\"round 3 no…\n\
             \x20   GET http://127.0.0.1:9/201 -> 201 (5 ms)\n\
             \x20     response body: second\n\
             \x20 worker2 log (last 2 of 4 lines):\n\
             \x20   out| line 3\n\
             \x20   err| line 4\n"
        );
    }

    #[test]
    fn complete_limits_show_everything() {
        assert_eq!(
            failure_excerpt(&step(), ExcerptLimits::COMPLETE),
            "  HTTP exchanges (3, newest first):\n\
             \x20   GET http://127.0.0.1:9/500 -> 500 (5 ms)\n\
             \x20     signed payload at request/signature (verified, signed by worker2 (PUB2)): {\"roundNumber\":3}\n\
             \x20     response body: {\"error\":\"round 3 not open\"}⏎more\n\
             \x20   GET http://127.0.0.1:9/201 -> 201 (5 ms)\n\
             \x20     response body: second\n\
             \x20   GET http://127.0.0.1:9/200 -> 200 (5 ms)\n\
             \x20     response body: first\n\
             \x20 worker2 log (4 lines):\n\
             \x20   out| line 1\n\
             \x20   out| line 2\n\
             \x20   out| line 3\n\
             \x20   err| line 4\n"
        );
    }

    #[test]
    fn a_quiet_step_has_an_empty_excerpt() {
        let mut quiet = step();
        quiet.exchanges.clear();
        quiet.log.clear();
        assert_eq!(failure_excerpt(&quiet, ExcerptLimits::default()), "");
    }
}

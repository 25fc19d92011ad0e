//! The live line of a long step on a terminal: after a second, the step's
//! line is rewritten four times a second with the worker, the elapsed time
//! and the request in flight, and restored when the step ends. Only with the
//! pretty format, when stdout and stderr are both the terminal.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::record::shared::SharedRecorder;

/// A step shorter than this shows nothing extra.
const AFTER: Duration = Duration::from_secs(1);
/// How often the line is rewritten.
const EVERY: Duration = Duration::from_millis(250);

/// Whether live lines can be shown: pretty output on a terminal.
pub(super) fn enabled(pretty: bool) -> bool {
    pretty && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// The line for a step that has run `elapsed`, after `prefix` (the step's
/// `test [round N] name ... `); `None` before a second has passed.
pub(super) fn status_line(
    prefix: &str,
    worker: &str,
    elapsed: Duration,
    in_flight: Option<&str>,
) -> Option<String> {
    if elapsed < AFTER {
        return None;
    }
    let mut line = format!("{prefix}running on {worker}, {:.1}s", elapsed.as_secs_f64());
    if let Some(request) = in_flight {
        line.push_str(", waiting for ");
        line.push_str(request);
    }
    Some(line)
}

/// The live line of one running step; [`stop`](Self::stop) restores the line.
pub(super) struct Live {
    task: Option<tokio::task::JoinHandle<()>>,
    shown: Arc<AtomicBool>,
    prefix: String,
}

impl Live {
    /// Starts rewriting the line of the step printed as `prefix` (nothing
    /// when not `enabled`).
    pub(super) fn start(
        enabled: bool,
        recorder: Arc<SharedRecorder>,
        prefix: String,
        worker: String,
    ) -> Self {
        let shown = Arc::new(AtomicBool::new(false));
        let task = enabled.then(|| {
            let (shown, prefix) = (shown.clone(), prefix.clone());
            let started = Instant::now();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(EVERY).await;
                    let in_flight = recorder.in_flight();
                    if let Some(line) =
                        status_line(&prefix, &worker, started.elapsed(), in_flight.as_deref())
                    {
                        shown.store(true, Ordering::Relaxed);
                        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{line}");
                    }
                }
            })
        });
        Self {
            task,
            shown,
            prefix,
        }
    }

    /// Stops the updates and puts the step's line back as it was.
    pub(super) fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
        }
        if self.shown.load(Ordering::Relaxed) {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{}", self.prefix);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_shows_a_line_after_a_second_with_the_request_in_flight() {
        let prefix = "test [round 2] steps::audit ... ";
        assert_eq!(
            status_line(prefix, "worker2", Duration::from_millis(999), None),
            None
        );
        assert_eq!(
            status_line(prefix, "worker2", Duration::from_secs(1), None).unwrap(),
            "test [round 2] steps::audit ... running on worker2, 1.0s"
        );
        assert_eq!(
            status_line(
                prefix,
                "worker2",
                Duration::from_millis(12_340),
                Some("POST http://127.0.0.1:4000/audit")
            )
            .unwrap(),
            "test [round 2] steps::audit ... running on worker2, 12.3s, waiting for POST http://127.0.0.1:4000/audit"
        );
    }

    #[test]
    fn nothing_extra_without_the_pretty_format() {
        assert!(!enabled(false));
    }
}

//! The live line of a long step on a terminal: after a second, the step's
//! line is rewritten four times a second with the worker, the elapsed time
//! and the request in flight, and restored when the step ends. Only with the
//! pretty format, when stdout and stderr are both the terminal.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::events::{Event, StepId, Writer};

/// A step shorter than this shows nothing extra.
const AFTER: Duration = Duration::from_secs(1);
/// How often the line is rewritten.
const EVERY: Duration = Duration::from_millis(250);

/// Where the live line is drawn (stderr, or a buffer in tests).
type Screen = Arc<Mutex<Box<dyn std::io::Write + Send>>>;

/// Whether live lines can be shown: pretty output on a terminal.
pub(crate) fn on_terminal(pretty: bool) -> bool {
    pretty && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// The line for a step that has run `elapsed`, after `prefix` (the step's
/// `test [round N] name ... `); `None` before a second has passed.
fn status_line(
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

/// Draws the live line of the running step.
pub(crate) struct Progress {
    screen: Screen,
    /// The request the step waits for, as [`Event::InFlight`] says.
    in_flight: Arc<Mutex<Option<String>>>,
    live: Option<Live>,
}

impl Progress {
    /// A writer that draws on `screen`.
    pub(crate) fn new(screen: Box<dyn std::io::Write + Send>) -> Self {
        Self {
            screen: Arc::new(Mutex::new(screen)),
            in_flight: Arc::default(),
            live: None,
        }
    }

    fn start(&mut self, step: &StepId) {
        let shown = Arc::new(AtomicBool::new(false));
        let prefix = format!("test [round {}] {} ... ", step.round, step.name);
        let (screen, in_flight, worker) = (
            self.screen.clone(),
            self.in_flight.clone(),
            step.worker.clone(),
        );
        let (flag, line_prefix) = (shown.clone(), prefix.clone());
        let started = tokio::time::Instant::now();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                let in_flight = in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if let Some(line) = status_line(
                    &line_prefix,
                    &worker,
                    started.elapsed(),
                    in_flight.as_deref(),
                ) {
                    flag.store(true, Ordering::Relaxed);
                    draw(&screen, &format!("\r\x1b[2K{line}"));
                }
            }
        });
        self.live = Some(Live {
            task,
            shown,
            prefix,
        });
    }

    /// Stops the updates and puts the step's line back as it was.
    fn stop(&mut self) {
        if let Some(live) = self.live.take() {
            live.task.abort();
            if live.shown.load(Ordering::Relaxed) {
                draw(&self.screen, &format!("\r\x1b[2K{}", live.prefix));
            }
        }
    }
}

struct Live {
    task: tokio::task::JoinHandle<()>,
    shown: Arc<AtomicBool>,
    prefix: String,
}

fn draw(screen: &Screen, text: &str) {
    let mut screen = screen.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = screen.write_all(text.as_bytes());
    let _ = screen.flush();
}

impl Writer for Progress {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::InFlight(request) => {
                request.clone_into(
                    &mut self
                        .in_flight
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner),
                );
            }
            Event::StepStarted(step) => self.start(step),
            Event::AttemptFailed(_) | Event::StepFinished(_) | Event::RunFinished(_) => {
                self.stop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::testing::Sink;

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

    fn step() -> StepId {
        StepId {
            name: "steps::audit".to_owned(),
            round: 2,
            worker: "worker2".to_owned(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_step_draws_its_line_and_restores_it_when_it_ends() {
        let screen = Sink::default();
        let mut progress = Progress::new(Box::new(screen.clone()));
        progress.handle(&Event::StepStarted(step()));
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let finished = crate::events::StepFinished {
            step: step(),
            outcome: crate::events::Outcome::Passed { attempts: 1 },
            elapsed: Duration::from_millis(1_100),
            logs: Vec::new(),
        };
        progress.handle(&Event::StepFinished(finished));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            screen.text(),
            "\r\x1b[2Ktest [round 2] steps::audit ... running on worker2, 1.0s\
             \r\x1b[2Ktest [round 2] steps::audit ... "
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_step_draws_nothing() {
        let screen = Sink::default();
        let mut progress = Progress::new(Box::new(screen.clone()));
        progress.handle(&Event::StepStarted(step()));
        tokio::time::sleep(Duration::from_millis(900)).await;
        progress.handle(&Event::RunFinished(crate::Exit::Passed));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(screen.text(), "");
    }
}

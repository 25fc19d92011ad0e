//! The run record behind the HTML and `JUnit` reports, and the failure
//! excerpt: a stage in front of the other writers. It feeds each event into
//! the run's [`Recorder`](crate::record::recorder::Recorder), then passes it
//! on; a failed step's message reaches the writers after it redacted, with
//! the step's last exchanges and log lines under it, and each exchange the
//! step made is passed on as an [`Event::Exchange`] before the step's end.
//! The raw HTTP events ([`Event::HttpSending`], [`Event::HttpExchanged`])
//! stop here: the writers after it see only what the recorder redacted (an
//! exchange is redacted and decoded with the step's others when the step
//! ends, off the request's path). A fault is filed with its step and passed
//! on redacted, timed from the run's start.
//! When the run finishes it writes the reports.
//!
//! The recorder keeps older rounds' exchanges and log lines in
//! `data_dir/report-data/`, the detail folder of the default report
//! (`data_dir/report.html`); a `--report` elsewhere gets a copy of it beside
//! it (`out/run.html`: `out/run-data/`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::events::{Event, Outcome, StepFinished, StepId, Writer};
use crate::record::detail::{DetailFolder, folder_beside};
use crate::record::excerpt::{ExcerptLimits, failure_excerpt};
use crate::record::model::{RunRecord, RunStart, WorkerEventKind};
use crate::record::shared::SharedRecorder;

/// Where the HTML report goes besides `--report`: `data_dir/report.html`.
pub(crate) const DEFAULT_REPORT_FILE: &str = "report.html";

/// Where the reports of a finished run go.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportPaths {
    /// `--report PATH`, written besides `data_dir/report.html`.
    pub(crate) html: Option<PathBuf>,
    /// `--junit PATH`.
    pub(crate) junit: Option<PathBuf>,
}

/// The recording stage, passing every event on to `next`.
pub(crate) struct Record<W> {
    paths: ReportPaths,
    recorder: Option<Arc<SharedRecorder>>,
    /// `data_dir`, learned with the recorder.
    data_dir: Option<PathBuf>,
    next: W,
}

impl<W: Writer> Record<W> {
    pub(crate) fn new(paths: ReportPaths, next: W) -> Self {
        Self {
            paths,
            recorder: None,
            data_dir: None,
            next,
        }
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut crate::record::recorder::Recorder, u64) -> R,
    ) -> Option<R> {
        let recorder = self.recorder.as_ref()?;
        let at = recorder.now_ms();
        recorder.with(|r| f(r, at))
    }

    fn step_finished(&mut self, finished: &StepFinished) {
        let recorded = self
            .with(|r, at| {
                for line in &finished.logs {
                    r.worker_log(line);
                }
                r.finish_step(finished.outcome.clone(), at);
                r.record()
                    .rounds
                    .last()
                    .and_then(|round| round.steps.last())
                    .cloned()
            })
            .flatten();
        let Some(step) = recorded else {
            self.next.handle(&Event::StepFinished(finished.clone()));
            return;
        };
        for exchange in &step.exchanges {
            self.next.handle(&Event::Exchange {
                step: finished.step.clone(),
                exchange: Box::new(exchange.clone()),
            });
        }
        let mut shown = finished.clone();
        if let Outcome::Failed { message, excerpt } = &mut shown.outcome
            && let Outcome::Failed {
                message: redacted, ..
            } = &step.outcome
        {
            message.clone_from(redacted);
            let text = failure_excerpt(&step, ExcerptLimits::default());
            *excerpt = (!text.is_empty()).then(|| text.trim_end().to_owned());
        }
        self.next.handle(&Event::StepFinished(shown));
    }

    /// Writes the reports of the finished run: the HTML report to
    /// `data_dir/report.html` and to `--report`; the `JUnit` XML to
    /// `--junit`. A report that cannot be written is a note, not a failed run.
    fn write_reports(&mut self) {
        let Some(record) = self.recorder.as_ref().and_then(|r| r.take()) else {
            return;
        };
        let mut notes = record.detail_problems.clone();
        if let Some(path) = self.paths.junit.clone() {
            match write_junit(&path, &record) {
                Ok(problems) => notes.extend(problems),
                Err(note) => notes.push(note),
            }
        }
        let default = self.data_dir.as_ref().map(|d| d.join(DEFAULT_REPORT_FILE));
        for path in default.into_iter().chain(self.paths.html.clone()) {
            match write_page(&path, &record) {
                Ok(()) => {
                    let shown = std::path::absolute(&path).unwrap_or(path);
                    self.next.handle(&Event::ReportWritten(shown));
                }
                Err(note) => notes.push(note),
            }
        }
        for note in notes {
            self.next.handle(&Event::Note(note));
        }
    }
}

impl<W: Writer> Writer for Record<W> {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::Recording { recorder, data_dir } => {
                let detail = folder_beside(&data_dir.join(DEFAULT_REPORT_FILE));
                recorder.with(|r| r.keep_detail_in(&detail));
                self.recorder = Some(recorder.clone());
                self.data_dir = Some(data_dir.clone());
            }
            Event::RunStarted(plan) => {
                let start = match &plan.resumed {
                    None => RunStart::Fresh,
                    Some(resumed) => RunStart::Resumed {
                        round: resumed.round,
                        step: resumed.at.clone(),
                    },
                };
                self.with(|r, _| {
                    r.set_start(start);
                    r.set_step_order(plan.steps.clone());
                });
            }
            Event::WorkerStarted { worker } => {
                self.with(|r, at| r.worker_event(worker, at, WorkerEventKind::Started));
            }
            Event::WorkerExited { worker, exit } => {
                let kind = WorkerEventKind::Exited {
                    code: exit.code,
                    signal: exit.signal,
                };
                self.with(|r, at| r.worker_event(worker, at, kind));
            }
            Event::WorkerStopped { worker, how, exit } => {
                let kind = WorkerEventKind::Stopped {
                    how: *how,
                    code: exit.and_then(|exit| exit.code),
                    signal: exit.and_then(|exit| exit.signal),
                };
                self.with(|r, at| r.worker_event(worker, at, kind));
            }
            Event::WorkerPaused { worker } => {
                self.with(|r, at| r.worker_event(worker, at, WorkerEventKind::Paused));
            }
            Event::WorkerResumed { worker } => {
                self.with(|r, at| r.worker_event(worker, at, WorkerEventKind::Resumed));
            }
            Event::RoundStarted { round } => {
                self.with(|r, _| r.begin_round(*round));
            }
            Event::StepStarted(StepId { name, worker, .. }) => {
                self.with(|r, at| r.begin_step(name, worker, at));
            }
            Event::StepFinished(finished) => return self.step_finished(finished),
            Event::HttpSending { method, url } => {
                let line = self.with(|r, _| format!("{method} {}", r.redact(url)));
                return self.next.handle(&Event::InFlight(line));
            }
            Event::HttpExchanged(exchange) => {
                let mut exchange = (**exchange).clone();
                let the_steps_own = exchange.origin.is_none();
                self.with(|r, at| {
                    exchange.started_ms = at.saturating_sub(exchange.duration_ms);
                    r.defer_exchange(exchange);
                });
                if the_steps_own {
                    self.next.handle(&Event::InFlight(None));
                }
                return;
            }
            Event::Fault(fault) => {
                let recorded = self.with(|r, at| {
                    r.fault(crate::events::Fault {
                        at_ms: at,
                        ..(**fault).clone()
                    })
                });
                if let Some(recorded) = recorded {
                    return self.next.handle(&Event::Fault(Box::new(recorded)));
                }
            }
            Event::RunFinished(_) => self.write_reports(),
            _ => {}
        }
        self.next.handle(event);
    }
}

/// Writes the `JUnit` report to `path`, streamed a round at a time; the
/// notes on rounds whose transcripts could not be read back, or the note
/// to show when it cannot be written.
fn write_junit(path: &Path, record: &RunRecord) -> Result<Vec<String>, String> {
    let cannot =
        |err: std::io::Error| format!("cannot write the JUnit report to {}: {err}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(cannot)?);
    let notes = crate::record::junit::write(record, &mut file).map_err(cannot)?;
    std::io::Write::flush(&mut file).map_err(cannot)?;
    Ok(notes)
}

/// Writes the HTML report to `path` with its rounds' detail folder beside
/// it: the recorder's folder when it is that one, else a copy of it; a
/// detail folder left there by an earlier run goes when this run has none.
fn write_page(path: &Path, record: &RunRecord) -> Result<(), String> {
    let beside = folder_beside(path);
    let folder_name = beside
        .file_name()
        .map_or_else(|| "report-data".into(), |name| name.to_string_lossy());
    let page = crate::record::html::render_with_detail_in(record, &folder_name);
    write(path, &page, "HTML report")?;
    let cannot = |err: std::io::Error| {
        format!(
            "cannot put the HTML report's round details in {}: {err}",
            beside.display()
        )
    };
    match &record.detail_dir {
        Some(dir) if same_place(dir, &beside) => Ok(()),
        Some(dir) => DetailFolder::at(dir).copy_to(&beside).map_err(cannot),
        None => DetailFolder::remove(&beside).map_err(cannot),
    }
}

/// Whether `a` and `b` name the same folder.
fn same_place(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Writes `text` to `path`, creating its folder; the note to show when it cannot.
fn write(path: &Path, text: &str, what: &str) -> Result<(), String> {
    let cannot =
        |err: std::io::Error| format!("cannot write the {what} to {}: {err}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    std::fs::write(path, text).map_err(cannot)
}

#[cfg(test)]
mod stage_tests {
    use std::time::Duration;

    use super::*;
    use crate::Exit;
    use crate::events::LogLine;
    use crate::events::testing::{Collect, feed, plan};
    use crate::process::Stream;
    use crate::record::redact::Redactor;

    fn id() -> StepId {
        StepId {
            name: "steps::audit".to_owned(),
            round: 2,
            worker: "worker2".to_owned(),
        }
    }

    /// A stage writing the `JUnit` report to `junit` in front of a collecting writer,
    /// and its recorder, whose run knows the secret `tok-1234567890`.
    fn stage_writing(junit: &Path) -> (Record<Collect>, Collect, Arc<SharedRecorder>) {
        let mut redactor = Redactor::new();
        redactor.secret("env API_TOKEN", "tok-1234567890");
        let recorder = Arc::new(SharedRecorder::new(
            "task-1",
            &[("worker2".to_owned(), None)],
            redactor,
        ));
        let next = Collect::default();
        let stage = Record::new(
            ReportPaths {
                html: None,
                junit: Some(junit.to_owned()),
            },
            next.clone(),
        );
        (stage, next, recorder)
    }

    #[test]
    fn a_failure_reaches_the_writers_redacted_with_its_excerpt_and_the_reports_are_written() {
        let data = tempfile::tempdir().unwrap();
        let junit = data.path().join("out/junit.xml");
        let (mut stage, next, recorder) = stage_writing(&junit);
        feed(
            &mut stage,
            &[
                Event::Recording {
                    recorder,
                    data_dir: data.path().to_path_buf(),
                },
                Event::RunStarted(plan(&["steps::audit"], &[(2, 0)])),
                Event::RoundStarted { round: 2 },
                Event::StepStarted(id()),
                Event::StepFinished(StepFinished {
                    step: id(),
                    outcome: Outcome::failed("the server said tok-1234567890 is wrong"),
                    elapsed: Duration::from_millis(3),
                    logs: vec![LogLine::new("worker2", Stream::Stderr, "boom")],
                }),
                Event::RunFinished(Exit::Failed),
            ],
        );
        let seen = next.0.lock().unwrap();
        let failure = seen.iter().find_map(|event| match event {
            Event::StepFinished(finished) => Some(finished.outcome.clone()),
            _ => None,
        });
        assert_eq!(
            failure,
            Some(Outcome::Failed {
                message: "the server said [redacted: env API_TOKEN] is wrong".to_owned(),
                excerpt: Some("  worker2 log (1 line):\n    err| boom".to_owned()),
            })
        );
        let report = data.path().join(DEFAULT_REPORT_FILE);
        let written: Vec<&Path> = seen
            .iter()
            .filter_map(|event| match event {
                Event::ReportWritten(path) => Some(path.as_path()),
                _ => None,
            })
            .collect();
        assert_eq!(written, [std::path::absolute(&report).unwrap()]);
        assert!(matches!(
            seen.last(),
            Some(Event::RunFinished(Exit::Failed))
        ));
        let html = std::fs::read_to_string(&report).unwrap();
        assert!(
            !html.contains("tok-1234567890"),
            "the report holds the secret"
        );
        assert!(std::fs::read_to_string(junit).unwrap().starts_with("<?xml"));
    }

    #[test]
    fn a_fault_is_filed_with_its_step_and_passed_on_redacted() {
        let data = tempfile::tempdir().unwrap();
        let junit = data.path().join("junit.xml");
        let (mut stage, next, recorder) = stage_writing(&junit);
        let fault = crate::events::Fault {
            round: 2,
            step: "steps::audit".to_owned(),
            attempt: 0,
            link: Some("runner->worker2".to_owned()),
            worker: None,
            n: Some(0),
            request: Some("GET /audit/tok-1234567890".to_owned()),
            fault: "reset".to_owned(),
            by: None,
            outcome: None,
            at_ms: 99_999,
        };
        feed(
            &mut stage,
            &[
                Event::Recording {
                    recorder,
                    data_dir: data.path().to_path_buf(),
                },
                Event::RoundStarted { round: 2 },
                Event::StepStarted(id()),
                Event::Fault(Box::new(fault.clone())),
                Event::StepFinished(StepFinished {
                    step: id(),
                    outcome: Outcome::Passed { attempts: 1 },
                    elapsed: Duration::from_millis(3),
                    logs: vec![],
                }),
                Event::RunFinished(Exit::Passed),
            ],
        );
        let mut passed_on = next.faults();
        // Timed from the run's start, as the record's other times.
        assert!(passed_on.iter().all(|fault| fault.at_ms < 99_999));
        for fault in &mut passed_on {
            fault.at_ms = 0;
        }
        let redacted = crate::events::Fault {
            request: Some("GET /audit/[redacted: env API_TOKEN]".to_owned()),
            at_ms: 0,
            ..fault
        };
        assert_eq!(passed_on, [redacted]);
        let xml = std::fs::read_to_string(junit).unwrap();
        assert!(
            xml.contains(
                "<system-out>step steps::audit on worker2\n\
                 fault: runner-&gt;worker2 GET /audit/[redacted: env API_TOKEN] reset\n\
                 </system-out>"
            ),
            "{xml}"
        );
    }

    /// Plays `rounds` rounds of one passing step through the stage, with
    /// `--report` at `report`; the events the next writer saw.
    fn play(data_dir: &Path, report: &Path, rounds: u32) -> Vec<Event> {
        let recorder = Arc::new(SharedRecorder::new(
            "task-1",
            &[("worker2".to_owned(), None)],
            Redactor::new(),
        ));
        let next = Collect::default();
        let mut stage = Record::new(
            ReportPaths {
                html: Some(report.to_path_buf()),
                junit: None,
            },
            next.clone(),
        );
        let mut events = vec![Event::Recording {
            recorder,
            data_dir: data_dir.to_path_buf(),
        }];
        for round in 1..=rounds {
            let step = StepId { round, ..id() };
            events.push(Event::RoundStarted { round });
            events.push(Event::StepStarted(step.clone()));
            events.push(Event::StepFinished(StepFinished {
                step,
                outcome: Outcome::Passed { attempts: 1 },
                elapsed: Duration::from_millis(3),
                logs: vec![LogLine::new(
                    "worker2",
                    Stream::Stdout,
                    format!("round {round}"),
                )],
            }));
        }
        events.push(Event::RunFinished(Exit::Passed));
        feed(&mut stage, &events);
        next.0.lock().unwrap().clone()
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_long_runs_round_details_are_beside_each_report_and_go_with_a_short_run() {
        use crate::record::recorder::ROUNDS_IN_MEMORY;
        let data = tempfile::tempdir().unwrap();
        let report = data.path().join("out/run.html");
        let rounds = u32::try_from(ROUNDS_IN_MEMORY).unwrap() + 2;
        let seen = play(data.path(), &report, rounds);
        let notes: Vec<&Event> = seen
            .iter()
            .filter(|event| matches!(event, Event::Note(_)))
            .collect();
        assert!(notes.is_empty(), "{notes:?}");
        let default_detail = data.path().join("report-data");
        let copied = data.path().join("out/run-data");
        assert_eq!(
            file_names(&default_detail),
            ["round-000001.js", "round-000002.js"]
        );
        assert_eq!(file_names(&copied), file_names(&default_detail));
        assert_eq!(
            std::fs::read(copied.join("round-000002.js")).unwrap(),
            std::fs::read(default_detail.join("round-000002.js")).unwrap()
        );
        let page = std::fs::read_to_string(&report).unwrap();
        let data_of = |page: &str| crate::record::html::embedded_data(page);
        assert_eq!(data_of(&page)["detail_folder"], "run-data");
        assert_eq!(data_of(&page)["rounds"][1]["detail"], "round-000002.js");
        let default_page = std::fs::read_to_string(data.path().join(DEFAULT_REPORT_FILE)).unwrap();
        assert_eq!(data_of(&default_page)["detail_folder"], "report-data");
        // A short run in the same places: self-contained pages, no folders.
        play(data.path(), &report, 1);
        assert!(!default_detail.exists() && !copied.exists());
        let page = std::fs::read_to_string(&report).unwrap();
        assert_eq!(data_of(&page).get("detail_folder"), None);
    }
}

//! What a run does, as typed events, and the [`Writer`]s that show them.
//!
//! The session emits events in the order things happen and formats nothing;
//! every output (the libtest lines, the notes on stderr, the live progress
//! line, the run record behind the HTML and `JUnit` reports and the failure
//! excerpt) is a [`Writer`] on this one stream, listed in
//! [`writers`](crate::harness::writers). Writers are combined with [`Tee`] and tested
//! alone by feeding them events.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod plan;

pub(crate) use self::plan::{Execution, Plan, Resumed};
pub(crate) use crate::faults::entry::Entry as Fault;
pub(crate) use crate::process::LogLine;
pub(crate) use crate::record::model::Outcome;

use crate::Exit;
use crate::process::{StopHow, WorkerExit};
use crate::record::model::Exchange;
use crate::record::recorder::OwnedExchange;
use crate::record::shared::SharedRecorder;

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A line for the person running the suite: a warning, an error before
    /// the first step, where the run resumes.
    Note(String),
    /// `--list`: the selected steps' test names.
    Listed(Vec<String>),
    /// The run's recorder (which the runner's secrets go to): the record
    /// behind the reports, once setup has built the runner.
    Recording {
        recorder: Arc<SharedRecorder>,
        /// The suite's `data_dir`, where `report.html` goes.
        data_dir: PathBuf,
    },
    /// The workers are up; the first step comes next, as the plan says.
    /// Emitted once per run (a run with nothing selected emits an empty plan).
    RunStarted(Plan),
    /// Every worker answered.
    WorkersReady(WorkersReady),
    /// A worker started (its process, or an external worker was reached),
    /// at the run's start or again by a step.
    WorkerStarted { worker: String },
    /// A step stopped or killed a worker; `exit` is how its process ended.
    WorkerStopped {
        worker: String,
        how: StopHow,
        exit: Option<WorkerExit>,
    },
    /// A step paused a worker (SIGSTOP of its process group).
    WorkerPaused { worker: String },
    /// A step resumed a paused worker.
    WorkerResumed { worker: String },
    /// A worker's process ended, with its status.
    WorkerExited { worker: String, exit: WorkerExit },
    /// The first step of a round starts.
    RoundStarted { round: u32 },
    /// A step starts.
    StepStarted(StepId),
    /// An attempt of a step with `retries` failed; it runs again after `delay`.
    AttemptFailed(AttemptFailed),
    /// A step ended, with what the workers printed while it ran.
    StepFinished(StepFinished),
    /// A step sends a request through `runner.http()`. Not redacted: the
    /// recording stage takes it and passes on [`Event::InFlight`] instead.
    HttpSending { method: String, url: String },
    /// A request a step made through `runner.http()` ended (answered, failed
    /// or dropped), as sent and received. Not redacted: the recording stage
    /// takes it and passes on [`Event::InFlight`] instead; the writers after
    /// it get the step's exchanges, redacted, as [`Event::Exchange`]s.
    HttpExchanged(Box<OwnedExchange>),
    /// The request the running step waits for, redacted (`POST http://…`);
    /// `None`: it is back.
    InFlight(Option<String>),
    /// An HTTP exchange a step made through `runner.http()`, redacted.
    Exchange {
        step: StepId,
        exchange: Box<Exchange>,
    },
    /// A fault was injected (a request's, a worker's), or a faulted request
    /// ended (`outcome` set): a line of `faults.jsonl`, made with it. Its
    /// request is a method and a path (never a query), redacted.
    Fault(Box<Fault>),
    /// The run itself failed between two steps (its state cannot be saved).
    RunError(String),
    /// Before the workers started, the world was put back as it was before
    /// a step (a resumed or rewound run, or a restore a stopped run left).
    WorldRestored(WorldRestored),
    /// What the run's snapshots keep and what taking them cost.
    SnapshotsKept(SnapshotsKept),
    /// An HTML report was written there.
    ReportWritten(PathBuf),
    /// The run ends with this exit; nothing follows.
    RunFinished(Exit),
}

/// A step of one round: its name (with `[worker]` for an instance of a
/// multi-worker step), the round and the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StepId {
    /// The libtest name (the function's path, `[worker]` suffix included).
    pub(crate) name: String,
    pub(crate) round: u32,
    pub(crate) worker: String,
}

/// The workers are up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkersReady {
    pub(crate) workers: usize,
    pub(crate) elapsed: Duration,
}

/// A restore of the world (config.yaml `snapshots`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorldRestored {
    /// The point: `round 2 steps::audit::audits_its_peer[worker3]`.
    pub(crate) before: String,
    /// Collections and files it changed (unchanged ones are left alone).
    pub(crate) collections: usize,
    pub(crate) files: usize,
    pub(crate) elapsed: Duration,
    /// It finished a restore that a stopped run had begun.
    pub(crate) recovered: bool,
}

/// The snapshots a run leaves, and what taking them cost.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SnapshotsKept {
    pub(crate) kept: usize,
    /// The first and last kept points.
    pub(crate) first: String,
    pub(crate) last: String,
    /// Bytes on disk, and the folder.
    pub(crate) bytes: u64,
    pub(crate) dir: std::path::PathBuf,
    /// Snapshots this run took, and the median time of one.
    pub(crate) taken: usize,
    pub(crate) median: Duration,
}

/// A failed attempt of a step that runs again.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AttemptFailed {
    pub(crate) step: StepId,
    /// The failed attempt's number, from 1.
    pub(crate) attempt: u32,
    /// How many attempts the step may take.
    pub(crate) total: u32,
    /// The attempt's error, already redacted.
    pub(crate) error: String,
    pub(crate) delay: Duration,
}

/// How one step execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StepFinished {
    pub(crate) step: StepId,
    pub(crate) outcome: Outcome,
    pub(crate) elapsed: Duration,
    /// The worker lines captured while the step ran, already redacted.
    pub(crate) logs: Vec<LogLine>,
}

/// How writers show measured times: as measured, or all zero (tests that
/// compare whole outputs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Clock {
    #[default]
    Real,
    Frozen,
}

impl Clock {
    /// The time to show for `measured`.
    pub(crate) fn show(self, measured: Duration) -> Duration {
        match self {
            Self::Real => measured,
            Self::Frozen => Duration::ZERO,
        }
    }
}

/// An output of the run: it sees every event, in order.
pub(crate) trait Writer: Send {
    /// Shows or keeps what `event` says.
    fn handle(&mut self, event: &Event);
}

/// Several writers as one, each seeing every event in list order.
#[derive(Default)]
pub(crate) struct Tee(pub(crate) Vec<Box<dyn Writer>>);

impl Writer for Tee {
    fn handle(&mut self, event: &Event) {
        for writer in &mut self.0 {
            writer.handle(event);
        }
    }
}

/// The run's event stream: a cheap handle that every part of the run (and
/// the watchdog thread) emits on.
#[derive(Clone)]
pub(crate) struct Events(Arc<Mutex<Box<dyn Writer>>>);

impl Events {
    pub(crate) fn new(writer: Box<dyn Writer>) -> Self {
        Self(Arc::new(Mutex::new(writer)))
    }

    /// Hands `event` to the writers.
    pub(crate) fn emit(&self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .handle(event);
    }

    /// A [`Event::Note`].
    pub(crate) fn note(&self, text: impl Into<String>) {
        self.emit(&Event::Note(text.into()));
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Feeding writers in tests.

    use super::{Event, Writer};
    use std::sync::{Arc, Mutex};

    /// An output that tests read back (shared, `Send`).
    #[derive(Clone, Default)]
    pub(crate) struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Sink {
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).expect("the output is UTF-8")
        }
    }

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Keeps every event it sees.
    #[derive(Clone, Default)]
    pub(crate) struct Collect(pub(crate) Arc<Mutex<Vec<Event>>>);

    impl Writer for Collect {
        fn handle(&mut self, event: &Event) {
            self.0.lock().unwrap().push(event.clone());
        }
    }

    impl Collect {
        /// The faults among the events seen, in order.
        pub(crate) fn faults(&self) -> Vec<super::Fault> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter_map(|event| match event {
                    Event::Fault(fault) => Some((**fault).clone()),
                    _ => None,
                })
                .collect()
        }
    }

    /// Step `name` of `round` on worker1.
    pub(crate) fn id(name: &str, round: u32) -> super::StepId {
        super::StepId {
            name: name.to_owned(),
            round,
            worker: "worker1".to_owned(),
        }
    }

    /// Step `name` of `round` ended with `outcome` after 5 ms, the workers
    /// having printed `logs`.
    pub(crate) fn finished(
        name: &str,
        round: u32,
        outcome: super::Outcome,
        logs: &[super::LogLine],
    ) -> Event {
        Event::StepFinished(super::StepFinished {
            step: id(name, round),
            outcome,
            elapsed: std::time::Duration::from_millis(5),
            logs: logs.to_vec(),
        })
    }

    /// A fresh run's plan over `steps` playing `executions` (a round and a
    /// step's index each).
    pub(crate) fn plan(steps: &[&str], executions: &[(u32, usize)]) -> super::Plan {
        super::Plan {
            steps: steps.iter().map(|name| (*name).to_owned()).collect(),
            executions: executions
                .iter()
                .map(|&(round, step)| super::Execution { round, step })
                .collect(),
            ..super::Plan::default()
        }
    }

    /// Feeds `events` to `writer` in order.
    pub(crate) fn feed(writer: &mut dyn Writer, events: &[Event]) {
        for event in events {
            writer.handle(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Collect;
    use super::*;

    #[test]
    fn a_tee_hands_every_event_to_each_writer_in_order() {
        let (first, second) = (Collect::default(), Collect::default());
        let events = Events::new(Box::new(Tee(vec![
            Box::new(first.clone()),
            Box::new(second.clone()),
        ])));
        events.note("one");
        events.emit(&Event::RoundStarted { round: 2 });
        for seen in [first, second] {
            let seen = seen.0.lock().unwrap();
            assert!(
                matches!(
                    seen.as_slice(),
                    [Event::Note(text), Event::RoundStarted { round: 2 }] if text == "one"
                ),
                "{seen:?}"
            );
        }
    }
}

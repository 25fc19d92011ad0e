//! The record of a run: plain data, serialised as-is into the HTML report.
//!
//! Times are milliseconds: `started_at_unix_ms` is wall-clock, every other
//! `*_ms` instant is an offset from the run's start (monotonic), so timelines
//! line up across workers.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub(crate) use super::outcome::Outcome;
pub(crate) use crate::faults::entry::Entry as Fault;
use crate::process::StopHow;
pub(crate) use crate::process::{LogLine, Stream};

use super::body::Body;

/// One run of a suite.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunRecord {
    /// The task id from config.yaml.
    pub(crate) task_id: String,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub(crate) started_at_unix_ms: u64,
    /// How long the run took.
    pub(crate) duration_ms: u64,
    /// Fresh, or resumed from a saved state.
    pub(crate) start: RunStart,
    /// The suite's workers, in workers.json order.
    pub(crate) workers: Vec<WorkerRecord>,
    /// The rounds played, in order.
    pub(crate) rounds: Vec<RoundRecord>,
    /// Every step's test name in plan (`order`) order, when the harness gave
    /// them: the order of the report's grid columns, which a resumed run's
    /// first round would otherwise set.
    pub(crate) step_order: Vec<String>,
    /// Faults met outside every step: before the first (`setup`) and
    /// between two (`after steps::submit`), in order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) faults_between_steps: Vec<Fault>,
    /// The folder holding the detail of rounds moved out of memory (see
    /// [`RoundRecord::detail`]); not part of the report's data.
    #[serde(skip)]
    pub(crate) detail_dir: Option<PathBuf>,
    /// What went wrong keeping rounds' detail in files, to show as notes.
    #[serde(skip)]
    pub(crate) detail_problems: Vec<String>,
}

/// How the run began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum RunStart {
    /// Fixtures imported, no saved state used.
    Fresh,
    /// Continued from the state file.
    Resumed {
        /// The first round played by this run.
        round: u32,
        /// The first step played in that round, when not its first.
        step: Option<String>,
    },
}

/// A worker process and what it did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerRecord {
    /// Its key in workers.json.
    pub(crate) name: String,
    /// Its staking public key in base58, which names it as a signer.
    pub(crate) public_key: Option<String>,
    /// Starts and exits, in order.
    pub(crate) events: Vec<WorkerEvent>,
}

/// A worker's process starting or exiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WorkerEvent {
    /// When, from the run's start.
    pub(crate) at_ms: u64,
    /// What happened.
    pub(crate) kind: WorkerEventKind,
}

/// What happened to a worker's process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum WorkerEventKind {
    /// The process started and answered on its port.
    Started,
    /// The process exited.
    Exited {
        /// Its exit code, when it exited by itself.
        code: Option<i32>,
        /// The signal that ended it, if one did.
        signal: Option<i32>,
    },
    /// A step stopped (`stop`) or killed (`kill`) the process: the lane
    /// shows a gap until it starts again.
    Stopped {
        how: StopHow,
        /// Its exit code, when it exited by itself.
        code: Option<i32>,
        /// The signal that ended it, if one did.
        signal: Option<i32>,
    },
    /// A step paused the process (SIGSTOP).
    Paused,
    /// A step let the paused process run again.
    Resumed,
}

/// One round: its steps in order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RoundRecord {
    /// The round number, as the steps see it.
    pub(crate) number: u32,
    /// The steps played (or skipped) in this round, in order.
    pub(crate) steps: Vec<StepRecord>,
    /// The file in the record's `detail_dir` that holds this round's
    /// exchanges and log lines, once they left memory; its steps' own
    /// `exchanges` and `log` are empty then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// One step in one round.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepRecord {
    /// The step's Rust path inside the test target (`steps::audit`).
    pub(crate) path: String,
    /// The worker it runs on.
    pub(crate) worker: String,
    /// When it started, from the run's start.
    pub(crate) started_ms: u64,
    /// How long it took.
    pub(crate) duration_ms: u64,
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// Requests made through `runner.http()`, in order.
    pub(crate) exchanges: Vec<Exchange>,
    /// The worker's log lines printed while the step ran.
    pub(crate) log: Vec<LogLine>,
    /// The faults its attempts met, in order, each faulted request with
    /// how it ended; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) faults: Vec<Fault>,
}

impl StepRecord {
    /// The step's id in the reports, `round3/steps::audit[worker2]`: the
    /// round, then the test name with its worker, which an instance of a
    /// multi-worker step already ends with (`steps::does_the_task[worker2]`).
    pub(crate) fn id(&self, round: u32) -> String {
        match self.instance_suffix() {
            Some(_) => format!("round{round}/{}", self.path),
            None => format!("round{round}/{}[{}]", self.path, self.worker),
        }
    }

    /// `[worker2]` when the test name ends with its worker, as an instance
    /// of a multi-worker step's does.
    pub(crate) fn instance_suffix(&self) -> Option<&str> {
        let suffix = self
            .path
            .strip_suffix(']')?
            .strip_suffix(self.worker.as_str())?;
        suffix
            .ends_with('[')
            .then(|| &self.path[suffix.len() - 1..])
    }
}

/// One HTTP request and its response (or the error instead of one).
///
/// Built only by [`Recorder::exchange`](super::recorder::Recorder::exchange), which
/// redacts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Exchange {
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The URL, redacted.
    pub(crate) url: String,
    /// When the request was sent, from the run's start.
    pub(crate) started_ms: u64,
    /// Until the response's body was read (or the request failed).
    pub(crate) duration_ms: u64,
    /// What was sent.
    pub(crate) request: Message,
    /// The status code, when a response came.
    pub(crate) status: Option<u16>,
    /// What came back, when a response came.
    pub(crate) response: Option<Message>,
    /// The transport error, when no response came.
    pub(crate) error: Option<String>,
    /// Koii signatures found in either body, decoded.
    pub(crate) signatures: Vec<DecodedSignature>,
    /// Who made it when it was not the step itself (through `runner.http()`):
    /// a worker's call to the outside world, through the recording proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) origin: Option<Origin>,
}

/// A worker's call to the outside world, and how the recording proxy
/// answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Origin {
    pub(crate) worker: String,
    pub(crate) handling: Handling,
    /// The cassette entry (from 1) a replayed call was answered from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) entry: Option<usize>,
}

/// How the recording proxy answered a worker's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Handling {
    /// From a cassette.
    Replayed,
    /// Forwarded, and taped.
    Recorded,
    /// Forwarded, not taped (`recording.mode: off`, or a fault's own answer).
    Forwarded,
    /// Not on tape in `replay` mode: refused, and its step failed.
    NotOnTape,
}

impl Handling {
    /// Its name in the reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Replayed => "replayed",
            Self::Recorded => "recorded",
            Self::Forwarded => "forwarded",
            Self::NotOnTape => "not on tape",
        }
    }
}

/// Headers and body of a request or response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    /// Name and value, in order; secret ones read `[redacted]`.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as captured.
    pub(crate) body: Body,
}

/// A Koii signed payload found in a body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DecodedSignature {
    /// Where: `request`/`response`, then a JSON pointer (`/signature`) or
    /// empty for a whole text body.
    pub(crate) location: String,
    /// The JSON payload it carries.
    pub(crate) payload: serde_json::Value,
    /// Who signed it, when a known public key verifies it.
    pub(crate) signer: Option<Signer>,
}

/// The public key a signature verifies against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Signer {
    /// The suite's worker with that key, if it is one of theirs.
    pub(crate) worker: Option<String>,
    /// The key in base58.
    pub(crate) public_key: String,
}

impl RunRecord {
    /// Every step of every round with its round number, in order.
    pub(crate) fn steps(&self) -> impl Iterator<Item = (u32, &StepRecord)> {
        self.rounds
            .iter()
            .flat_map(|round| round.steps.iter().map(move |step| (round.number, step)))
    }
}

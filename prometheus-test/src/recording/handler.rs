//! The recording: the proxy's [`Handler`] that answers from cassettes,
//! records into them, and tells the harness what each step did.

use std::path::PathBuf;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::cassette::{Cassette, TapeError};
use super::entry::Entry;
use super::layout::{OUTSIDE_STEPS, StepKey};
use super::matching::Rules;
use super::options::Options;
use super::report::{Exchange, Mismatch, StepTape};
use super::secrets::{Redact, Unrecorded};
use super::tape::Tape;
use crate::config::{Pace, RecordMode as Mode};
use crate::proxy::{Canned, Chunk, Completed, Handler, Outbound, Reply, Shape};
use crate::record::model::{Handling, Origin};

/// The status of the answer to a request replay cannot answer.
pub(crate) const UNMATCHED_STATUS: u16 = 599;

/// Answers the workers' requests from cassettes and records them, as its
/// [`Mode`] says; one cassette per step instance and one for the requests
/// outside steps.
pub(crate) struct Recording {
    mode: Mode,
    dir: PathBuf,
    pace: Pace,
    redact: Redact,
    settle: Duration,
    rules: Rules,
    unrecorded: Unrecorded,
    state: Mutex<State>,
    /// Told each time an exchange ends.
    ended: Notify,
}

#[derive(Debug)]
struct State {
    /// The open step and its number (steps are numbered as they begin).
    step: Option<(u64, Tape)>,
    outside: Tape,
    /// The requests decided and not yet ended.
    open: Vec<Open>,
    requests: u64,
    steps: u64,
}

/// A request decided and not yet ended.
#[derive(Debug)]
struct Open {
    request: Outbound,
    /// The number of the step it came during; `None` outside steps.
    step: Option<u64>,
    handling: Handling,
    /// The entry (from 1) a replayed request is answered from.
    entry: Option<usize>,
    number: u64,
}

impl Recording {
    /// A recording in `mode` with its cassettes in `dir`; reads the cassette
    /// of the requests outside steps (unless it rewrites or ignores it).
    pub(crate) fn new(mode: Mode, dir: PathBuf, options: Options) -> Result<Arc<Self>, TapeError> {
        let rules = Rules::new(
            &options.match_headers,
            &options.ignore_headers,
            &options.ignore_query,
            &options.ignore_body,
        );
        let unrecorded = Unrecorded::new(&options.secret_headers);
        let outside = load(mode, &dir, PathBuf::from(OUTSIDE_STEPS), None)?;
        let outside = Tape::new(outside, &rules, &unrecorded)?;
        Ok(Arc::new(Self {
            mode,
            dir,
            pace: options.pace,
            redact: options.redact,
            settle: options.settle,
            rules,
            unrecorded,
            state: Mutex::new(State {
                step: None,
                outside,
                open: Vec::new(),
                requests: 0,
                steps: 0,
            }),
            ended: Notify::new(),
        }))
    }

    /// From now on requests belong to `step`: its cassette is read (unless
    /// the mode rewrites or ignores it).
    pub(crate) fn begin_step(&self, step: StepKey) -> Result<(), TapeError> {
        if let Some((_, open)) = &self.lock().step {
            return Err(TapeError::StepStillOpen {
                step: open.step_name(),
            });
        }
        let cassette = load(self.mode, &self.dir, step.cassette(), Some(step))?;
        let tape = Tape::new(cassette, &self.rules, &self.unrecorded)?;
        let mut state = self.lock();
        state.steps += 1;
        state.step = Some((state.steps, tape));
        Ok(())
    }

    /// Ends the open step, once the exchanges it started have ended (or
    /// [`Options::settle`] has passed), and writes its cassette in modes
    /// `record` (when something new was recorded) and `all`; `None` when no
    /// step is open.
    pub(crate) async fn end_step(&self) -> Option<StepTape> {
        let number = self.lock().step.as_ref()?.0;
        let deadline = tokio::time::Instant::now() + self.settle;
        loop {
            let mut ended = pin!(self.ended.notified());
            ended.as_mut().enable();
            if !self
                .lock()
                .open
                .iter()
                .any(|open| open.step == Some(number))
            {
                break;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                break;
            }
        }
        let mut state = self.lock();
        let (_, mut tape) = state.step.take()?;
        let (unfinished, open) = std::mem::take(&mut state.open)
            .into_iter()
            .partition(|open| open.step == Some(number));
        state.open = open;
        drop(state);
        let mut report = self.save(&mut tape);
        report.unfinished = unfinished
            .iter()
            .map(|open: &Open| summary(&open.request))
            .collect();
        Some(report)
    }

    /// What happened outside steps since the last call; writes the cassette
    /// of the requests outside steps in modes `record` (when something new
    /// was recorded) and `all`. For after the workers' start-up and the end
    /// of the run.
    pub(crate) fn take_outside(&self) -> StepTape {
        let mut state = self.lock();
        self.save(&mut state.outside)
    }

    /// `tape`'s report, after writing its cassette as the mode says.
    fn save(&self, tape: &mut Tape) -> StepTape {
        let write = match self.mode {
            Mode::Record => tape.has_recorded(),
            Mode::All => true,
            Mode::Replay | Mode::Off => false,
        };
        let mut report = tape.report();
        if write {
            report.error = tape.merge().save(&self.dir, &self.redact).err();
        }
        report
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The reply to `request`, noting it as open.
    fn reply(&self, request: &Outbound) -> Reply {
        let mut state = self.lock();
        let state = &mut *state;
        state.requests += 1;
        let number = state.requests;
        let (step, tape) = match &mut state.step {
            Some((step, tape)) => (Some(*step), tape),
            None => (None, &mut state.outside),
        };
        let forward = Reply::Forward(Shape::default());
        let (handling, entry, reply) = match self.mode {
            Mode::Off => (Handling::Forwarded, None, forward),
            Mode::All => (Handling::Recorded, None, forward),
            Mode::Replay | Mode::Record => {
                let view = self.rules.outbound(request, &self.unrecorded);
                match tape.take_match(&request.client, &view) {
                    Some(at) => (
                        Handling::Replayed,
                        Some(at + 1),
                        Reply::Respond(self.canned(tape.entry(at))),
                    ),
                    None if self.mode == Mode::Record => (Handling::Recorded, None, forward),
                    None => {
                        let mismatch = tape.mismatch(&request.client, &view, summary(request));
                        let reply = Reply::Respond(unmatched(&mismatch));
                        tape.add_mismatch(mismatch);
                        (Handling::NotOnTape, None, reply)
                    }
                }
            }
        };
        state.open.push(Open {
            request: request.clone(),
            step,
            handling,
            entry,
            number,
        });
        reply
    }

    fn canned(&self, entry: &Entry) -> Canned {
        entry
            .canned(self.pace, &self.unrecorded)
            .unwrap_or_else(|error| plain(UNMATCHED_STATUS, format!("cassette entry: {error}")))
    }
}

impl Handler for Recording {
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply> {
        Box::pin(std::future::ready(self.reply(request)))
    }

    fn completed(&self, exchange: Completed) {
        self.finish(&exchange);
    }
}

impl Recording {
    /// Files `exchange` (recorded into its step's tape when it is to be);
    /// who made it and how it was answered, once it was decided here.
    pub(crate) fn finish(&self, exchange: &Completed) -> Option<Origin> {
        let mut state = self.lock();
        let state = &mut *state;
        let at = state
            .open
            .iter()
            .position(|open| open.request == exchange.request)?;
        let open = state.open.remove(at);
        let origin = |handling| Origin {
            worker: open.request.client.clone(),
            handling,
            entry: open.entry,
        };
        let tape = match (open.step, &mut state.step) {
            (None, _) => &mut state.outside,
            (Some(number), Some((step, tape))) if number == *step => tape,
            // Its step ended without it: reported there as unfinished.
            (Some(_), _) => return Some(origin(open.handling)),
        };
        let mut handling = open.handling;
        let mut error = exchange.error.clone();
        if handling == Handling::Recorded {
            let recorded = Entry::of(exchange, &self.unrecorded).and_then(|entry| {
                let view = self.rules.recorded(&entry.request, &self.unrecorded)?;
                Ok((entry, view))
            });
            match recorded {
                Ok((entry, view)) => tape.record(open.number, entry, view),
                Err(why) => {
                    handling = Handling::Forwarded;
                    error = Some(why);
                }
            }
        }
        let request = &exchange.request;
        tape.add_exchange(Exchange {
            client: request.client.clone(),
            method: request.method.clone(),
            url: request.url.clone(),
            handling,
            entry: open.entry,
            status: exchange.response.as_ref().map(|response| response.status),
            duration: exchange.duration,
            error,
        });
        self.ended.notify_waiters();
        Some(origin(handling))
    }
}

/// The cassette at `path`, read when `mode` answers from it.
fn load(
    mode: Mode,
    dir: &std::path::Path,
    path: PathBuf,
    step: Option<StepKey>,
) -> Result<Cassette, TapeError> {
    match mode {
        Mode::Replay | Mode::Record => Cassette::load(dir, path, step),
        Mode::All | Mode::Off => Ok(Cassette::empty(path, step)),
    }
}

/// `worker1 POST https://…`.
fn summary(request: &Outbound) -> String {
    format!("{} {} {}", request.client, request.method, request.url)
}

/// The answer to a request replay cannot answer: the mismatch's text.
fn unmatched(mismatch: &Mismatch) -> Canned {
    plain(
        UNMATCHED_STATUS,
        format!("prometheus-test replay: {mismatch}\n"),
    )
}

fn plain(status: u16, text: String) -> Canned {
    Canned {
        status,
        headers: vec![(
            "content-type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        )],
        body: vec![Chunk {
            after: Duration::ZERO,
            bytes: Bytes::from(text),
        }],
    }
}

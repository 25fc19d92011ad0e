//! The fault layer: a [`Handler`] in front of another (the recording, or a
//! plain forwarder) that decides, request by request, whether a fault
//! answers instead, and keeps the history.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::context::{Counting, StepAt};
use super::history::{Entry, History};
use super::link::{Known, Link};
use super::schedule::{ChurnFault, Injected, Schedule};
use super::scripted::Scripted;
use super::seed::Seed;
use crate::proxy::{Canned, Chunk, Completed, Handler, Outbound, Reply, Served, Shape};

/// What a run's faults are drawn from.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) seed: Seed,
    pub(crate) schedule: Schedule,
    /// The names scripts may use.
    pub(crate) known: Known,
    /// The peers requests are sent to by address: (`127.0.0.1:5002`,
    /// `worker2`), so that their link names them.
    pub(crate) peers: Vec<(String, String)>,
}

/// A faulted request waiting to be told how it ended.
type Pending = (Outbound, Entry);

/// Decides each request's faults, then hands the rest to `inner`.
pub(crate) struct FaultLayer {
    plan: Plan,
    inner: Arc<dyn Handler>,
    scripted: Arc<Scripted>,
    counting: Mutex<Counting>,
    history: Arc<History>,
    pending: Mutex<Vec<Pending>>,
}

impl FaultLayer {
    pub(crate) fn new(plan: Plan, inner: Arc<dyn Handler>, history: Arc<History>) -> Self {
        let scripted = Arc::new(Scripted::new(plan.known.clone()));
        Self {
            plan,
            inner,
            scripted,
            counting: Mutex::default(),
            history,
            pending: Mutex::default(),
        }
    }

    /// Before each attempt of a step instance: requests from now on are
    /// counted in it, from 0 on every link.
    pub(crate) fn begin_step(&self, round: u32, step: &str, attempt: u32) {
        self.scripted.heal_all();
        self.counting().enter(StepAt::new(round, step, attempt));
    }

    /// After each attempt: the step's scripted faults are healed, and the
    /// requests until the next step are counted as `after <step>`.
    pub(crate) fn end_step(&self) {
        self.scripted.heal_all();
        let mut counting = self.counting();
        let after = counting.at().after();
        counting.enter(after);
    }

    /// The fault the schedule gives `worker` in the current step, if one;
    /// written to the history. The harness asks once a step attempt for
    /// each worker it runs, after `begin_step`, and applies it.
    pub(crate) fn churn_for(&self, worker: &str) -> Option<ChurnFault> {
        let at = self.counting().at().clone();
        let fault = self.plan.schedule.churn_for(self.plan.seed, &at, worker)?;
        self.history.record(Entry {
            round: at.round,
            step: at.step,
            attempt: at.attempt,
            link: None,
            worker: Some(worker.to_owned()),
            n: None,
            request: None,
            fault: fault.to_string(),
            by: None,
            outcome: None,
            at_ms: 0,
        });
        Some(fault)
    }

    /// The faults steps script (what `runner.faults()` hands out).
    pub(crate) fn scripted(&self) -> Arc<Scripted> {
        Arc::clone(&self.scripted)
    }

    fn counting(&self) -> std::sync::MutexGuard<'_, Counting> {
        self.counting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fault `request` gets, if one, written to the history.
    fn draw(&self, request: &Outbound) -> Option<Injected> {
        let link = Link::of_request(&request.client, &request.url, &self.plan.peers);
        let (at, n) = self.counting().next(&link);
        let request_line = format!("{} {}", request.method, path_of(&request.url));
        let (injected, by) = match self.scripted.for_link(&link) {
            Some(injected) => (injected, Some("script".to_owned())),
            None => (
                self.plan
                    .schedule
                    .for_request(self.plan.seed, &at, &link, &request_line, n)?,
                None,
            ),
        };
        let entry = Entry {
            round: at.round,
            step: at.step,
            attempt: at.attempt,
            link: Some(link.to_string()),
            worker: None,
            n: Some(n),
            request: Some(request_line),
            fault: injected.to_string(),
            by,
            outcome: None,
            at_ms: 0,
        };
        self.history.record(entry.clone());
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((request.clone(), entry));
        Some(injected)
    }
}

impl Handler for FaultLayer {
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply> {
        Box::pin(async move {
            match self.draw(request) {
                None => self.inner.decide(request).await,
                Some(injected) => apply(injected, self.inner.as_ref(), request).await,
            }
        })
    }

    fn completed(&self, exchange: Completed) {
        let faulted = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending
                .iter()
                .position(|(request, _)| *request == exchange.request)
                .map(|index| pending.remove(index).1)
        };
        if let Some(entry) = faulted {
            self.history.record(Entry {
                outcome: Some(outcome(&exchange)),
                ..entry
            });
        }
        self.inner.completed(exchange);
    }
}

/// How a faulted exchange ended, in the history's words.
fn outcome(exchange: &Completed) -> String {
    let status = exchange.response.as_ref().map(|seen| seen.status);
    match (exchange.served, status, &exchange.error) {
        (Served::Reset, ..) => "reset".to_owned(),
        (Served::Hung, ..) => "hung".to_owned(),
        (Served::Responded, Some(status), _) => format!("responded {status}"),
        (Served::Forwarded, Some(status), None) => format!("forwarded {status}"),
        (Served::Forwarded, Some(status), Some(_)) => format!("forwarded {status}, cut"),
        (Served::Responded | Served::Forwarded, None, _) => "failed".to_owned(),
    }
}

/// The path of `url`, without scheme, host or query.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |start| &rest[start..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// The reply `injected` makes of `request`, asking `inner` where the fault
/// shapes a response rather than replacing it.
async fn apply(injected: Injected, inner: &dyn Handler, request: &Outbound) -> Reply {
    match injected {
        Injected::Reset | Injected::Partition => Reply::Reset,
        Injected::Timeout => Reply::Hang,
        Injected::Error { status, body } => Reply::Respond(Canned {
            status,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: vec![Chunk {
                after: Duration::ZERO,
                bytes: body.into(),
            }],
        }),
        Injected::Delay(delay) => match inner.decide(request).await {
            Reply::Forward(shape) => Reply::Forward(Shape {
                delay: shape.delay + delay,
                ..shape
            }),
            // The proxy delays only what it forwards: the rest waits here,
            // head and all, as a slow link would.
            other => {
                tokio::time::sleep(delay).await;
                other
            }
        },
        Injected::Bandwidth(rate) => match inner.decide(request).await {
            Reply::Forward(shape) => Reply::Forward(Shape {
                bytes_per_second: Some(shape.bytes_per_second.map_or(rate, |own| own.min(rate))),
                ..shape
            }),
            Reply::Respond(canned) => Reply::Respond(slowed(canned, rate)),
            other => other,
        },
        Injected::Cut(after) => match inner.decide(request).await {
            Reply::Forward(shape) => Reply::Forward(Shape {
                cut_after: Some(shape.cut_after.map_or(after, |own| own.min(after))),
                ..shape
            }),
            Reply::Respond(canned) => Reply::Respond(cut(canned, after)),
            other => other,
        },
    }
}

/// `canned` sent no faster than `rate` bytes a second: each piece comes
/// after the time its bytes take at that rate.
fn slowed(mut canned: Canned, rate: u64) -> Canned {
    let rate = rate.max(1);
    for chunk in &mut canned.body {
        let bytes = chunk.bytes.len() as u64;
        chunk.after += Duration::from_millis(bytes.saturating_mul(1000) / rate);
    }
    canned
}

/// `canned` with its body cut after `after` bytes. The proxy frames a
/// canned body whole, so the client sees a short body rather than a
/// broken connection: see the module's limits.
fn cut(mut canned: Canned, after: u64) -> Canned {
    let mut left = usize::try_from(after).unwrap_or(usize::MAX);
    canned.body.retain_mut(|chunk| {
        if left == 0 {
            return false;
        }
        let keep = chunk.bytes.len().min(left);
        chunk.bytes.truncate(keep);
        left -= keep;
        true
    });
    canned
}

#[cfg(test)]
mod tests;

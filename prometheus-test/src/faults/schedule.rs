//! The `faults:` schedule: which faults hit which links (or workers) in
//! which rounds, and how likely; and what it draws for a request or a step.

use std::fmt;
use std::time::Duration;

use super::context::StepAt;
use super::link::{Link, LinkPattern, glob};
use super::mix::DrawAt;
use super::seed::Seed;

/// A fault of a link, as the schedule or a script names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkFault {
    /// Each request waits `ms` ± up to `jitter_ms` before it goes on.
    Latency { ms: u64, jitter_ms: u64 },
    /// The response comes at most this fast.
    Bandwidth { bytes_per_second: u64 },
    /// The connection is closed without an answer.
    Reset,
    /// The request is accepted and never answered.
    Timeout,
    /// The response is cut after this many bytes of its body.
    Cut { after_bytes: u64 },
    /// The request is answered with this status and body.
    Error { status: u16, body: String },
    /// Every request on the link is refused (a reset) for the whole step.
    Partition,
}

impl LinkFault {
    /// The kinds' names, as config.yaml writes them.
    pub(crate) const KINDS: &'static [&'static str] = &[
        "latency",
        "bandwidth",
        "reset",
        "timeout",
        "cut",
        "error",
        "partition",
    ];
}

impl fmt::Display for LinkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latency { ms, jitter_ms: 0 } => write!(f, "latency {ms}ms"),
            Self::Latency { ms, jitter_ms } => write!(f, "latency {ms}ms±{jitter_ms}ms"),
            Self::Bandwidth { bytes_per_second } => write!(f, "bandwidth {bytes_per_second}B/s"),
            Self::Reset => f.write_str("reset"),
            Self::Timeout => f.write_str("timeout"),
            Self::Cut { after_bytes } => write!(f, "cut after {after_bytes}B"),
            Self::Error { status, body } => write!(f, "error {status} {body:?}"),
            Self::Partition => f.write_str("partition"),
        }
    }
}

/// A fault of a worker, drawn once a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChurnFault {
    /// Killed (SIGKILL), not started again by the fault.
    Crash,
    /// Paused (SIGSTOP) for `ms`, then resumed.
    Pause { ms: u64 },
    /// Stopped and started again.
    Restart,
}

impl ChurnFault {
    /// The kinds' names, as config.yaml writes them.
    pub(crate) const KINDS: &'static [&'static str] = &["crash", "pause", "restart"];
}

impl fmt::Display for ChurnFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crash => f.write_str("crash"),
            Self::Pause { ms } => write!(f, "pause {ms}ms"),
            Self::Restart => f.write_str("restart"),
        }
    }
}

/// What one request gets, drawn: a link fault with its numbers settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    Delay(Duration),
    Bandwidth(u64),
    Reset,
    Timeout,
    Cut(u64),
    Error { status: u16, body: String },
    Partition,
}

impl fmt::Display for Injected {
    /// As the history writes it: `latency 230ms`, `error 503`, `reset`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Delay(delay) => write!(f, "latency {}ms", delay.as_millis()),
            Self::Bandwidth(rate) => write!(f, "bandwidth {rate}B/s"),
            Self::Reset => f.write_str("reset"),
            Self::Timeout => f.write_str("timeout"),
            Self::Cut(after) => write!(f, "cut after {after}B"),
            Self::Error { status, .. } => write!(f, "error {status}"),
            Self::Partition => f.write_str("partition"),
        }
    }
}

/// Rounds an entry applies in, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rounds {
    pub(crate) first: u32,
    pub(crate) last: u32,
}

impl Rounds {
    /// Every round (and the set-up before them).
    pub(crate) const ALL: Self = Self {
        first: 0,
        last: u32::MAX,
    };

    pub(crate) fn contains(self, round: u32) -> bool {
        (self.first..=self.last).contains(&round)
    }
}

impl fmt::Display for Rounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first, self.last) {
            (0, u32::MAX) => f.write_str("all"),
            (first, last) if first == last => write!(f, "{first}"),
            (first, last) => write!(f, "{first}..{last}"),
        }
    }
}

/// What an entry faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The requests on the links a pattern names.
    Link(LinkPattern, LinkFault),
    /// The workers a name pattern names, once a step.
    Worker(String, ChurnFault),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Link(pattern, fault) => write!(f, "{pattern} {fault}"),
            Self::Worker(pattern, fault) => write!(f, "{pattern} {fault}"),
        }
    }
}

/// One entry of the schedule.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rule {
    pub(crate) scope: Scope,
    pub(crate) rounds: Rounds,
    /// Per request (per step for a partition or a worker's fault).
    pub(crate) probability: f64,
    /// Only the requests whose `METHOD /path` this glob matches (a link's
    /// entry), e.g. `POST /audit/*`; every request when `None`.
    pub(crate) requests: Option<String>,
    /// Where it was written (`config.yaml: line 7`), for messages.
    pub(crate) at: String,
    /// How messages name it: `faults[2]`, `fault_profiles.chaos[0]`.
    pub(crate) name: String,
    /// What its draws are tagged with: its own content, so that adding,
    /// removing or moving another entry leaves this one's draws alone. The
    /// probability is left out: raised, it keeps every fault it drew lower.
    tag: String,
}

impl Rule {
    pub(crate) fn new(scope: Scope, rounds: Rounds, probability: f64, at: String) -> Self {
        let tag = format!("{scope} rounds {rounds}");
        Self {
            scope,
            rounds,
            probability,
            requests: None,
            at,
            name: "faults".to_owned(),
            tag,
        }
    }

    /// The rule named `name` in messages.
    pub(crate) fn named(self, name: String) -> Self {
        Self { name, ..self }
    }

    /// The rule for the requests `pattern` matches only (`POST /audit/*`).
    pub(crate) fn for_requests(self, pattern: String) -> Self {
        let tag = format!("{} requests {pattern}", self.tag);
        Self {
            requests: Some(pattern),
            tag,
            ..self
        }
    }

    /// Whether the rule applies to a request whose first line reads
    /// `request` (`POST /audit/2`, no query).
    fn takes(&self, request: &str) -> bool {
        self.requests
            .as_deref()
            .is_none_or(|pattern| glob(pattern, request))
    }

    /// Whether the draw for `subject` (its `n`-th) fires.
    fn fires(&self, seed: Seed, at: &StepAt, subject: &str, n: u64) -> bool {
        draw_at(at, subject, n, &self.tag).draw(seed.0).unit() < self.probability
    }
}

/// The place of a draw in `at` for `subject`'s `n`-th, for `purpose`.
fn draw_at<'a>(at: &'a StepAt, subject: &'a str, n: u64, purpose: &'a str) -> DrawAt<'a> {
    DrawAt {
        round: at.round,
        step: &at.step,
        attempt: at.attempt,
        subject,
        n,
        purpose,
    }
}

/// The whole `faults:` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Schedule {
    pub(crate) rules: Vec<Rule>,
}

impl Schedule {
    /// The links' entries in force in `at`'s round for `request` on `link`.
    fn link_rules<'a>(
        &'a self,
        at: &'a StepAt,
        link: &'a Link,
        request: &'a str,
    ) -> impl Iterator<Item = (&'a Rule, &'a LinkPattern, &'a LinkFault)> + 'a {
        self.rules.iter().filter_map(move |rule| match &rule.scope {
            Scope::Link(pattern, fault)
                if rule.rounds.contains(at.round)
                    && pattern.matches(link)
                    && rule.takes(request) =>
            {
                Some((rule, pattern, fault))
            }
            _ => None,
        })
    }

    /// What the `n`-th request on `link` in `at` gets, if a fault
    /// (`request`: its `METHOD /path`): a partition drawn for the step
    /// first, then the other entries in the file's order, the first that
    /// fires.
    pub(crate) fn for_request(
        &self,
        seed: Seed,
        at: &StepAt,
        link: &Link,
        request: &str,
        n: u64,
    ) -> Option<Injected> {
        let partitioned = self
            .link_rules(at, link, request)
            .any(|(rule, pattern, fault)| {
                // One draw a step for the whole pattern: the links it names
                // are cut together.
                *fault == LinkFault::Partition && rule.fires(seed, at, &pattern.to_string(), 0)
            });
        if partitioned {
            return Some(Injected::Partition);
        }
        let subject = link.to_string();
        self.link_rules(at, link, request)
            .filter(|(_, _, fault)| **fault != LinkFault::Partition)
            .find(|(rule, _, _)| rule.fires(seed, at, &subject, n))
            .map(|(rule, _, fault)| settle(fault, rule, seed, at, &subject, n))
    }

    /// The fault worker `worker` gets in `at`, if one: drawn once a step,
    /// the first entry that fires.
    pub(crate) fn churn_for(&self, seed: Seed, at: &StepAt, worker: &str) -> Option<ChurnFault> {
        self.rules.iter().find_map(|rule| match &rule.scope {
            Scope::Worker(pattern, fault)
                if rule.rounds.contains(at.round)
                    && glob(pattern, worker)
                    && rule.fires(seed, at, worker, 0) =>
            {
                Some(*fault)
            }
            _ => None,
        })
    }
}

/// `fault` with its numbers drawn (a latency's jitter).
fn settle(
    fault: &LinkFault,
    rule: &Rule,
    seed: Seed,
    at: &StepAt,
    subject: &str,
    n: u64,
) -> Injected {
    match fault {
        LinkFault::Latency { ms, jitter_ms } => {
            let jitter = i64::try_from(*jitter_ms).unwrap_or(i64::MAX);
            let purpose = format!("{} jitter", rule.tag);
            let offset = draw_at(at, subject, n, &purpose)
                .draw(seed.0)
                .between(-jitter, jitter);
            let ms = ms.saturating_add_signed(offset);
            Injected::Delay(Duration::from_millis(ms))
        }
        LinkFault::Bandwidth { bytes_per_second } => Injected::Bandwidth(*bytes_per_second),
        LinkFault::Reset => Injected::Reset,
        LinkFault::Timeout => Injected::Timeout,
        LinkFault::Cut { after_bytes } => Injected::Cut(*after_bytes),
        LinkFault::Error { status, body } => Injected::Error {
            status: *status,
            body: body.clone(),
        },
        LinkFault::Partition => Injected::Partition,
    }
}

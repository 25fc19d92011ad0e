//! config.yaml's `faults` section: which faults the run draws, on which
//! links or workers, in which rounds, how likely.
//!
//! ```yaml
//! faults:
//!   - link: "worker*->api.anthropic.com"  # from->to; `*`: any run of characters
//!     rounds: 2..3                        # optional: a round, or a range (inclusive)
//!     probability: 0.2                    # per request; 1 when left out
//!     latency: { ms: 200, jitter_ms: 50 }
//!   - link: "runner->worker2"
//!     request: "POST /audit/*"            # optional: only these requests (`METHOD /path`)
//!     probability: 0.1
//!     reset: {}
//!   - link: "worker3->*"
//!     error: { status: 503, body: "busy" }
//!     probability: 0.05
//!   - worker: worker3                     # a worker's fault, drawn once a step
//!     rounds: 3
//!     probability: 0.5
//!     crash: {}                           # or pause: {ms: 500}, restart: {}
//!
//! fault_profiles:                           # named lists; `faults: chaos` picks one
//!   chaos:
//!     - link: "runner->*"
//!       latency: { ms: 20 }
//! ```
//!
//! A link's kinds: `latency {ms, jitter_ms}`, `bandwidth {bytes_per_second}`,
//! `reset`, `timeout`, `cut {after_bytes}`, `error {status, body}`,
//! `partition` (drawn once a step: every request on the links it names is
//! refused for the step). A worker's: `crash`, `pause {ms}`, `restart`.
//! Whether the names exist is checked once workers.json is read
//! ([`check_fault_names`]).

mod item_lines;

use serde_yaml_ng::{Mapping, Value};

use self::item_lines::line_in_item;
use super::Problems;
use super::reader::{Reader, listed};
use super::typed::found;
use super::typos::likely_meant;
use crate::faults::link::{Known, LinkPattern};
use crate::faults::schedule::{ChurnFault, LinkFault, Rounds, Rule, Schedule, Scope};

/// The keys of an entry besides its kind.
const ENTRY_KEYS: &[&str] = &["link", "worker", "request", "rounds", "probability"];

/// config.yaml's `faults` value, `None` without the key (`shown`: the file
/// as messages name it; `text`: its text, for the entries' lines); problems
/// go to `reader`.
pub(super) fn fault_settings(reader: &mut Reader<'_>, shown: &str, text: &str) -> Option<Schedule> {
    let profiles = profiles(reader, shown, text);
    let value = reader.value(&["faults"])?;
    match value {
        Value::Sequence(items) => {
            let mut entries = Entries {
                reader,
                shown,
                text,
                list: vec!["faults".to_owned()],
            };
            Some(entries.schedule(items))
        }
        Value::String(name) => {
            let selected = profiles.iter().find(|(profile, _)| profile == name);
            if let Some((_, schedule)) = selected {
                return Some(schedule.clone());
            }
            let defined: Vec<&str> = profiles.iter().map(|(name, _)| name.as_str()).collect();
            let why = match (defined.is_empty(), likely_meant(name, &defined)) {
                (true, _) => "config.yaml has no `fault_profiles`".to_owned(),
                (false, Some(meant)) => format!("did you mean `{meant}`?"),
                (false, None) => format!("it defines {}", quoted(&defined)),
            };
            reader.problem(
                &["faults"],
                format_args!("`faults` names the profile `{name}`, which `fault_profiles` does not define: {why}"),
            );
            Some(Schedule::default())
        }
        other => {
            let found = found(other);
            reader.problem(
                &["faults"],
                format_args!(
                    "`faults` must be a list of faults or the name of one of `fault_profiles`, \
                     found {found}"
                ),
            );
            Some(Schedule::default())
        }
    }
}

/// config.yaml's `fault_profiles`: named lists of faults that `faults`
/// (or `PROMETHEUS_TEST_SET_FAULTS`) picks by name. Every profile is
/// checked, the ones not picked too, so that a broken profile is found by
/// the runs that do not use it.
fn profiles(reader: &mut Reader<'_>, shown: &str, text: &str) -> Vec<(String, Schedule)> {
    let Some(mapping) = reader.mapping(
        &["fault_profiles"],
        "a mapping of profile names to lists of faults",
    ) else {
        return Vec::new();
    };
    let mut profiles = Vec::new();
    for (key, value) in mapping {
        let Some(name) = key.as_str() else {
            reader.problem(
                &["fault_profiles"],
                format_args!(
                    "`fault_profiles` keys must be profile names, found {}",
                    found(key)
                ),
            );
            continue;
        };
        let Value::Sequence(items) = value else {
            reader.problem(
                &["fault_profiles", name],
                format_args!(
                    "`fault_profiles.{name}` must be a list of faults, found {}",
                    found(value)
                ),
            );
            continue;
        };
        let mut entries = Entries {
            reader,
            shown,
            text,
            list: vec!["fault_profiles".to_owned(), name.to_owned()],
        };
        profiles.push((name.to_owned(), entries.schedule(items)));
    }
    profiles
}

/// Whether every entry of `schedule` names something `known`: a link
/// pattern must match a sender and a receiver (or an outside host), a
/// worker pattern a worker. One problem an entry, at its line.
pub(crate) fn check_fault_names(schedule: &Schedule, known: &Known) -> Result<(), Problems> {
    let mut problems = Problems::default();
    for rule in &schedule.rules {
        let name = &rule.name;
        let why = match &rule.scope {
            Scope::Link(pattern, _) => pattern
                .names_something(known)
                .err()
                .map(|why| format!("`{name}.link` `{pattern}` names no link: {why}")),
            Scope::Worker(pattern, _) => known
                .worker_named(pattern)
                .err()
                .map(|why| format!("`{name}.worker` {why}")),
        };
        if let Some(why) = why {
            problems.push(format!("{}: {why}", rule.at));
        }
    }
    problems.into_result(())
}

/// The entries of `faults`, read with their lines.
struct Entries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    shown: &'r str,
    text: &'r str,
    /// The keys down to the list: `faults`, or `fault_profiles`, `chaos`.
    list: Vec<String>,
}

impl Entries<'_, '_> {
    /// The schedule of the list's `items`, its bad entries reported.
    fn schedule(&mut self, items: &[Value]) -> Schedule {
        let rules = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.rule(index, item))
            .collect();
        Schedule { rules }
    }

    /// How messages name entry `index`: `faults[2]`, `fault_profiles.chaos[0]`.
    fn item(&self, index: usize) -> String {
        format!("{}[{index}]", self.list.join("."))
    }

    /// Where `path` inside entry `index` is written: its line, or the
    /// entry's, or the `faults` key's (or the override that set it).
    fn at(&self, index: usize, path: &[&str]) -> String {
        let list: Vec<&str> = self.list.iter().map(String::as_str).collect();
        if self.reader.override_of(&list).is_some() {
            return self.reader.at(&list);
        }
        line_in_item(self.text, &list, index, path)
            .or_else(|| line_in_item(self.text, &list, index, &[]))
            .map_or_else(
                || self.reader.at(&list),
                |line| format!("{}: line {line}", self.shown),
            )
    }

    fn problem(&mut self, index: usize, path: &[&str], message: impl std::fmt::Display) {
        let at = self.at(index, path);
        self.reader.problems.push(format!("{at}: {message}"));
    }

    /// Entry `index`, if it is a valid one.
    fn rule(&mut self, index: usize, item: &Value) -> Option<Rule> {
        let name = self.item(index);
        let Value::Mapping(entry) = item else {
            self.problem(
                index,
                &[],
                format_args!(
                    "`{name}` must be a mapping with `link` or `worker`, a kind of fault and \
                     its `probability`, found {}",
                    found(item)
                ),
            );
            return None;
        };
        let kinds: Vec<&str> = entry
            .keys()
            .filter_map(Value::as_str)
            .filter(|key| is_kind(key))
            .collect();
        let known_keys = self.unknown_keys(index, entry);
        let target = self.target(index, entry);
        let rounds = self.rounds(index, entry);
        let probability = self.probability(index, entry);
        let kind = match kinds.as_slice() {
            [] if known_keys => {
                self.problem(
                    index,
                    &[],
                    format_args!(
                        "`{name}` names no fault: give one of {} (a link's) or {} (a worker's)",
                        quoted(LinkFault::KINDS),
                        quoted(ChurnFault::KINDS)
                    ),
                );
                None
            }
            [kind] => Some(*kind),
            [first, second, ..] => {
                self.problem(
                    index,
                    &[second],
                    format_args!(
                        "`{name}` has two kinds, `{first}` and `{second}`: an entry takes one \
                         (write one entry each)"
                    ),
                );
                None
            }
            [] => None,
        };
        let requests = self.requests(index, entry, target.as_ref());
        let scope = self.scope(index, entry, target?, kind?)?;
        let at = self.at(index, &[target_key(&scope)]);
        let rule = Rule::new(scope, rounds?, probability?, at).named(name);
        Some(match requests.ok()? {
            Some(pattern) => rule.for_requests(pattern),
            None => rule,
        })
    }

    /// `request`: which requests of a link's entry it faults, as a glob of
    /// `METHOD /path` (`POST /audit/*`); `Ok(None)` when left out, `Err`
    /// when reported as wrong.
    fn requests(
        &mut self,
        index: usize,
        entry: &Mapping,
        target: Option<&Target>,
    ) -> Result<Option<String>, ()> {
        let item = self.item(index);
        let Some(value) = entry.get("request") else {
            return Ok(None);
        };
        if matches!(target, Some(Target::Worker(_))) {
            self.problem(
                index,
                &["request"],
                format_args!(
                    "`{item}.request` picks a link's requests: it takes `link`, not `worker`"
                ),
            );
            return Err(());
        }
        let pattern = value.as_str().map(str::trim).filter(|pattern| {
            pattern.split_once(' ').is_some_and(|(method, path)| {
                !method.is_empty() && (path.starts_with('/') || path.starts_with('*'))
            })
        });
        if pattern.is_none() {
            self.problem(
                index,
                &["request"],
                format_args!(
                    "`{item}.request` must be `METHOD /path` (`*`: any run of characters, \
                     such as `POST /audit/*` or `* /health`), found {}",
                    found(value)
                ),
            );
        }
        pattern.map(|pattern| Some(pattern.to_owned())).ok_or(())
    }

    /// Whether every key of `entry` is known (a problem for each other).
    fn unknown_keys(&mut self, index: usize, entry: &Mapping) -> bool {
        let item = self.item(index);
        let known: Vec<&str> = ENTRY_KEYS
            .iter()
            .chain(LinkFault::KINDS)
            .chain(ChurnFault::KINDS)
            .copied()
            .collect();
        let mut all_known = true;
        for key in entry.keys() {
            let text = key.as_str().unwrap_or_default();
            if known.contains(&text) {
                continue;
            }
            all_known = false;
            let hint = likely_meant(text, &known)
                .map(|meant| format!("; did you mean `{meant}`?"))
                .unwrap_or_default();
            let shown = key.as_str().map_or_else(|| found(key), str::to_owned);
            self.problem(
                index,
                &[text],
                format_args!(
                    "`{item}.{shown}` is unknown: an entry takes `link` (and `request`) or \
                     `worker`, `rounds`, `probability` and one kind of fault: {} (a link's) or {} (a \
                     worker's){hint}",
                    quoted(LinkFault::KINDS),
                    quoted(ChurnFault::KINDS)
                ),
            );
        }
        all_known
    }

    /// `link` or `worker`.
    fn target(&mut self, index: usize, entry: &Mapping) -> Option<Target> {
        let item = self.item(index);
        match (entry.get("link"), entry.get("worker")) {
            (Some(_), Some(_)) => {
                self.problem(
                    index,
                    &["worker"],
                    format_args!(
                        "`{item}` has both `link` and `worker`: an entry faults links \
                         or a worker"
                    ),
                );
                None
            }
            (None, None) => {
                self.problem(
                    index,
                    &[],
                    format_args!(
                        "`{item}` needs `link` (`from->to`) or `worker` (a worker's name)"
                    ),
                );
                None
            }
            (Some(link), None) => {
                let parsed = link.as_str().map(LinkPattern::parse);
                match parsed {
                    Some(Ok(pattern)) => Some(Target::Link(pattern)),
                    Some(Err(why)) => {
                        let written = found(link);
                        self.problem(
                            index,
                            &["link"],
                            format_args!("`{item}.link` {why}, found {written}"),
                        );
                        None
                    }
                    None => {
                        self.problem(
                            index,
                            &["link"],
                            format_args!(
                                "`{item}.link` must be `from->to` (a string), found {}",
                                found(link)
                            ),
                        );
                        None
                    }
                }
            }
            (None, Some(worker)) => {
                if let Some(name) = worker.as_str().filter(|w| !w.trim().is_empty()) {
                    return Some(Target::Worker(name.to_owned()));
                }
                self.problem(
                    index,
                    &["worker"],
                    format_args!(
                        "`{item}.worker` must be a worker's name, found {}",
                        found(worker)
                    ),
                );
                None
            }
        }
    }

    /// `rounds`: every round when left out.
    fn rounds(&mut self, index: usize, entry: &Mapping) -> Option<Rounds> {
        let item = self.item(index);
        let Some(value) = entry.get("rounds") else {
            return Some(Rounds::ALL);
        };
        let round = |v: &Value| {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
        };
        let range = |text: &str| {
            let (first, last) = text.split_once("..")?;
            let first = first.trim().parse::<u32>().ok().filter(|n| *n > 0)?;
            let last = last.trim().parse::<u32>().ok().filter(|n| *n >= first)?;
            Some(Rounds { first, last })
        };
        let read = match value {
            Value::String(text) => range(text),
            other => round(other).map(|n| Rounds { first: n, last: n }),
        };
        if read.is_none() {
            self.problem(
                index,
                &["rounds"],
                format_args!(
                    "`{item}.rounds` must be a round (an integer from 1) or a range \
                     such as `2..3`, found {}",
                    found(value)
                ),
            );
        }
        read
    }

    /// `probability`: 1 when left out.
    fn probability(&mut self, index: usize, entry: &Mapping) -> Option<f64> {
        let item = self.item(index);
        let Some(value) = entry.get("probability") else {
            return Some(1.0);
        };
        let read = value.as_f64().filter(|p| (0.0..=1.0).contains(p));
        if read.is_none() {
            self.problem(
                index,
                &["probability"],
                format_args!(
                    "`{item}.probability` must be a number from 0 to 1, found {}",
                    found(value)
                ),
            );
        }
        read
    }

    /// The fault `kind` of entry `index` with its parameters, for `target`.
    fn scope(
        &mut self,
        index: usize,
        entry: &Mapping,
        target: Target,
        kind: &str,
    ) -> Option<Scope> {
        let item = self.item(index);
        let params = Params {
            index,
            kind,
            value: entry.get(kind).unwrap_or(&Value::Null),
        };
        let is_link_kind = LinkFault::KINDS.contains(&kind);
        match target {
            Target::Link(pattern) if is_link_kind => {
                Some(Scope::Link(pattern, self.link_fault(&params)?))
            }
            Target::Worker(worker) if !is_link_kind => {
                Some(Scope::Worker(worker, self.churn_fault(&params)?))
            }
            Target::Link(_) => {
                self.problem(
                    index,
                    &[kind],
                    format_args!(
                        "`{item}.{kind}` is a worker's fault: it takes `worker`, not `link`"
                    ),
                );
                None
            }
            Target::Worker(_) => {
                self.problem(
                    index,
                    &[kind],
                    format_args!(
                        "`{item}.{kind}` is a link's fault: it takes `link`, not `worker`"
                    ),
                );
                None
            }
        }
    }

    fn link_fault(&mut self, params: &Params<'_>) -> Option<LinkFault> {
        let fault = match params.kind {
            "latency" => {
                let [ms, jitter_ms] =
                    self.numbers(params, &[("ms", true), ("jitter_ms", false)])?;
                LinkFault::Latency {
                    ms: ms?,
                    jitter_ms: jitter_ms.unwrap_or(0),
                }
            }
            "bandwidth" => {
                let [rate] = self.numbers(params, &[("bytes_per_second", true)])?;
                let bytes_per_second = rate.filter(|rate| *rate > 0);
                if bytes_per_second.is_none() {
                    self.bad(params, "bytes_per_second", "an integer of 1 or more");
                }
                LinkFault::Bandwidth {
                    bytes_per_second: bytes_per_second?,
                }
            }
            "cut" => {
                let [after] = self.numbers(params, &[("after_bytes", true)])?;
                LinkFault::Cut {
                    after_bytes: after?,
                }
            }
            "error" => self.error(params)?,
            "reset" => self.nothing(params, LinkFault::Reset)?,
            "timeout" => self.nothing(params, LinkFault::Timeout)?,
            _ => self.nothing(params, LinkFault::Partition)?,
        };
        Some(fault)
    }

    fn churn_fault(&mut self, params: &Params<'_>) -> Option<ChurnFault> {
        match params.kind {
            "pause" => {
                let [ms] = self.numbers(params, &[("ms", true)])?;
                Some(ChurnFault::Pause { ms: ms? })
            }
            "crash" => self.nothing(params, ChurnFault::Crash),
            _ => self.nothing(params, ChurnFault::Restart),
        }
    }

    /// `error {status, body}`.
    fn error(&mut self, params: &Params<'_>) -> Option<LinkFault> {
        let mapping = self.params(params, &["status", "body"])?;
        let status = mapping.get("status");
        let read_status = status
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=599).contains(s));
        match (status, read_status) {
            (None, _) => self.needs(params, "status"),
            (Some(_), None) => self.bad(params, "status", "an HTTP status from 100 to 599"),
            _ => {}
        }
        let body = match mapping.get("body") {
            None => Some(String::new()),
            Some(Value::String(body)) => Some(body.clone()),
            Some(_) => {
                self.bad(params, "body", "text");
                None
            }
        };
        Some(LinkFault::Error {
            status: read_status?,
            body: body?,
        })
    }

    /// The mapping of a kind's parameters, its keys among `known`; a kind
    /// without parameters may be left empty.
    fn params(&mut self, params: &Params<'_>, known: &[&str]) -> Option<Mapping> {
        let Params { index, kind, value } = *params;
        let item = self.item(index);
        let mapping = match value {
            Value::Null => Mapping::new(),
            Value::Mapping(mapping) => mapping.clone(),
            other => {
                let expected = if known.is_empty() {
                    "`{}` (it takes nothing)".to_owned()
                } else {
                    format!("a mapping with {}", listed(known, "and"))
                };
                self.problem(
                    index,
                    &[kind],
                    format_args!("`{item}.{kind}` must be {expected}, found {}", found(other)),
                );
                return None;
            }
        };
        let mut all_known = true;
        for key in mapping.keys() {
            let text = key.as_str().unwrap_or_default();
            if known.contains(&text) {
                continue;
            }
            all_known = false;
            let takes = if known.is_empty() {
                "nothing".to_owned()
            } else {
                listed(known, "and")
            };
            let hint = likely_meant(text, known)
                .map(|meant| format!("; did you mean `{meant}`?"))
                .unwrap_or_default();
            let shown = key.as_str().map_or_else(|| found(key), str::to_owned);
            self.problem(
                index,
                &[kind, text],
                format_args!("`{item}.{kind}.{shown}` is unknown: `{kind}` takes {takes}{hint}"),
            );
        }
        all_known.then_some(mapping)
    }

    /// A kind that takes no parameters.
    fn nothing<T>(&mut self, params: &Params<'_>, fault: T) -> Option<T> {
        self.params(params, &[]).map(|_| fault)
    }

    /// Whole numbers `keys` (name, required) of a kind's parameters, each
    /// `None` when absent; `None` for all when one is wrong.
    fn numbers<const N: usize>(
        &mut self,
        params: &Params<'_>,
        keys: &[(&str, bool); N],
    ) -> Option<[Option<u64>; N]> {
        let names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
        let mapping = self.params(params, &names)?;
        let mut numbers = [None; N];
        let mut fine = true;
        for ((name, required), number) in keys.iter().zip(&mut numbers) {
            match mapping.get(*name) {
                None if *required => {
                    self.needs(params, name);
                    fine = false;
                }
                None => {}
                Some(value) => {
                    *number = value.as_u64();
                    if number.is_none() {
                        self.bad(params, name, "an integer of 0 or more");
                        fine = false;
                    }
                }
            }
        }
        fine.then_some(numbers)
    }

    fn needs(&mut self, params: &Params<'_>, key: &str) {
        let Params { index, kind, .. } = *params;
        let item = self.item(index);
        self.problem(
            index,
            &[kind],
            format_args!("`{item}.{kind}` needs `{key}`"),
        );
    }

    fn bad(&mut self, params: &Params<'_>, key: &str, expected: &str) {
        let Params { index, kind, value } = *params;
        let item = self.item(index);
        let found = value.get(key).map_or_else(|| "nothing".to_owned(), found);
        self.problem(
            index,
            &[kind, key],
            format_args!("`{item}.{kind}.{key}` must be {expected}, found {found}"),
        );
    }
}

/// What an entry faults, before its kind is read.
enum Target {
    Link(LinkPattern),
    Worker(String),
}

/// The key that names what `scope` faults.
fn target_key(scope: &Scope) -> &'static str {
    match scope {
        Scope::Link(..) => "link",
        Scope::Worker(..) => "worker",
    }
}

/// A kind's value in entry `index`.
#[derive(Clone, Copy)]
struct Params<'v> {
    index: usize,
    kind: &'v str,
    value: &'v Value,
}

fn is_kind(key: &str) -> bool {
    LinkFault::KINDS.contains(&key) || ChurnFault::KINDS.contains(&key)
}

/// `` `a`, `b` or `c` ``.
fn quoted(names: &[&str]) -> String {
    listed(names, "or")
}

#[cfg(test)]
mod tests;

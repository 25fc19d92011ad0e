//! The run's faults in the order they happened, one JSON line each in
//! `data_dir/faults.jsonl`: every fault injected (a request's, a worker's)
//! and how each faulted request ended, its request redacted with the run's
//! secrets when the harness gives them. Each line is also an
//! [`Event::Fault`] on the run's event stream, made in the same place, so
//! the reports and the file cannot disagree.
//!
//! ```text
//! {"round":2,"step":"steps::audit[worker2]","link":"runner->worker2","n":3,"request":"GET /audit","fault":"reset","at_ms":5120}
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub(crate) use super::entry::Entry;
use crate::events::{Event, Events};

/// The history's file name in the data folder.
pub(crate) const FILE_NAME: &str = "faults.jsonl";

/// The history being written.
pub(crate) struct History {
    opened: Instant,
    file: Option<(PathBuf, File)>,
    entries: Mutex<Vec<Entry>>,
    /// The first write that failed, for the harness to report.
    failed: Mutex<Option<String>>,
    /// Where each entry also goes, as an [`Event::Fault`].
    events: Option<Events>,
    /// Takes the run's secrets out of a request's method and path.
    redact: Option<Redact>,
}

/// Text with the run's secrets replaced.
pub(crate) type Redact = std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>;

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("file", &self.file.as_ref().map(|(path, _)| path))
            .field("events", &self.events.is_some())
            .field("redact", &self.redact.is_some())
            .finish_non_exhaustive()
    }
}

impl History {
    /// A history that starts `data_dir/faults.jsonl` anew (a fresh run).
    pub(crate) fn fresh(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(FILE_NAME);
        let file = File::create(&path)?;
        Ok(Self::writing(path, file))
    }

    /// A history that continues `data_dir/faults.jsonl` (a resumed run).
    pub(crate) fn append(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(FILE_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self::writing(path, file))
    }

    /// A history kept in memory only.
    pub(crate) fn in_memory() -> Self {
        Self {
            opened: Instant::now(),
            file: None,
            entries: Mutex::default(),
            failed: Mutex::default(),
            events: None,
            redact: None,
        }
    }

    /// The history, each entry of which also goes on `events`.
    pub(crate) fn emitting(self, events: Events) -> Self {
        Self {
            events: Some(events),
            ..self
        }
    }

    fn writing(path: PathBuf, file: File) -> Self {
        Self {
            file: Some((path, file)),
            ..Self::in_memory()
        }
    }

    /// The history, whose requests go through `redact` (a path may hold a
    /// secret a step named; the query, where keys are usually sent, is
    /// never kept).
    pub(crate) fn redacting(self, redact: Redact) -> Self {
        Self {
            redact: Some(redact),
            ..self
        }
    }

    /// Writes `entry`, timed now and redacted, as the next line, and emits it.
    pub(crate) fn record(&self, mut entry: Entry) {
        entry.at_ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let (Some(redact), Some(request)) = (&self.redact, &mut entry.request) {
            *request = redact(request);
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((path, file)) = &self.file {
            let mut line = serde_json::to_string(&entry).unwrap_or_default();
            line.push('\n');
            // One write of a whole line while the lock is held: lines
            // never interleave; a crash loses at most the line being written.
            if let Err(err) = (&*file).write_all(line.as_bytes()) {
                self.failed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert_with(|| format!("{}: cannot write: {err}", path.display()));
            }
        }
        // Still under the lock: the events come in the file's order.
        if let Some(events) = &self.events {
            events.emit(&Event::Fault(Box::new(entry.clone())));
        }
        entries.push(entry);
    }

    /// The entries recorded by this run, in order.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why the file is incomplete, if a write failed.
    pub(crate) fn write_error(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Whether two histories (the text of two `faults.jsonl`) hold the same
/// faults: the same lines once `at_ms` is removed, in any order (requests
/// on different links interleave as threads run; within a link and step,
/// `n` keeps the order). `Err` shows the first difference.
pub fn same_faults(left: &str, right: &str) -> Result<(), String> {
    let canonical = |text: &str| -> Result<Vec<String>, String> {
        let mut lines = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(index, line)| {
                let mut value: serde_json::Value = serde_json::from_str(line)
                    .map_err(|err| format!("line {}: not JSON: {err}", index + 1))?;
                if let Some(object) = value.as_object_mut() {
                    object.remove("at_ms");
                }
                Ok(value.to_string())
            })
            .collect::<Result<Vec<String>, String>>()?;
        lines.sort();
        Ok(lines)
    };
    let (left, right) = (canonical(left)?, canonical(right)?);
    let mut pairs = left.iter().zip(&right);
    if let Some((l, r)) = pairs.find(|(l, r)| l != r) {
        return Err(format!("{l}\n  differs from\n{r}"));
    }
    match left.len().cmp(&right.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(format!("only the first has {}", left[right.len()])),
        std::cmp::Ordering::Less => Err(format!("only the second has {}", right[left.len()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            round: 2,
            step: "steps::audit[worker2]".to_owned(),
            attempt: 0,
            link: Some("runner->worker2".to_owned()),
            worker: None,
            n: Some(3),
            request: Some("GET /audit/2".to_owned()),
            fault: "reset".to_owned(),
            by: None,
            outcome: None,
            at_ms: 0,
        }
    }

    #[test]
    fn a_line_has_the_fields_of_its_kind_only() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::fresh(dir.path()).unwrap();
        history.record(entry());
        history.record(Entry {
            attempt: 1,
            link: None,
            worker: Some("worker3".to_owned()),
            n: None,
            request: None,
            fault: "crash".to_owned(),
            ..entry()
        });
        history.record(Entry {
            by: Some("script".to_owned()),
            outcome: Some("reset".to_owned()),
            ..entry()
        });
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        let without_times: Vec<String> = text
            .lines()
            .map(|line| {
                let (head, time) = line.rsplit_once(",\"at_ms\":").unwrap();
                assert!(time.trim_end_matches('}').parse::<u64>().is_ok(), "{line}");
                format!("{head}}}")
            })
            .collect();
        assert_eq!(
            without_times,
            [
                r#"{"round":2,"step":"steps::audit[worker2]","link":"runner->worker2","n":3,"request":"GET /audit/2","fault":"reset"}"#,
                r#"{"round":2,"step":"steps::audit[worker2]","attempt":1,"worker":"worker3","fault":"crash"}"#,
                r#"{"round":2,"step":"steps::audit[worker2]","link":"runner->worker2","n":3,"request":"GET /audit/2","fault":"reset","by":"script","outcome":"reset"}"#,
            ]
        );
        assert_eq!(history.entries().len(), 3);
        assert_eq!(history.write_error(), None);
    }

    #[test]
    fn each_line_is_also_an_event_in_the_same_order() {
        use crate::events::testing::Collect;
        let dir = tempfile::tempdir().unwrap();
        let seen = Collect::default();
        let history = History::fresh(dir.path())
            .unwrap()
            .emitting(Events::new(Box::new(seen.clone())));
        history.record(entry());
        history.record(Entry {
            outcome: Some("reset".to_owned()),
            ..entry()
        });
        let emitted: Vec<Entry> = seen.faults();
        let written: Vec<Entry> = std::fs::read_to_string(dir.path().join(FILE_NAME))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(emitted, written);
        assert_eq!(emitted, history.entries());
    }

    #[test]
    fn a_request_s_path_is_redacted_in_the_file_and_the_event() {
        use crate::events::testing::Collect;
        let dir = tempfile::tempdir().unwrap();
        let seen = Collect::default();
        let history = History::fresh(dir.path())
            .unwrap()
            .emitting(Events::new(Box::new(seen.clone())))
            .redacting(std::sync::Arc::new(|text: &str| {
                text.replace("tok-1", "[redacted: token]")
            }));
        history.record(Entry {
            request: Some("GET /audit/tok-1".to_owned()),
            ..entry()
        });
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(
            text.contains(r#""request":"GET /audit/[redacted: token]""#),
            "{text}"
        );
        assert!(
            matches!(
                seen.0.lock().unwrap().as_slice(),
                [Event::Fault(fault)] if fault.request.as_deref() == Some("GET /audit/[redacted: token]")
            ),
            "the event is the line"
        );
    }

    #[test]
    fn a_fault_reads_as_one_line() {
        let worker = Entry {
            link: None,
            worker: Some("worker3".to_owned()),
            n: None,
            request: None,
            fault: "crash".to_owned(),
            ..entry()
        };
        let ended = Entry {
            by: Some("script".to_owned()),
            fault: "partition".to_owned(),
            outcome: Some("reset".to_owned()),
            ..entry()
        };
        assert_eq!(
            [entry().to_string(), worker.to_string(), ended.to_string()],
            [
                "runner->worker2 GET /audit/2 reset",
                "worker3 crash",
                "runner->worker2 GET /audit/2 partition (scripted), ended reset",
            ]
        );
    }

    #[test]
    fn a_resumed_run_appends_and_a_fresh_one_starts_anew() {
        let dir = tempfile::tempdir().unwrap();
        let lines = || {
            std::fs::read_to_string(dir.path().join(FILE_NAME))
                .unwrap()
                .lines()
                .count()
        };
        History::fresh(dir.path()).unwrap().record(entry());
        History::append(dir.path()).unwrap().record(entry());
        assert_eq!(lines(), 2);
        History::fresh(dir.path()).unwrap().record(entry());
        assert_eq!(lines(), 1);
    }

    #[test]
    fn histories_are_compared_without_times_or_the_order_of_links() {
        let a = "{\"round\":1,\"step\":\"s\",\"link\":\"a->b\",\"n\":0,\"fault\":\"reset\",\"at_ms\":5}\n\
                 {\"round\":1,\"step\":\"s\",\"link\":\"c->d\",\"n\":0,\"fault\":\"timeout\",\"at_ms\":6}\n";
        let b = "{\"round\":1,\"step\":\"s\",\"link\":\"c->d\",\"n\":0,\"fault\":\"timeout\",\"at_ms\":9}\n\
                 {\"round\":1,\"step\":\"s\",\"link\":\"a->b\",\"n\":0,\"fault\":\"reset\",\"at_ms\":1}\n";
        assert_eq!(same_faults(a, b), Ok(()));
        let other = b.replace("timeout", "reset");
        assert_eq!(
            same_faults(a, &other),
            Err(
                "{\"round\":1,\"step\":\"s\",\"link\":\"c->d\",\"n\":0,\"fault\":\"timeout\"}\n  \
                 differs from\n\
                 {\"round\":1,\"step\":\"s\",\"link\":\"c->d\",\"n\":0,\"fault\":\"reset\"}"
                    .to_owned()
            )
        );
        let shorter = a.lines().next().unwrap();
        assert_eq!(
            same_faults(a, shorter),
            Err("only the first has {\"round\":1,\"step\":\"s\",\"link\":\"c->d\",\"n\":0,\"fault\":\"timeout\"}".to_owned())
        );
        assert_eq!(
            same_faults("{", ""),
            Err("line 1: not JSON: EOF while parsing an object at line 1 column 1".to_owned())
        );
    }
}

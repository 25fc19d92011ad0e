//! What a recording tells the harness about a step: each exchange and how it
//! was answered, and the requests replay could not answer.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::cassette::TapeError;
use crate::record::model::Handling;

/// Most differences a mismatch lists.
const LISTED: usize = 10;

/// One exchange of a worker with the outside world, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exchange {
    pub(crate) client: String,
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) handling: Handling,
    /// The cassette entry (from 1) a replayed request was answered from.
    pub(crate) entry: Option<usize>,
    /// The status the worker got, if a response came.
    pub(crate) status: Option<u16>,
    pub(crate) duration: Duration,
    /// Why it went wrong or was not recorded.
    pub(crate) error: Option<String>,
}

/// A request replay could not answer, and the entry closest to it.
///
/// Its text holds values of the request: the harness redacts it as it does
/// any step's text (the headers never recorded are never in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// `worker1 POST https://…`.
    pub(crate) request: String,
    pub(crate) client: String,
    /// Relative to the cassettes folder.
    pub(crate) cassette: PathBuf,
    /// The closest entry of the same worker, if the cassette has one.
    pub(crate) closest: Option<Closest>,
}

/// The recorded request closest to an unmatched one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Closest {
    /// From 1, in the file's order.
    pub(crate) entry: usize,
    /// `worker1 POST https://…`.
    pub(crate) request: String,
    /// One line per difference; none when the entry is identical but was
    /// served already.
    pub(crate) differences: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} matches no unused entry of cassette {}",
            self.request,
            self.cassette.display()
        )?;
        let Some(closest) = &self.closest else {
            return write!(f, ", which has no entry of {}", self.client);
        };
        if closest.differences.is_empty() {
            return write!(
                f,
                ": it is entry {}, served already (the request came more often than when \
                 recorded)",
                closest.entry
            );
        }
        write!(
            f,
            "; the closest, entry {} ({}), differs in:",
            closest.entry, closest.request
        )?;
        for difference in closest.differences.iter().take(LISTED) {
            write!(f, "\n  {difference}")?;
        }
        if closest.differences.len() > LISTED {
            write!(f, "\n  … and {} more", closest.differences.len() - LISTED)?;
        }
        Ok(())
    }
}

/// What a recording did during a step (or outside steps).
#[derive(Debug, Default)]
pub(crate) struct StepTape {
    /// Relative to the cassettes folder.
    pub(crate) cassette: PathBuf,
    /// In the order they ended.
    pub(crate) exchanges: Vec<Exchange>,
    /// The requests replay could not answer: each fails the step.
    pub(crate) mismatches: Vec<Mismatch>,
    /// The requests still open when the step's cassette was written, which
    /// it therefore lacks (`worker1 POST https://…`).
    pub(crate) unfinished: Vec<String>,
    /// Why the cassette could not be written: fails the step.
    pub(crate) error: Option<TapeError>,
}

impl StepTape {
    /// The step's failure text, when the recording fails it.
    pub(crate) fn failure(&self) -> Option<String> {
        let mut problems: Vec<String> = self.mismatches.iter().map(ToString::to_string).collect();
        problems.extend(self.error.iter().map(ToString::to_string));
        (!problems.is_empty()).then(|| problems.join("\n"))
    }
}

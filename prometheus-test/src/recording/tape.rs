//! A cassette in use: which of its entries were served, what was recorded
//! into it, and what happened while it was open.

use super::cassette::{Cassette, TapeError};
use super::entry::Entry;
use super::matching::{Rules, View, differences};
use super::report::{Closest, Exchange, Mismatch, StepTape};
use super::secrets::Unrecorded;

/// A cassette being played and recorded.
#[derive(Debug)]
pub(crate) struct Tape {
    cassette: Cassette,
    /// What each entry's request is compared on.
    views: Vec<View>,
    /// Whether each entry has answered a request already.
    used: Vec<bool>,
    /// Entries recorded since it was loaded or saved, with the number of
    /// the request they answer (requests are numbered as they arrive).
    recorded: Vec<(u64, Entry, View)>,
    exchanges: Vec<Exchange>,
    mismatches: Vec<Mismatch>,
}

impl Tape {
    /// `cassette`, its requests read by `rules`.
    pub(crate) fn new(
        cassette: Cassette,
        rules: &Rules,
        unrecorded: &Unrecorded,
    ) -> Result<Self, TapeError> {
        let views = cassette
            .entries
            .iter()
            .enumerate()
            .map(|(at, entry)| {
                rules
                    .recorded(&entry.request, unrecorded)
                    .map_err(|error| TapeError::Malformed {
                        cassette: cassette.path.clone(),
                        error: format!("entry {}: {error}", at + 1),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            used: vec![false; views.len()],
            views,
            cassette,
            recorded: Vec::new(),
            exchanges: Vec::new(),
            mismatches: Vec::new(),
        })
    }

    /// The first unused entry of `client` whose request is `view`, now
    /// used; its index from 0.
    pub(crate) fn take_match(&mut self, client: &str, view: &View) -> Option<usize> {
        let at = (0..self.views.len()).find(|&at| {
            !self.used[at] && self.cassette.entries[at].client == client && self.views[at] == *view
        })?;
        self.used[at] = true;
        Some(at)
    }

    /// The step the cassette is kept for (`outside steps` when none).
    pub(crate) fn step_name(&self) -> String {
        self.cassette
            .step
            .as_ref()
            .map_or_else(|| "outside steps".to_owned(), |step| step.name.clone())
    }

    /// The entry at `at` (from 0).
    pub(crate) fn entry(&self, at: usize) -> &Entry {
        &self.cassette.entries[at]
    }

    /// Why no entry answers `client`'s request `view` (`summary`): the
    /// closest entry of `client` and how it differs. Closest: the same
    /// method, host and path first, then the fewest differences, then an
    /// unused entry, then the earliest.
    pub(crate) fn mismatch(&self, client: &str, view: &View, summary: String) -> Mismatch {
        let closest = (0..self.views.len())
            .filter(|&at| self.cassette.entries[at].client == client)
            .map(|at| {
                let recorded = &self.views[at];
                let differences = differences(view, recorded);
                let rank = (
                    !view.same_endpoint(recorded),
                    differences.len(),
                    self.used[at],
                    at,
                );
                (rank, at, differences)
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, at, differences)| Closest {
                entry: at + 1,
                request: self.cassette.entries[at].summary(),
                differences,
            });
        Mismatch {
            request: summary,
            client: client.to_owned(),
            cassette: self.cassette.path.clone(),
            closest,
        }
    }

    pub(crate) fn add_mismatch(&mut self, mismatch: Mismatch) {
        self.mismatches.push(mismatch);
    }

    pub(crate) fn add_exchange(&mut self, exchange: Exchange) {
        self.exchanges.push(exchange);
    }

    /// Keeps `entry` (its request read as `view`), which answered request
    /// number `number`.
    pub(crate) fn record(&mut self, number: u64, entry: Entry, view: View) {
        self.recorded.push((number, entry, view));
    }

    /// Whether anything was recorded since it was loaded or saved.
    pub(crate) fn has_recorded(&self) -> bool {
        !self.recorded.is_empty()
    }

    /// Moves the recorded entries into the cassette (used: they answered
    /// their requests already) and returns it to be saved: entries grouped
    /// by worker, each worker's in the order it sent them, which concurrent
    /// workers do not change.
    pub(crate) fn merge(&mut self) -> &Cassette {
        let mut recorded = std::mem::take(&mut self.recorded);
        recorded.sort_by_key(|(number, ..)| *number);
        let kept = std::mem::take(&mut self.cassette.entries)
            .into_iter()
            .zip(std::mem::take(&mut self.views))
            .zip(std::mem::take(&mut self.used))
            .map(|((entry, view), used)| (entry, view, used));
        let new = recorded
            .into_iter()
            .map(|(_, entry, view)| (entry, view, true));
        let mut rows: Vec<(Entry, View, bool)> = kept.chain(new).collect();
        rows.sort_by(|(a, ..), (b, ..)| a.client.cmp(&b.client));
        for (entry, view, used) in rows {
            self.cassette.entries.push(entry);
            self.views.push(view);
            self.used.push(used);
        }
        &self.cassette
    }

    /// What it saw, taken out of it.
    pub(crate) fn report(&mut self) -> StepTape {
        StepTape {
            cassette: self.cassette.path.clone(),
            exchanges: std::mem::take(&mut self.exchanges),
            mismatches: std::mem::take(&mut self.mismatches),
            unfinished: Vec::new(),
            error: None,
        }
    }
}

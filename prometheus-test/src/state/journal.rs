//! The state's journal, `test_state.journal` beside the state file: one JSON
//! line per change a step made (a stored value, a completed step), appended
//! as it happens, so what a step writes is proportional to what it changed.
//! The state folds the journal into `test_state.json` at the end of each
//! round and of the run, and at the next start after a kill.
//!
//! The first line names the SHA-256 of the state file the entries apply to.
//! A fold writes the new state file, then removes the journal; a kill
//! between the two leaves a journal whose base is no longer the state file,
//! and it is ignored (its entries are already in the file). A kill during an
//! append leaves a last line without its newline: it recorded nothing
//! complete, is ignored, and is cut off before the next append.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The file name inside `data_dir`.
pub(crate) const JOURNAL_FILE: &str = "test_state.journal";

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(super) enum Entry {
    /// The first line: the state file the entries apply to.
    Base { sha256: String },
    /// A value stored in a round's data (`round`) or the global data.
    Set {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        round: Option<u32>,
        key: String,
        value: Value,
    },
    /// A completed step.
    Step { name: String },
    /// A step stopped, paused, started or resumed a worker: how it is held
    /// now (`None`: running as configured).
    Life {
        worker: String,
        life: Option<HeldLife>,
    },
}

/// How a step left a worker that is not running as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HeldLife {
    /// Stopped or killed: not running.
    Stopped,
    /// Frozen with SIGSTOP (a container: paused).
    Paused,
}

impl HeldLife {
    /// `stopped` or `paused`, for messages.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "stopped",
            Self::Paused => "paused",
        }
    }
}

/// An entry of the journal with its line number (1-based), for messages.
#[derive(Debug)]
pub(super) struct Line {
    pub(super) number: usize,
    pub(super) entry: Entry,
}

/// The journal of one state file.
#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    /// The hash of the state file as last read or written.
    base: String,
    /// Open for appending once this state wrote an entry since its base.
    file: Option<File>,
    /// Bytes of complete lines of a journal that applies to `base`; `None`
    /// when there is none and the next append starts a new one.
    kept_len: Option<u64>,
}

impl Journal {
    /// The journal of `data_dir` and the entries (with their lines) that
    /// apply to the state file holding `state_bytes`. Reads only: a torn last
    /// line is cut off at the first append.
    pub(super) fn read(data_dir: &Path, state_bytes: &[u8]) -> anyhow::Result<(Self, Vec<Line>)> {
        let path = data_dir.join(JOURNAL_FILE);
        let base = hash(state_bytes);
        let mut journal = Self {
            path,
            base,
            file: None,
            kept_len: None,
        };
        let bytes = match std::fs::read(&journal.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((journal, Vec::new())),
            Err(e) => {
                return Err(e).with_context(|| format!("{}: cannot read", journal.path.display()));
            }
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if complete == 0 {
            return Ok((journal, Vec::new()));
        }
        let mut entries = Vec::new();
        for (index, line) in bytes[..complete - 1].split(|&b| b == b'\n').enumerate() {
            let entry: Entry = serde_json::from_slice(line).with_context(|| {
                format!(
                    "{}: line {}: not a journal entry (run with --reset to start over)",
                    journal.path.display(),
                    index + 1
                )
            })?;
            match (index, entry) {
                (0, Entry::Base { sha256 }) if sha256 == journal.base => {}
                // Written for an older state file: already folded into it.
                (0, Entry::Base { .. }) => return Ok((journal, Vec::new())),
                (0, _) => bail!(
                    "{}: line 1: expected the journal's base (run with --reset to start over)",
                    journal.path.display()
                ),
                (_, Entry::Base { .. }) => bail!(
                    "{}: line {}: a second base line (run with --reset to start over)",
                    journal.path.display(),
                    index + 1
                ),
                (_, entry) => entries.push(Line {
                    number: index + 1,
                    entry,
                }),
            }
        }
        journal.kept_len = Some(complete as u64);
        Ok((journal, entries))
    }

    /// The journal's file, for messages.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// A journal with no entries for the state file holding `state_bytes`.
    pub(super) fn empty(data_dir: &Path, state_bytes: &[u8]) -> Self {
        Self {
            path: data_dir.join(JOURNAL_FILE),
            base: hash(state_bytes),
            file: None,
            kept_len: None,
        }
    }

    /// Whether entries were appended since the state file was written.
    pub(super) fn has_entries(&self) -> bool {
        self.kept_len.is_some()
    }

    /// Appends `entry` with one write: a kill leaves it whole or torn.
    pub(super) fn append(&mut self, entry: &Entry) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(entry).context("cannot serialise a journal entry")?;
        line.push(b'\n');
        if self.file.is_none() {
            let (file, header) = self.open().with_context(|| {
                format!("{}: cannot open the state journal", self.path.display())
            })?;
            if let Some(mut header) = header {
                header.extend_from_slice(&line);
                line = header;
            }
            self.file = Some(file);
        }
        let file = self.file.as_mut().expect("opened above");
        if crate::failpoint::reached("state.journal.torn") {
            let _ = file.write_all(&line[..line.len() - 3]);
            crate::failpoint::kill_self();
        }
        file.write_all(&line).with_context(|| {
            format!(
                "{}: cannot append to the state journal",
                self.path.display()
            )
        })?;
        *self.kept_len.get_or_insert(0) += line.len() as u64;
        Ok(())
    }

    /// Opens the journal for appending: the existing one cut to its complete
    /// lines, or a new one (and the base line it must start with).
    fn open(&self) -> std::io::Result<(File, Option<Vec<u8>>)> {
        if let Some(len) = self.kept_len {
            let file = OpenOptions::new().append(true).open(&self.path)?;
            file.set_len(len)?;
            return Ok((file, None));
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        let mut header = serde_json::to_vec(&Entry::Base {
            sha256: self.base.clone(),
        })
        .map_err(std::io::Error::other)?;
        header.push(b'\n');
        Ok((file, Some(header)))
    }

    /// After the state file was rewritten with `state_bytes` (holding every
    /// entry): removes the journal; the next append starts a new one.
    pub(super) fn rebase(&mut self, state_bytes: &[u8]) -> anyhow::Result<()> {
        self.file = None;
        self.kept_len = None;
        self.base = hash(state_bytes);
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| {
                format!("{}: cannot remove the folded journal", self.path.display())
            }),
        }
    }

    /// Forces the journal to the disk, when there is one.
    pub(super) fn sync(&self) -> std::io::Result<()> {
        self.file.as_ref().map_or(Ok(()), File::sync_all)
    }
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

//! A cassette file: read, checked and written whole.
//!
//! Written as pretty JSON with a trailing newline, fields in a fixed order,
//! JSON bodies in the key order they were sent in and entries grouped by
//! worker in the order each worker sent them: recording the same calls
//! again writes the same bytes.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::entry::Entry;
use super::layout::StepKey;
use super::scan::find_secret;
use super::secrets::Redact;
use crate::atomic_file::{FileSync, write_atomic};

/// The version of the file format a cassette says it is written in.
const FORMAT: u32 = 1;

/// The recorded exchanges of a step instance, or of the time outside steps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cassette {
    /// The file, relative to the cassettes folder.
    pub(crate) path: PathBuf,
    /// The step it is kept for; `None` outside steps.
    pub(crate) step: Option<StepKey>,
    pub(crate) entries: Vec<Entry>,
}

/// The file's fields, in the order written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File<E> {
    format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    round: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    entries: E,
}

/// Why a cassette could not be read or written, or a step not begun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TapeError {
    Read {
        cassette: PathBuf,
        error: String,
    },
    Malformed {
        cassette: PathBuf,
        error: String,
    },
    /// The file found holds another step's exchanges.
    OtherStep {
        cassette: PathBuf,
        holds: String,
    },
    /// A known secret is in the cassette about to be written; it was not.
    Secret {
        cassette: PathBuf,
        /// From 1, in the file's order.
        entry: usize,
        /// `worker1 POST https://…`, redacted.
        request: String,
        /// `request header x-foo`, `response body /data/0/token`, …
        place: String,
    },
    Write {
        cassette: PathBuf,
        error: String,
    },
    /// `begin_step` came while another step was still open.
    StepStillOpen {
        step: String,
    },
}

impl fmt::Display for TapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { cassette, error } => {
                write!(f, "cannot read cassette {}: {error}", cassette.display())
            }
            Self::Malformed { cassette, error } => {
                write!(f, "cassette {} is malformed: {error}", cassette.display())
            }
            Self::OtherStep { cassette, holds } => write!(
                f,
                "cassette {} holds the exchanges of {holds}",
                cassette.display()
            ),
            Self::Secret {
                cassette,
                entry,
                request,
                place,
            } => write!(
                f,
                "cassette {} not written: entry {entry} ({request}) holds a secret of the run \
                 in its {place}",
                cassette.display()
            ),
            Self::Write { cassette, error } => {
                write!(f, "cannot write cassette {}: {error}", cassette.display())
            }
            Self::StepStillOpen { step } => {
                write!(f, "step {step} is still being recorded: end it first")
            }
        }
    }
}

impl std::error::Error for TapeError {}

impl Cassette {
    /// A cassette with no entry yet.
    pub(crate) fn empty(path: PathBuf, step: Option<StepKey>) -> Self {
        Self {
            path,
            step,
            entries: Vec::new(),
        }
    }

    /// The cassette at `path` in `dir`; empty when there is no such file.
    pub(crate) fn load(
        dir: &Path,
        path: PathBuf,
        step: Option<StepKey>,
    ) -> Result<Self, TapeError> {
        let text = match std::fs::read_to_string(dir.join(&path)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::empty(path, step));
            }
            Err(e) => {
                return Err(TapeError::Read {
                    cassette: path,
                    error: e.to_string(),
                });
            }
        };
        let malformed = |error: String| TapeError::Malformed {
            cassette: path.clone(),
            error,
        };
        let file: File<Vec<Entry>> =
            serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        if file.format != FORMAT {
            return Err(malformed(format!(
                "format {} (this version reads {FORMAT})",
                file.format
            )));
        }
        let holds = (file.round, file.step.clone());
        if holds
            != (
                step.as_ref().map(|s| s.round),
                step.as_ref().map(|s| s.name.clone()),
            )
        {
            return Err(TapeError::OtherStep {
                cassette: path,
                holds: match holds {
                    (Some(round), Some(name)) => format!("round {round} step {name}"),
                    _ => "no step".to_owned(),
                },
            });
        }
        for (at, entry) in file.entries.iter().enumerate() {
            let pieces = entry.request.body.iter();
            let pieces = pieces
                .chain(&entry.response.body)
                .chain(&entry.response.chunks);
            for piece in pieces {
                piece
                    .bytes()
                    .map_err(|e| malformed(format!("entry {}: {e}", at + 1)))?;
            }
        }
        Ok(Self {
            path,
            step,
            entries: file.entries,
        })
    }

    /// Writes the cassette atomically into `dir` (removes its file when it
    /// has no entry), unless an entry holds a secret `redact` knows.
    pub(crate) fn save(&self, dir: &Path, redact: &Redact) -> Result<(), TapeError> {
        for (at, entry) in self.entries.iter().enumerate() {
            if let Some(place) = find_secret(entry, redact) {
                return Err(TapeError::Secret {
                    cassette: self.path.clone(),
                    entry: at + 1,
                    request: redact(&entry.summary()),
                    place,
                });
            }
        }
        let target = dir.join(&self.path);
        let failed = |error: std::io::Error| TapeError::Write {
            cassette: self.path.clone(),
            error: error.to_string(),
        };
        if self.entries.is_empty() {
            return match std::fs::remove_file(&target) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
                _ => Ok(()),
            };
        }
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder).map_err(failed)?;
        }
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let temp = target.with_file_name(format!(".{name}.tmp"));
        write_atomic(
            &target,
            &temp,
            self.render().as_bytes(),
            FileSync::Data,
            None,
        )
        .map_err(failed)
    }

    /// The file's text.
    pub(crate) fn render(&self) -> String {
        let file = File {
            format: FORMAT,
            round: self.step.as_ref().map(|s| s.round),
            step: self.step.as_ref().map(|s| s.name.clone()),
            entries: &self.entries,
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }
}

//! A line a worker printed: one type from the fleet that reads it to every
//! writer and the run record.

use serde::{Deserialize, Serialize};

/// One line a worker printed, without its newline; redacted before an event
/// carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogLine {
    pub(crate) worker: String,
    pub(crate) stream: Stream,
    pub(crate) text: String,
}

impl LogLine {
    pub(crate) fn new(worker: impl Into<String>, stream: Stream, text: impl Into<String>) -> Self {
        Self {
            worker: worker.into(),
            stream,
            text: text.into(),
        }
    }
}

impl LogLine {
    /// A line of the harness's own among a step's lines (that older ones
    /// were dropped): it has no worker and shows as it is.
    pub(crate) fn harness(text: impl Into<String>) -> Self {
        Self::new(String::new(), Stream::Stdout, text)
    }
}

/// `[worker1] text`, or `[worker1 ERR] text` for standard error; a line of
/// the harness's own shows as it is.
impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.worker.is_empty() {
            return f.write_str(&self.text);
        }
        match self.stream {
            Stream::Stdout => write!(f, "[{}] {}", self.worker, self.text),
            Stream::Stderr => write!(f, "[{} ERR] {}", self.worker, self.text),
        }
    }
}

/// A process output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_shows_its_worker_and_stream() {
        assert_eq!(
            LogLine::new("worker1", Stream::Stdout, "up").to_string(),
            "[worker1] up"
        );
        assert_eq!(
            LogLine::new("worker1", Stream::Stderr, "oops").to_string(),
            "[worker1 ERR] oops"
        );
    }
}

//! Collects independent configuration problems so they are reported together.

use std::fmt;

/// Every problem found while loading and validating a suite, in one error.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    items: Vec<String>,
}

impl Problems {
    /// Records one problem.
    pub(crate) fn push(&mut self, problem: impl Into<String>) {
        self.items.push(problem.into());
    }

    /// Records every problem of `other`, after these.
    pub(crate) fn append(&mut self, other: Problems) {
        self.items.extend(other.items);
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Records the error of `result`, if any, and returns its value.
    pub(crate) fn take<T>(&mut self, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(format!("{err:#}"));
                None
            }
        }
    }

    /// `Ok(value)` when there were no problems, else all of them as one error.
    pub(crate) fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.items.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.items.as_slice() {
            [one] => f.write_str(one),
            many => {
                write!(f, "{} problems:", many.len())?;
                for item in many {
                    write!(f, "\n  - {}", item.replace('\n', "\n    "))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Problems {}

//! How a run ended: its [`Exit`] (the process exit code, defined once here)
//! and the counts of a [`Conclusion`].

/// Why a run ended, as the suite binary's exit code says it.
///
/// Later versions may add ways for a run to end, so a `match` on an `Exit`
/// outside this crate needs a `_` arm (`#[non_exhaustive]`):
///
/// ```
/// use prometheus_test::Exit;
///
/// assert_eq!(Exit::Failed.code(), 101);
/// assert_eq!(Exit::from_code(2), Some(Exit::SetupFailed));
/// let stopped_by_a_signal = match Exit::Terminated {
///     Exit::Interrupted | Exit::Terminated => true,
///     _ => false,
/// };
/// assert!(stopped_by_a_signal);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// 0: every executed step passed or was skipped (also `--list` and `--help`).
    Passed,
    /// 2: the suite could not start: anything that went wrong before the first
    /// step (command line, configuration, workers.json, `.env`, fixtures,
    /// MongoDB, the run lock, ports, starting the workers, the `post_load` hook).
    SetupFailed,
    /// 101 (libtest's code): a step failed, timed out, or its worker exited.
    Failed,
    /// 130: stopped by SIGINT (Ctrl-C).
    Interrupted,
    /// 143: stopped by SIGTERM.
    Terminated,
}

impl Exit {
    /// The process exit code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::SetupFailed => 2,
            Self::Failed => 101,
            Self::Interrupted => 130,
            Self::Terminated => 143,
        }
    }

    /// The exit a process exit code stands for, if it is one of ours.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Passed),
            2 => Some(Self::SetupFailed),
            101 => Some(Self::Failed),
            130 => Some(Self::Interrupted),
            143 => Some(Self::Terminated),
            _ => None,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// What a whole run did: how it ended and how many step executions passed,
/// failed or were skipped. [`Suite::run`](crate::Suite::run) returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conclusion {
    /// How the run ended.
    pub exit: Exit,
    /// Step executions that passed.
    pub passed: usize,
    /// Step executions that failed (a failure of the run itself, such as a
    /// state file that cannot be saved, counts as one).
    pub failed: usize,
    /// Step executions that were skipped.
    pub skipped: usize,
    /// Steps the selection left out.
    pub filtered_out: usize,
}

impl Conclusion {
    /// A run that ended with `exit` before any step ran.
    #[must_use]
    pub const fn before_any_step(exit: Exit) -> Self {
        Self {
            exit,
            passed: 0,
            failed: 0,
            skipped: 0,
            filtered_out: 0,
        }
    }

    /// The process exit code, for `fn main() -> ExitCode`.
    #[must_use]
    pub fn exit_code(&self) -> std::process::ExitCode {
        self.exit.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_round_trips_through_its_code() {
        let all = [
            Exit::Passed,
            Exit::SetupFailed,
            Exit::Failed,
            Exit::Interrupted,
            Exit::Terminated,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 2, 101, 130, 143]);
        for exit in all {
            assert_eq!(Exit::from_code(exit.code()), Some(exit));
        }
        assert_eq!(Exit::from_code(1), None);
    }
}

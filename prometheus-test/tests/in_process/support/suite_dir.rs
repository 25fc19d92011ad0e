//! A suite folder in a temporary directory and whole runs of it in this
//! process, through the public [`Suite`] entry with a frozen clock (every
//! measured time shows as zero), so that outputs compare whole.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use prometheus_test::__private::{StepDef, with_frozen_clock, with_steps};
use prometheus_test::{Conclusion, Exit, Suite};

use super::output::Buffer;

/// workers.json with two external workers.
pub(crate) const TWO_WORKERS: &str =
    r#"{"worker1": {"url": "http://127.0.0.1:9"}, "worker2": {"url": "http://127.0.0.1:9"}}"#;

/// The note that opens a fresh run.
pub(crate) const FRESH: &str = "prometheus-test: fresh run: starting at round 1\n";

/// A temporary suite folder (removed when dropped).
pub(crate) struct SuiteDir {
    dir: tempfile::TempDir,
}

/// One whole run: how it ended and what it printed, with the temporary
/// folder's path written `DIR`.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) conclusion: Conclusion,
    /// The libtest output.
    pub(crate) out: String,
    /// The `prometheus-test: …` lines.
    pub(crate) notes: String,
}

impl Ran {
    /// The exit and both outputs, to compare whole.
    pub(crate) fn whole(&self) -> (Exit, &str, &str) {
        (self.conclusion.exit, &self.out, &self.notes)
    }

    /// Fails the test, showing both outputs, unless the run ended `exit`.
    #[track_caller]
    pub(crate) fn assert_exit(&self, exit: Exit) {
        assert_eq!(self.conclusion.exit, exit, "{}{}", self.out, self.notes);
    }
}

impl SuiteDir {
    /// An empty folder.
    pub(crate) fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// config.yaml with `task_id`, `max_rounds: 2` and `fail_in_round`, and
    /// workers.json with one external worker, `worker1`.
    pub(crate) fn two_rounds(task_id: &str, fail_in_round: u32) -> Self {
        let suite = Self::empty();
        suite.write(
            "config.yaml",
            &format!("task_id: {task_id}\nmax_rounds: 2\nfail_in_round: {fail_in_round}\n"),
        );
        suite.write(
            "workers.json",
            r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
        );
        suite
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data folder of a suite whose config.yaml is at the top.
    pub(crate) fn data(&self) -> PathBuf {
        self.path().join("data")
    }

    /// Writes `text` to `relative`, creating its folders. A config.yaml that
    /// does not set `snapshots` gets `snapshots: off`: the tests compare whole
    /// outputs, and snapshots have tests of their own (`snapshots.rs`).
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let text = if relative.ends_with("config.yaml") && !text.contains("snapshots:") {
            format!("{text}snapshots: off\n")
        } else {
            text.to_owned()
        };
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a folder"))
            .expect("create the folder");
        std::fs::write(&path, text).expect("write the file");
    }

    /// The state file, as saved.
    pub(crate) fn state_text(&self) -> String {
        std::fs::read_to_string(self.data().join("test_state.json")).expect("read the state file")
    }

    pub(crate) fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.state_text()).expect("the state file is JSON")
    }

    /// The suite of exactly `steps`, with config.yaml at the top.
    pub(crate) fn suite(&self, steps: &[&'static StepDef]) -> Suite {
        self.suite_at("config.yaml", steps)
    }

    /// The suite of exactly `steps`, with config.yaml at `relative`.
    pub(crate) fn suite_at(&self, relative: &str, steps: &[&'static StepDef]) -> Suite {
        let suite = Suite::new(self.path().join(relative));
        with_frozen_clock(with_steps(suite, steps.to_vec()))
    }

    /// Runs `steps` with `args` (after the program name) and exactly the
    /// variables of `env`.
    pub(crate) fn run(
        &self,
        steps: &[&'static StepDef],
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Ran {
        self.run_suite(&self.suite(steps), args, env)
    }

    /// Runs `suite` with `args` (after the program name) and exactly the
    /// variables of `env`.
    pub(crate) fn run_suite(&self, suite: &Suite, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let (out, notes) = (Buffer::default(), Buffer::default());
        let args = std::iter::once("suite").chain(args.iter().copied());
        let env = env
            .iter()
            .map(|&(name, value)| (OsString::from(name), OsString::from(value)));
        let conclusion = suite.run(args, env, out.clone(), notes.clone());
        Ran {
            conclusion,
            out: self.placeholder(&out.text()),
            notes: self.placeholder(&notes.text()),
        }
    }

    /// `text` with this folder's path written `DIR`.
    fn placeholder(&self, text: &str) -> String {
        text.replace(&self.path().display().to_string(), "DIR")
    }
}

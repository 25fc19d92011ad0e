//! A test process of a nextest run: it makes sure the run has a coordinator,
//! polls the run's results until its step is done in every round (or the
//! run stopped), prints its step's lines and exits with its verdict. It
//! never plays a step itself.

use std::io::Write as _;
use std::process::Child;
use std::time::Duration;

use super::super::cli::{ProcessEnv, RunControl};
use super::super::select::Selection;
use super::super::writers::Outputs;
use super::folder::{Folder, data_dir};
use super::results;
use super::selected::selected;
use super::start::{coordinator_alive, coordinator_command, ensure_coordinator};
use super::verdict::{Context, Report, Verdict, verdict};
use super::watch::Watched;
use crate::{Conclusion, Exit};

/// How often the results are read.
const POLL: Duration = Duration::from_millis(25);

/// One test process of nextest run `run`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TestProcess {
    /// The run's key (see [`Role::of`](super::Role::of)).
    pub(super) run: String,
    /// nextest's attempt at the test (`--retries`), from 1.
    pub(super) attempt: u32,
    /// nextest's name of the test binary (`my-crate::e2e`).
    pub(super) binary_id: Option<String>,
}

impl TestProcess {
    /// Reports the steps the command line selects among `names` (nextest
    /// selects one, with `--exact`).
    pub(crate) fn run(
        self,
        control: &RunControl,
        env: &ProcessEnv,
        names: &[String],
        outputs: Outputs,
    ) -> Conclusion {
        let Outputs {
            mut out,
            notes: mut err,
            ..
        } = outputs;
        let selection = Selection::new(&control.args, names);
        let chosen: Vec<&str> = (0..names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| names[i].as_str())
            .collect();
        for warning in Selection::unmatched_filters(&control.args, names) {
            let _ = writeln!(err, "prometheus-test: {warning}");
        }
        if chosen.is_empty() {
            return Conclusion::before_any_step(Exit::Passed);
        }
        let folder = match data_dir(control) {
            Ok(data_dir) => Folder::in_data_dir(&data_dir),
            Err(problem) => {
                let _ = writeln!(err, "prometheus-test: error: {problem:#}");
                return Conclusion::before_any_step(Exit::SetupFailed);
            }
        };
        // nextest, or a wrapper script or target runner it started.
        let parent = std::os::unix::process::parent_id();
        let started = ensure_coordinator(&folder, &self.run, |log| {
            let nextest = Watched::nextest();
            let selected = nextest
                .ok_or_else(|| "nextest's process cannot be found".to_owned())
                .and_then(|nextest| {
                    let binary_id = self.binary_id.as_deref().ok_or_else(|| {
                        "nextest did not say which binary this is (NEXTEST_BINARY_ID)".to_owned()
                    })?;
                    selected(nextest, binary_id, names)
                })
                .map_err(|why| {
                    format!("cannot learn which tests this nextest run selected: {why}")
                })?;
            coordinator_command(env.vars(), &self.run, nextest, &selected, log)
                .and_then(|mut command| command.spawn())
                .map_err(|err| format!("cannot start the suite's coordinator: {err}"))
        });
        let mut child = match started {
            Ok(child) => child,
            Err(message) => {
                let _ = writeln!(err, "prometheus-test: error: {message}");
                return Conclusion::before_any_step(Exit::Failed);
            }
        };
        let Some(reports) = self.wait(&folder, &chosen, parent, child.as_mut()) else {
            let _ = writeln!(
                err,
                "prometheus-test: this test's parent (PID {parent}) is gone: not waiting for the run"
            );
            return Conclusion::before_any_step(Exit::Failed);
        };
        let mut conclusion = Conclusion::before_any_step(Exit::Passed);
        for report in reports {
            let _ = err.write_all(report.notes.as_bytes());
            let _ = out.write_all(report.out.as_bytes());
            if report.passed {
                conclusion.passed += 1;
            } else {
                conclusion.failed += 1;
                conclusion.exit = Exit::Failed;
            }
        }
        let _ = out.flush();
        let _ = err.flush();
        conclusion
    }

    /// Polls the results until every test in `chosen` has its report;
    /// `None` when this process's `parent` (nextest) is gone.
    fn wait(
        &self,
        folder: &Folder,
        chosen: &[&str],
        parent: u32,
        mut child: Option<&mut Child>,
    ) -> Option<Vec<Report>> {
        let log = folder.log(&self.run);
        loop {
            if let Some(child) = child.as_deref_mut() {
                // Reaps the coordinator this process started once it exits.
                let _ = child.try_wait();
            }
            let coordinator_gone = !coordinator_alive(folder);
            if let Some(results) = results::read(&folder.results(&self.run)) {
                let cx = Context {
                    attempt: self.attempt,
                    log: &log,
                    coordinator_gone: coordinator_gone && results.closed.is_none(),
                };
                let reports: Option<Vec<Report>> = chosen
                    .iter()
                    .map(|test| match verdict(&results, test, &cx) {
                        Verdict::Done(report) => Some(report),
                        Verdict::Waiting => None,
                    })
                    .collect();
                if reports.is_some() {
                    return reports;
                }
            }
            if std::os::unix::process::parent_id() != parent {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }
}

//! The run behind `Suite::run` and `main!()`: reads the
//! run control (command line and environment), lists or plays the steps,
//! and returns the run's [`Conclusion`] once every process is stopped.
//!
//! One run, top to bottom: [`cli`] (run control) → [`select`] → [`session`],
//! which drives [`setup`] (loaded → ready: checks everything, takes the run
//! [`lock`], checks the [`ports`], then resets or resumes), starts the
//! workers ([`launch`]), plays the [`plan`] one step at a time ([`execute`],
//! watched by the [`watchdog`] thread, which also receives the signals for
//! [`interrupts`]) and emits what happens as [`events`] to the
//! [`writers`]. Exit codes are [`Exit`](crate::Exit)'s. Under cargo-nextest,
//! each process is one step's test and the run plays once for all of them
//! ([`nextest`]).

mod args;
mod cli;
mod containers;
mod drawn;

mod execute;
mod files;
mod interrupts;
mod launch;
mod lock;
mod nextest;
mod outside;
mod passthrough;
pub(crate) mod paths;
mod plan;
mod ports;
mod redaction;
mod select;
mod session;
mod setup;
mod steps;
mod unregistered;
mod watchdog;
mod wording;
mod world;
mod writers;

use std::ffi::OsString;
use std::io::Write as _;

use crate::step::StepDef;
use crate::{Conclusion, Exit};

use self::cli::{Invocation, RunControl};
use self::select::Selection;
use self::writers::ReportPaths;
use crate::events::{Event, Events};

pub(crate) use self::cli::{FROM_VAR, ProcessEnv, RESET_VAR, WATCH_VAR};
pub(crate) use self::files::SuiteFiles;
pub(crate) use self::steps::registered as registered_steps;
pub(crate) use self::wording::counted;
pub(crate) use self::writers::Outputs;
#[cfg(test)]
pub(crate) use self::writers::recording_for_tests;
pub use self::writers::recording_in_a_step;
pub(crate) use crate::events::Clock;

/// One whole run in this process: `steps` (sorted by order) driven by `args`
/// (the program name first) and `env`, written to `outputs`. Under
/// cargo-nextest the process is one test of a run that plays once
/// ([`nextest`]).
pub(crate) fn run_with(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    args: impl IntoIterator<Item = OsString>,
    env: &ProcessEnv,
    outputs: Outputs,
) -> Conclusion {
    let args: Vec<OsString> = args.into_iter().collect();
    let control = match RunControl::parse(args.iter().cloned(), env, &files.config) {
        Ok(Invocation::Run(control)) => *control,
        Ok(Invocation::Help) => {
            let mut out = outputs.out;
            let _ = out.write_all(args::USAGE.as_bytes());
            return Conclusion::before_any_step(Exit::Passed);
        }
        Err(problem) => {
            writers::notes_only(outputs.notes).note(format!("error: {problem}"));
            return Conclusion::before_any_step(Exit::SetupFailed);
        }
    };
    let role = nextest::Role::of(env, control.args.list);
    if matches!(role, nextest::Role::Plain) && control.args.watch {
        let inputs = crate::keeper::watch::WatchInputs {
            files,
            config: &control.config,
            args: args.get(1..).unwrap_or_default(),
            filtered: !control.args.filters.is_empty(),
            env,
        };
        return crate::keeper::watch::run(&inputs, outputs.notes);
    }
    let mut control = control;
    let keeper = match role {
        nextest::Role::Test(_) => None,
        nextest::Role::Plain | nextest::Role::Coordinator(_) => {
            match attach(files, steps, &mut control, env) {
                Ok(keeper) => keeper,
                Err(err) => {
                    writers::notes_only(outputs.notes).note(format!("error: {err:#}"));
                    return Conclusion::before_any_step(Exit::SetupFailed);
                }
            }
        }
    };
    match role {
        nextest::Role::Plain => run_control(files, steps, &control, outputs, None, keeper.as_ref()),
        nextest::Role::Test(test) => {
            let names: Vec<String> = instances(steps, &control)
                .iter()
                .map(|s| s.test_name().to_owned())
                .collect();
            test.run(&control, env, &names, outputs)
        }
        nextest::Role::Coordinator(coordinator) => coordinator.run(&control, |results| {
            run_control(
                files,
                steps,
                &control,
                outputs,
                Some(results),
                keeper.as_ref(),
            )
        }),
    }
}

/// `PROMETHEUS_TEST_KEEPER=off`: never attach to a keeper.
const KEEPER_VAR: &str = "PROMETHEUS_TEST_KEEPER";

/// Attaches to the keeper of the suite's data folder when one is up (a run
/// that plays steps, unless `PROMETHEUS_TEST_KEEPER=off`); the run then
/// uses the keeper's `mongod`.
fn attach(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    control: &mut RunControl,
    env: &ProcessEnv,
) -> anyhow::Result<Option<crate::keeper::Link>> {
    let args = &control.args;
    if args.list || args.list_snapshots || env.get(KEEPER_VAR).is_some_and(|v| v == "off") {
        return Ok(None);
    }
    let Ok(config) = control.config.config() else {
        return Ok(None);
    };
    let data_dir = config.data_dir.clone();
    let sources = instances(steps, control)
        .iter()
        .map(|step| crate::keeper::StepSource {
            name: step.test_name().to_owned(),
            file: files.manifest_dir.as_deref().map_or_else(
                || std::path::PathBuf::from(step.def.file),
                |dir| unregistered::resolve_source(dir, step.def.file),
            ),
        })
        .collect();
    let Some(link) = crate::keeper::Link::attach(&data_dir, sources)? else {
        return Ok(None);
    };
    if let Some(uri) = link.mongo_uri() {
        control.config.use_process_var("MONGO_URI", uri);
    }
    Ok(Some(link))
}

/// `--list-snapshots`: the kept snapshots with their sizes, on stdout.
/// Reads config.yaml and the snapshots; writes nothing.
fn list_snapshots(control: &RunControl, outputs: Outputs) -> Conclusion {
    let config = control
        .overrides
        .as_ref()
        .map_err(|problems| anyhow::anyhow!("{problems}"))
        .and_then(|_| control.config.config());
    let listed = config.and_then(|config| {
        let (kept, bytes) = crate::snapshot::Store::peek(&config.data_dir)?;
        Ok(world::listing(&kept, bytes))
    });
    match listed {
        Ok(text) => {
            let mut out = outputs.out;
            let _ = out.write_all(text.as_bytes());
            Conclusion::before_any_step(Exit::Passed)
        }
        Err(err) => {
            writers::notes_only(outputs.notes).note(format!("error: {err:#}"));
            Conclusion::before_any_step(Exit::SetupFailed)
        }
    }
}

/// The step instances of `steps`: a `workers = "*"` step needs
/// workers.json's names (read, never checked, here) before anything can be
/// selected or listed.
fn instances(steps: &[&'static StepDef], control: &RunControl) -> Vec<steps::StepInstance> {
    let all_workers = steps::needs_all_workers(steps)
        .then(|| control.config.worker_names())
        .flatten();
    steps::instances(steps, all_workers.as_deref())
}

/// A run as the command line and environment ask, with `extra` among its
/// writers (the results a nextest coordinator keeps).
fn run_control(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    control: &RunControl,
    outputs: Outputs,
    extra: Option<Box<dyn crate::events::Writer>>,
    keeper: Option<&crate::keeper::Link>,
) -> Conclusion {
    if control.args.list_snapshots {
        return list_snapshots(control, outputs);
    }
    let reports = ReportPaths {
        html: control.report.clone(),
        junit: control.junit.clone(),
    };
    let mut extras: Vec<Box<dyn crate::events::Writer>> = extra.into_iter().collect();
    if let Some(keeper) = keeper {
        extras.push(Box::new(crate::keeper::Reporting::new(keeper.clone())));
    }
    let extra = (!extras.is_empty())
        .then(|| Box::new(crate::events::Tee(extras)) as Box<dyn crate::events::Writer>);
    let events = writers::for_run(control.format(), outputs, reports, extra);
    if let Some(keeper) = keeper {
        events.note(format!(
            "keeper: attached to the keeper of this suite (PID {}): its MongoDB, services and workers are kept warm",
            keeper.keeper_pid()
        ));
    }
    if steps.is_empty() {
        events.note(format!("error: {}", steps::NO_STEPS));
        return Conclusion::before_any_step(Exit::SetupFailed);
    }
    let steps = instances(steps, control);
    let test_names: Vec<String> = steps.iter().map(|s| s.test_name().to_owned()).collect();
    let selection = Selection::new(&control.args, &test_names);
    for warning in Selection::unmatched_filters(&control.args, &test_names) {
        events.note(warning);
    }
    if control.args.list {
        let listed: Vec<String> = (0..test_names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| test_names[i].clone())
            .collect();
        events.emit(&Event::Listed(listed));
        return Conclusion::before_any_step(Exit::Passed);
    }
    warn_of_unregistered_step_files(files, &steps, &events);
    if selection.count() == 0 {
        events.emit(&Event::RunStarted(crate::events::Plan {
            steps: test_names.clone(),
            filtered_out: test_names.len(),
            ..crate::events::Plan::default()
        }));
        events.emit(&Event::RunFinished(Exit::Passed));
        return Conclusion {
            filtered_out: test_names.len(),
            ..Conclusion::before_any_step(Exit::Passed)
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            events.note(format!("error: cannot start the async runtime: {err}"));
            return Conclusion::before_any_step(Exit::SetupFailed);
        }
    };
    let session = session::Session {
        files,
        control,
        steps: &steps,
        selection: &selection,
        events: &events,
        keeper,
    };
    let conclusion = runtime.block_on(session.run());
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    conclusion
}

/// Names the suite's files that hold `#[step]` functions but registered none
/// (a missing `mod` line).
fn warn_of_unregistered_step_files(
    files: &SuiteFiles,
    steps: &[steps::StepInstance],
    events: &Events,
) {
    let Some(manifest_dir) = files.manifest_dir.as_deref() else {
        return;
    };
    let registered = steps
        .iter()
        .map(|step| unregistered::resolve_source(manifest_dir, step.file))
        .collect();
    for warning in unregistered::warnings(&files.suite_dir, &registered) {
        events.note(format!("warning: {warning}"));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::config::reads;
    use crate::step::StepWorkers;

    /// Bytes written by a run, shared with the test.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Written {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Written {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// A suite in `project/tests/` of one `workers = "*"` step, with a
    /// `.env` in each folder.
    fn suite(root: &Path) -> SuiteFiles {
        let tests = root.join("project/tests");
        std::fs::create_dir_all(&tests).unwrap();
        std::fs::write(tests.join("config.yaml"), "task_id: t\nmax_rounds: 1\n").unwrap();
        std::fs::write(
            tests.join("workers.json"),
            r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
        )
        .unwrap();
        std::fs::write(tests.join(".env"), "A=1\n").unwrap();
        std::fs::write(root.join("project/.env"), "B=2\n").unwrap();
        SuiteFiles {
            config: tests.join("config.yaml"),
            manifest_dir: None,
            suite_dir: tests,
            post_load: None,
        }
    }

    /// Plays `files` with `args` and `env`: the exit, libtest output and notes.
    fn play(files: &SuiteFiles, args: &[&str], env: &[(&str, &str)]) -> (Exit, String, String) {
        play_step(StepWorkers::All, files, args, env)
    }

    /// Plays one step `audit` on `workers`.
    fn play_step(
        workers: StepWorkers,
        files: &SuiteFiles,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (Exit, String, String) {
        let steps = [steps::tests::leak_step("audit", workers, 1)];
        let (out, notes) = (Written::default(), Written::default());
        let conclusion = run_with(
            files,
            &steps,
            std::iter::once("e2e")
                .chain(args.iter().copied())
                .map(OsString::from),
            &ProcessEnv::from_pairs(env.iter().copied()),
            Outputs {
                out: Box::new(out.clone()),
                notes: Box::new(notes.clone()),
                screen: None,
                clock: Clock::Frozen,
            },
        );
        (conclusion.exit, out.text(), notes.text())
    }

    /// How often the suite in `root` read config.yaml, workers.json and its
    /// two `.env` files.
    fn reads(root: &Path) -> [usize; 4] {
        let tests = root.join("project/tests");
        [
            reads::of(&tests.join("config.yaml")),
            reads::of(&tests.join("workers.json")),
            reads::of(&tests.join(".env")),
            reads::of(&root.join("project/.env")),
        ]
    }

    /// The error of a run rewound to a point no snapshot was kept for:
    /// the last check before anything is changed.
    const NOT_KEPT: &str = "prometheus-test: error: `--from round 1 steps::audit[worker1]`: no snapshot before round 1 steps::audit[worker1] is kept; no snapshot is kept; nothing was changed\n";

    const FROM: [&str; 2] = ["--from", "round 1 steps::audit[worker1]"];

    /// Plays a run with `env` up to its last check before anything is
    /// changed, and checks it read each configuration file once.
    fn reads_each_file_once(env: &[(&str, &str)]) {
        let dir = tempfile::tempdir().unwrap();
        let played = play(&suite(dir.path()), &FROM, env);
        assert_eq!(
            played,
            (Exit::SetupFailed, String::new(), NOT_KEPT.to_owned())
        );
        assert_eq!(
            reads(dir.path()),
            [1, 1, 1, 1],
            "config.yaml, workers.json, the two .env"
        );
    }

    #[test]
    fn a_run_reads_each_configuration_file_once() {
        reads_each_file_once(&[]);
    }

    #[test]
    fn a_nextest_coordinator_reads_each_configuration_file_once() {
        reads_each_file_once(&[("PROMETHEUS_TEST_NEXTEST_COORDINATOR", "run1")]);
    }

    #[test]
    fn listing_reads_config_yaml_and_workers_json_once_and_no_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let listed = play(&suite(dir.path()), &["--list"], &[]);
        let expanded = "steps::audit[worker1]: test\n\n1 tests, 0 benchmarks\n";
        assert_eq!(listed, (Exit::Passed, expanded.to_owned(), String::new()));
        assert_eq!(
            reads(dir.path()),
            [1, 1, 0, 0],
            "config.yaml, workers.json, the two .env"
        );
    }

    #[test]
    fn listing_steps_that_name_their_workers_reads_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let listed = play_step(
            StepWorkers::One("worker1"),
            &suite(dir.path()),
            &["--list"],
            &[],
        );
        let plain = "steps::audit: test\n\n1 tests, 0 benchmarks\n";
        assert_eq!(listed, (Exit::Passed, plain.to_owned(), String::new()));
        assert_eq!(
            reads(dir.path()),
            [0, 0, 0, 0],
            "config.yaml, workers.json, the two .env"
        );
    }

    #[test]
    fn listing_needs_neither_a_valid_config_yaml_nor_workers_json() {
        let dir = tempfile::tempdir().unwrap();
        let files = suite(dir.path());
        let unexpanded = (
            Exit::Passed,
            "steps::audit: test\n\n1 tests, 0 benchmarks\n".to_owned(),
            String::new(),
        );
        std::fs::write(files.suite_dir.join("workers.json"), "{ broken").unwrap();
        assert_eq!(
            play(&files, &["--list"], &[]),
            unexpanded,
            "a broken workers.json"
        );
        std::fs::write(&files.config, "max_rounds: [").unwrap();
        assert_eq!(
            play(&files, &["--list"], &[]),
            unexpanded,
            "a broken config.yaml"
        );
    }
}

//! One run of the suite: load and check everything, prepare MongoDB and the
//! state (fresh or resumed), start the workers, play the planned steps, and
//! stop everything before the exit code is returned.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use futures_util::FutureExt as _;
use tokio::sync::watch;

use super::cli::Cli;
use super::plan::{Action, Position, plan};
use super::report::{self, Reporter, Verdict};
use super::select::Selection;
use super::{FAILED, MainOptions, steps};
use crate::config::{Config, EnvMap, Launch, Problems, load_workers};
use crate::mongo::{self, Mongo};
use crate::process::{Fleet, LaunchSpec, LogMode, TerminationSignal, termination_signal};
use crate::state::State;
use crate::step::{Outcome, StepDef};
use crate::{Runner, Worker};

/// Everything `run_main` hands over to one run.
pub(super) struct Session<'a> {
    pub(super) options: &'a MainOptions,
    pub(super) cli: &'a Cli,
    pub(super) steps: &'a [&'static StepDef],
    pub(super) names: &'a [String],
    pub(super) selection: &'a Selection,
}

/// The run's SIGINT/SIGTERM watch, installed once so no signal is missed
/// between two waits.
struct Interrupts {
    seen: watch::Receiver<Option<TerminationSignal>>,
}

impl Interrupts {
    fn install() -> Self {
        let (tx, seen) = watch::channel(None);
        let signal = termination_signal();
        tokio::spawn(async move {
            let _ = tx.send(Some(signal.await));
        });
        Self { seen }
    }

    /// Resolves once SIGINT or SIGTERM has arrived.
    async fn wait(&self) -> TerminationSignal {
        let mut seen = self.seen.clone();
        loop {
            if let Some(signal) = *seen.borrow_and_update() {
                return signal;
            }
            if seen.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Why the step loop ended early.
enum Stop {
    Failed,
    Signal(TerminationSignal),
}

impl Session<'_> {
    /// Plays the run and returns the process exit code.
    pub(super) async fn run(self) -> u8 {
        let interrupts = Interrupts::install();
        let prepared = tokio::select! {
            prepared = self.prepare() => prepared,
            signal = interrupts.wait() => {
                report::note(&format!("interrupted by {} before any step ran", signal.name()));
                return signal.exit_code();
            }
        };
        let (runner, mongo) = match prepared {
            Ok(ready) => ready,
            Err(err) => {
                report::note(&format!("error: {err:#}"));
                return FAILED;
            }
        };
        let code = self.play(&runner, &interrupts).await;
        if let Some(mongo) = mongo {
            mongo.shutdown().await;
        }
        code
    }

    /// Loads and checks the suite, then prepares MongoDB and the state.
    async fn prepare(&self) -> anyhow::Result<(Runner, Option<Mongo>)> {
        let tests_dir =
            super::paths::tests_dir(self.options.source_file, self.options.manifest_dir);
        let config_file = match std::env::var_os("PROMETHEUS_TEST_CONFIG") {
            Some(path) => std::path::PathBuf::from(path),
            None => tests_dir.join(self.options.config.unwrap_or("config.yaml")),
        };
        let config = Config::load(&config_file)?;
        let mut env = EnvMap::load(&config.project_dir, &config.tests_dir)?;
        let needs_mongo = config.needs_mongodb() || self.options.post_load.is_some();
        let mongo_uri_given = env.get("MONGO_URI").is_some();
        if needs_mongo && !mongo_uri_given {
            // Until a server is chosen, a mapped MONGO_URI checks as the default.
            let mut provisional = env.clone();
            provisional.set("MONGO_URI", mongo::DEFAULT_URI);
            self.check(&config, &provisional)?;
        } else {
            self.check(&config, &env)?;
        }

        let saved = if self.cli.reset {
            None
        } else {
            State::load(&config.data_dir)?
        };
        let mut fixtures = None;
        if saved.is_none() && needs_mongo {
            fixtures = Some(mongo::read_fixtures(
                &config.mongodb,
                &config.data_dir,
                &config.task_id,
            )?);
        }
        let mongo = if needs_mongo {
            let mongo = mongo::connect(&env, Some(&config.data_dir.join("mongodb"))).await?;
            if !mongo_uri_given {
                env.set("MONGO_URI", mongo.uri());
            }
            Some(mongo)
        } else {
            None
        };
        let db = mongo
            .as_ref()
            .map(|m| m.client().database(&config.mongodb.database));
        let (state, resumed_rounds) = self
            .open_state(&config, saved, fixtures, db.as_ref(), needs_mongo)
            .await?;
        let env = Arc::new(env);
        let fresh = resumed_rounds.is_none();
        let workers = Self::load_workers(&config, &env, fresh)?;
        let runner = Runner::new(config, env, workers, state, db.clone());
        if let (true, Some(hook), Some(db)) = (fresh, self.options.post_load, &db) {
            hook(db, &runner)
                .await
                .context("the post_load hook failed")?;
            report::note("post_load hook done");
        }
        // A fresh run counts its rounds after the hook, which may change the data.
        let rounds = match resumed_rounds {
            Some(rounds) => rounds,
            None => max_rounds(runner.config(), db.as_ref()).await?,
        };
        runner.set_max_rounds(rounds);
        Ok((runner, mongo))
    }

    /// The state to play from: the saved one to resume (with the run's rounds),
    /// or a fresh one after the fixtures are validated and imported (`None`).
    async fn open_state(
        &self,
        config: &Config,
        saved: Option<State>,
        fixtures: Option<mongo::Fixtures>,
        db: Option<&mongodb::Database>,
        needs_mongo: bool,
    ) -> anyhow::Result<(State, Option<u32>)> {
        let names: Vec<&str> = self.steps.iter().map(|s| s.name).collect();

        let resumed = match saved {
            Some(state) => {
                if let Some(db) = db {
                    mongo::check_required(db, &config.mongodb, &config.task_id).await?;
                }
                let max_rounds = max_rounds(config, db).await?;
                let position = Position::from_state(
                    state.current_round(),
                    state.last_completed_step(),
                    &names,
                )?;
                if position.is_complete(names.len(), max_rounds) && !self.selection.is_filtered() {
                    report::note("the previous run completed: starting a fresh run");
                    None
                } else {
                    Some((state, max_rounds))
                }
            }
            None => None,
        };
        if let Some((state, max_rounds)) = resumed {
            report::note(&format!(
                "resuming round {} after step `{}`",
                state.current_round(),
                state.last_completed_step().unwrap_or("(none)")
            ));
            Ok((state, Some(max_rounds)))
        } else {
            let fixtures = match fixtures {
                Some(f) => Some(f),
                None if needs_mongo => Some(mongo::read_fixtures(
                    &config.mongodb,
                    &config.data_dir,
                    &config.task_id,
                )?),
                None => None,
            };
            if let (Some(db), Some(fixtures)) = (db, &fixtures) {
                let report = mongo::reset(db, &config.mongodb, fixtures, &config.task_id).await?;
                report::note(&format!(
                    "MongoDB `{}` reset: {report}",
                    config.mongodb.database
                ));
            }
            let state = State::fresh(&config.data_dir)?;
            report::note("fresh run: state reset, starting at round 1");
            Ok((state, None))
        }
    }

    /// Every problem of the configuration and the steps, reported together
    /// before anything is started or written.
    fn check(&self, config: &Config, env: &EnvMap) -> anyhow::Result<()> {
        let mut problems = Problems::default();
        let workers = problems.take(load_workers(config, env)).unwrap_or_default();
        let env = Arc::new(env.clone());
        for spec in &workers {
            problems.take(Worker::load(spec.clone(), env.clone(), config));
        }
        let names: Vec<&str> = workers.iter().map(|w| w.name.as_str()).collect();
        if !names.is_empty() {
            steps::check(self.steps, &names, &mut problems);
        }
        problems.into_result(()).map_err(Into::into)
    }

    /// The workers with their keys; those without `keypairs` get generated ones.
    fn load_workers(
        config: &Config,
        env: &Arc<EnvMap>,
        fresh: bool,
    ) -> anyhow::Result<Vec<Worker>> {
        let specs = load_workers(config, env)?;
        if fresh {
            remove_databases(
                &config.data_dir,
                &specs
                    .iter()
                    .map(|s| s.database_path.as_path())
                    .collect::<Vec<_>>(),
            )?;
        }
        let keys_dir = config.data_dir.join("keys");
        let mut workers = Vec::with_capacity(specs.len());
        for spec in specs {
            let mut worker = Worker::load(spec, env.clone(), config)?;
            if worker.wants_generated_keys() {
                worker.use_generated_keys(&keys_dir, &config.task_id)?;
                report::note(&format!(
                    "{}: no `keypairs` in workers.json, using generated keypairs in {} (staking {}, main {})",
                    worker.name(),
                    keys_dir.display(),
                    worker.staking_public_key()?,
                    worker.main_public_key()?,
                ));
            }
            workers.push(worker);
        }
        Ok(workers)
    }

    /// Starts the workers, plays the plan, stops the workers, prints the summary.
    async fn play(&self, runner: &Runner, interrupts: &Interrupts) -> u8 {
        let position = {
            let state = runner.state();
            let names: Vec<&str> = self.steps.iter().map(|s| s.name).collect();
            Position::from_state(state.current_round(), state.last_completed_step(), &names)
        };
        let actions = match position {
            Ok(position) => plan(
                self.steps.len(),
                position,
                runner.max_rounds(),
                self.selection,
            ),
            Err(err) => {
                report::note(&format!("error: {err:#}"));
                return FAILED;
            }
        };
        let planned = actions
            .iter()
            .filter(|a| matches!(a, Action::Step { .. }))
            .count();
        let filtered_out = self.names.len() - self.selection.count(self.names.len());
        let mode = if self.cli.nocapture() {
            LogMode::Stream
        } else {
            LogMode::Capture
        };
        let started = Instant::now();
        let fleet = tokio::select! {
            fleet = Fleet::start(launch_specs(runner), mode) => fleet,
            signal = interrupts.wait() => {
                report::note(&format!("interrupted by {} while starting the workers", signal.name()));
                return signal.exit_code();
            }
        };
        let fleet = match fleet {
            Ok(fleet) => fleet,
            Err(err) => {
                report::note(&format!("error: {err:#}"));
                return FAILED;
            }
        };
        report::note(&format!(
            "{} worker(s) ready in {:.2}s; {} round(s) to play",
            runner.workers().len(),
            started.elapsed().as_secs_f64(),
            runner.max_rounds()
        ));
        let mut reporter = Reporter::new(self.cli.format());
        reporter.suite_started(planned, filtered_out);
        let stop = self
            .play_actions(runner, &fleet, interrupts, &mut reporter, &actions)
            .await;
        fleet.shutdown().await;
        let all_passed = reporter.finish();
        match stop {
            Some(Stop::Signal(signal)) => signal.exit_code(),
            None if all_passed => 0,
            Some(Stop::Failed) | None => FAILED,
        }
    }

    async fn play_actions(
        &self,
        runner: &Runner,
        fleet: &Fleet,
        interrupts: &Interrupts,
        reporter: &mut Reporter,
        actions: &[Action],
    ) -> Option<Stop> {
        for action in actions {
            let (round, index, record) = match *action {
                Action::NextRound => {
                    if let Err(err) = runner.state().next_round() {
                        report::note(&format!("error: {err:#}"));
                        return Some(Stop::Failed);
                    }
                    continue;
                }
                Action::Step {
                    round,
                    index,
                    record,
                } => (round, index, record),
            };
            let step = self.steps[index];
            let name = &self.names[index];
            reporter.step_started(name, round);
            fleet.begin_capture();
            let started = Instant::now();
            let outcome = tokio::select! {
                result = run_step(step, runner) => Outcome::from_result(result),
                exited = fleet.any_exit() => Outcome::Failed(anyhow::Error::new(exited)),
                signal = interrupts.wait() => {
                    reporter.step_finished(name, round, Verdict::Failed {
                        message: format!("interrupted by {}", signal.name()),
                        logs: fleet.take_captured(),
                    }, started.elapsed());
                    return Some(Stop::Signal(signal));
                }
            };
            let elapsed = started.elapsed();
            let logs = fleet.take_captured();
            let verdict = match outcome {
                Outcome::Passed => Verdict::Passed,
                Outcome::Skipped(reason) => Verdict::Skipped(reason),
                Outcome::Failed(err) => Verdict::Failed {
                    message: describe(step, &err),
                    logs,
                },
            };
            let failed = matches!(verdict, Verdict::Failed { .. });
            reporter.step_finished(name, round, verdict, elapsed);
            if failed {
                return Some(Stop::Failed);
            }
            if let (true, Err(err)) = (record, runner.state().complete_step(step.name)) {
                report::note(&format!("error: {err:#}"));
                return Some(Stop::Failed);
            }
        }
        None
    }
}

/// Runs one step, turning a panic into a failure.
async fn run_step(step: &StepDef, runner: &Runner) -> anyhow::Result<()> {
    let worker = runner.worker(step.worker)?;
    match AssertUnwindSafe((step.run)(runner, worker))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic payload".to_owned());
            Err(anyhow::anyhow!("the step panicked: {message}"))
        }
    }
}

fn describe(step: &StepDef, err: &anyhow::Error) -> String {
    let description = if step.description.is_empty() {
        String::new()
    } else {
        format!(" ({})", step.description.lines().next().unwrap_or_default())
    };
    format!(
        "step `{}`{description} on {} at {} failed: {err:#}",
        step.name,
        step.worker,
        step.location()
    )
}

/// Max rounds: config.yaml's `max_rounds`, else the documents of
/// `rounds_collection` for this task, plus one.
async fn max_rounds(config: &Config, db: Option<&mongodb::Database>) -> anyhow::Result<u32> {
    if let Some(max) = config.max_rounds {
        return Ok(max);
    }
    let collection = config.rounds_collection.as_deref().with_context(|| {
        format!(
            "{}: set `max_rounds`, or `rounds_collection` to count rounds from",
            config.file.display()
        )
    })?;
    let db = db.context("counting rounds needs MongoDB")?;
    let rounds = mongo::count_rounds(db, collection, &config.task_id).await?;
    report::note(&format!(
        "{rounds} round(s) from the `{collection}` collection"
    ));
    Ok(rounds)
}

/// The workers to spawn; external ones (`url` only) are left alone.
fn launch_specs(runner: &Runner) -> Vec<LaunchSpec> {
    let config = runner.config();
    runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            let Launch::Spawn(command) = &spec.launch else {
                return None;
            };
            Some(LaunchSpec {
                name: spec.name.clone(),
                command: command.clone(),
                cwd: config.tests_dir.clone(),
                env: runner
                    .env()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .chain(worker.server_env().iter().cloned())
                    .collect(),
                port: spec.port,
                health_url: spec
                    .health_path
                    .as_ref()
                    .map(|p| format!("{}{p}", spec.url)),
                start_timeout: spec.start_timeout,
            })
        })
        .collect()
}

/// A fresh run deletes the workers' database files, as the original does
/// with every `*.db` in `data_dir`.
fn remove_databases(data_dir: &Path, databases: &[&Path]) -> anyhow::Result<()> {
    let mut doomed: Vec<_> = databases.iter().map(|p| p.to_path_buf()).collect();
    if let Ok(entries) = std::fs::read_dir(data_dir) {
        doomed.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "db")),
        );
    }
    for path in doomed {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot delete", path.display())),
        }
    }
    Ok(())
}

//! The setup phase, before the first step: [`load`] reads and checks
//! everything without side effects (a [`Loaded`] run), then, with MongoDB
//! connected, [`Loaded::set_up`] opens the state — resumed, or fresh with the
//! fixtures imported and the `post_load` hook run — and returns a [`Ready`]
//! run. It is given everything it needs in [`SetupInputs`] and knows nothing
//! of the session that drives it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use super::lock::RunLock;
use super::plan::Position;
use super::ports;
use super::steps::{self, StepInstance};
use super::world::{self, Snapshots};
use crate::config::{Config, ConfigFiles, EnvMap, Problems};
use crate::events::Event;
use crate::events::Events;
use crate::faults::link::Known;
use crate::mongo::{self, Fixtures, Mongo};
use crate::record::secrets::SecretLists;
use crate::snapshot::{Point, Store, World};
use crate::state::State;
use crate::step::PostLoad;
use crate::{Runner, Worker};

/// What the setup phase is given.
pub(super) struct SetupInputs<'a> {
    /// config.yaml and the files it locates, read with the run's overrides
    /// over the process environment.
    pub(super) config: &'a ConfigFiles,
    /// The step instances, in order.
    pub(super) steps: &'a [StepInstance],
    /// `--reset`: ignore the saved state.
    pub(super) reset: bool,
    /// `--from`: the point to rewind the world to, as given.
    pub(super) from: Option<&'a str>,
    /// A resumed run restores the world before the step it resumes at.
    pub(super) restore: bool,
    /// `main!`'s `post_load` hook.
    pub(super) post_load: Option<PostLoad>,
    /// Where notes go.
    pub(super) events: &'a Events,
    /// The workers a keeper runs now, with their ports: in use by them.
    pub(super) kept_ports: BTreeMap<String, u16>,
}

/// What was read and checked before anything starts or is written.
pub(super) struct Loaded<'a> {
    inputs: SetupInputs<'a>,
    lock: RunLock,
    config: Config,
    env: EnvMap,
    needs_mongo: bool,
    saved: Option<State>,
    /// The client of `runner.http()`, with the certificates HTTPS trusts.
    http_client: reqwest::Client,
    /// config.yaml's `plain_env`, `secret_headers` and `secret_fields`, checked.
    secret_lists: SecretLists,
    /// The workers with the keys their files hold (generated ones come later).
    workers: Vec<Worker>,
    /// The fixtures, validated, when the run is known to be fresh.
    fixtures: Option<Fixtures>,
    /// `--from`'s point, checked to be kept.
    rewind: Option<Point>,
}

/// A run ready to play: the complete runner and where the run stands.
pub(super) struct Ready {
    pub(super) runner: Runner,
    pub(super) position: Position,
    /// Held until the run ends.
    pub(super) lock: RunLock,
    /// What the run's snapshots hold.
    pub(super) world: World,
    /// The run starts afresh (not resumed).
    pub(super) fresh: bool,
}

/// Reads config.yaml, the `.env` files and workers.json, checks them with
/// the registered steps (every problem at once), takes the run lock, checks
/// the spawned workers' ports, reads the saved state, and validates the
/// fixtures of a fresh run. Writes nothing but the lock file.
pub(super) fn load(inputs: SetupInputs<'_>) -> anyhow::Result<Loaded<'_>> {
    let events = inputs.events;
    let mut problems = Problems::default();
    steps::check_among_themselves(inputs.steps, &mut problems);
    let files = inputs.config;
    let loaded = files
        .config()
        .and_then(|config| Ok((config.clone(), files.env()?.clone())));
    let Some((config, env)) = problems.take(loaded) else {
        return Err(anyhow::Error::from(problems));
    };
    for warning in &config.warnings {
        events.note(format!("warning: {warning}"));
    }
    let secret_lists = problems
        .take(SecretLists::from_extra(&config.file, &config.extra))
        .unwrap_or_default();
    if inputs.post_load.is_some() && !config.mongodb_configured {
        problems.push(format!(
            "{}: a post_load hook needs a `mongodb` section with `database` in config.yaml",
            config.file.display()
        ));
    }
    let needs_mongo = config.needs_mongodb();
    if let Some(problem) = needs_mongo.then(|| mongo::srv_unsupported(&env)).flatten() {
        problems.push(problem);
    }
    let mut provisional = env.clone();
    if needs_mongo && env.get("MONGO_URI").is_none() {
        // Until a server is chosen, a mapped MONGO_URI checks as the default.
        provisional.set("MONGO_URI", mongo::DEFAULT_URI);
    }
    let http_client = problems.take(crate::http_client::for_run(&config, &env));
    let workers = check_workers(
        &inputs,
        &config,
        &Arc::new(provisional),
        &mut problems,
        events,
    );
    let (Some(http_client), true) = (http_client, problems.is_empty()) else {
        return Err(anyhow::Error::from(problems));
    };

    Store::check_folder(&config.data_dir)?;
    let rewind = match inputs.from {
        Some(text) => Some(checked_rewind(text, &inputs, &config)?),
        None => None,
    };
    let lock = RunLock::acquire(&config.data_dir)?;
    ports::check_free(&workers, &env, &inputs.kept_ports)?;
    let saved = if inputs.reset {
        None
    } else {
        State::load(&config.data_dir)?.filter(|state| {
            let pending = state.setup_pending();
            if pending {
                events.note("the last fresh run stopped during its setup: starting fresh");
            }
            !pending
        })
    };
    let fixtures = match (&saved, needs_mongo) {
        (None, true) if rewind.is_none() => Some(read_fixtures(&config)?),
        _ => None,
    };
    Ok(Loaded {
        inputs,
        lock,
        config,
        env,
        needs_mongo,
        saved,
        http_client,
        secret_lists,
        workers,
        fixtures,
        rewind,
    })
}

/// `--from`'s point, when it names a step and a kept snapshot; else the
/// error naming the nearest kept ones. Reads the snapshots only.
fn checked_rewind(text: &str, inputs: &SetupInputs<'_>, config: &Config) -> anyhow::Result<Point> {
    if !config.snapshots.enabled() {
        anyhow::bail!(
            "`--from {text}`: {} turns snapshots off (`snapshots: off`), so there is nothing to rewind to",
            config.file.display()
        );
    }
    let point = world::parse_point(text, inputs.steps).map_err(anyhow::Error::msg)?;
    let (kept, _) = Store::peek(&config.data_dir)?;
    let at = (point.round, point.index);
    if let Some(unusable) = Store::peek_unusable(&config.data_dir)?
        .into_iter()
        .find(|unusable| unusable.at == at)
    {
        anyhow::bail!(
            "`--from {text}`: the snapshot before {point} cannot be used: {}; rewind to another \
             kept point ({}) or start over with `--reset`; nothing was changed",
            unusable.why,
            crate::snapshot::nearest(&point, &kept)
        );
    }
    if !kept.iter().any(|k| k.point == point) {
        anyhow::bail!(
            "`--from {text}`: {}; nothing was changed",
            crate::snapshot::not_kept(&point, &kept)
        );
    }
    Ok(point)
}

/// workers.json and the keypair files it names; every step's worker must exist,
/// and every name in config.yaml's `faults`.
fn check_workers(
    inputs: &SetupInputs<'_>,
    config: &Config,
    env: &Arc<EnvMap>,
    problems: &mut Problems,
    events: &Events,
) -> Vec<Worker> {
    let Some(specs) = problems.take(inputs.config.workers(env)) else {
        return Vec::new();
    };
    let names: Vec<String> = specs.iter().map(|w| w.name.clone()).collect();
    for warning in specs.iter().flat_map(|spec| &spec.warnings) {
        events.note(format!("warning: {warning}"));
    }
    let workers = specs
        .into_iter()
        .filter_map(|spec| problems.take(Worker::load(spec, env.clone(), config)))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    steps::check_workers(inputs.steps, &names, problems);
    let services: Vec<&str> = config.services.iter().map(|s| s.name.as_str()).collect();
    for service in services.iter().filter(|service| names.contains(service)) {
        problems.push(format!(
            "{}: service `{service}` has the name of a worker of {}: give it another name",
            config.file.display(),
            config.workers_config.display()
        ));
    }
    if let Some(schedule) = &config.faults
        && let Err(faults) =
            crate::config::check_fault_names(schedule, &Known::new(&names, &services))
    {
        problems.append(faults);
    }
    workers
}

impl Loaded<'_> {
    /// Connects to MongoDB (or starts the private server) when the suite uses it.
    pub(super) async fn connect(&self) -> anyhow::Result<Option<Mongo>> {
        if !self.needs_mongo {
            return Ok(None);
        }
        let kept = self.config.data_dir.join("mongodb");
        Ok(Some(mongo::connect(&self.env, Some(&kept)).await?))
    }

    /// Checks the container workers' engine and images and removes the
    /// containers an earlier run left, before anything is reset.
    pub(super) async fn prepare_containers(&self) -> anyhow::Result<()> {
        super::containers::prepare(&self.config, &self.env, &self.workers, self.inputs.events).await
    }

    /// Opens the state (resumed, or fresh with MongoDB reset), counts the
    /// rounds, builds the runner, and runs the `post_load` hook of a fresh
    /// run, recounting the rounds after it.
    pub(super) async fn set_up(self, mongo: Option<&Mongo>) -> anyhow::Result<Ready> {
        let Loaded {
            inputs,
            lock,
            config,
            mut env,
            saved,
            http_client,
            secret_lists,
            workers,
            fixtures,
            rewind,
            ..
        } = self;
        if let (Some(mongo), None) = (mongo, env.get("MONGO_URI")) {
            env.set("MONGO_URI", mongo.uri());
        }
        let db = mongo.map(|m| m.client().database(&config.mongodb.database));
        let step_names: Vec<&str> = inputs.steps.iter().map(|s| s.name.as_str()).collect();
        let world = world::world_of(&config, &workers, db.clone(), inputs.events);
        let saved = settle_world(&config, &world, saved, rewind, &inputs, &step_names).await?;
        let resumed = match saved {
            Some(state) => resume(&config, state, db.as_ref(), &step_names, inputs.events).await?,
            None => None,
        };
        let fresh = resumed.is_none();
        let (state, rounds) = if let Some(resumed) = resumed {
            resumed
        } else {
            let state = start_fresh(&config, fixtures, db.as_ref(), inputs.events).await?;
            // A fresh run's world owes nothing to the old snapshots.
            Store::remove_all(&config.data_dir)?;
            (state, count_rounds(&config, db.as_ref()).await?)
        };
        let env = Arc::new(env);
        let workers = prepare_workers(workers, &config, &env, fresh, inputs.events)?;
        let recorder = super::redaction::recorder_of(&config, secret_lists, &workers, &env);
        let mut runner = Runner::new(
            config,
            env,
            workers,
            state,
            db.clone(),
            rounds,
            recorder,
            http_client,
            Some(inputs.events.clone()),
        );
        if let (true, Some(hook), Some(db)) = (fresh, inputs.post_load, &db) {
            hook(db, &runner)
                .await
                .context("the post_load hook failed")?;
            inputs.events.note("post_load hook done");
            // The hook may have changed the data the rounds are counted from.
            let rounds = count_rounds(runner.config(), Some(db)).await?;
            runner = runner.with_max_rounds(rounds);
        }
        note_rounds(runner.config(), runner.max_rounds(), inputs.events);
        let position = {
            let mut state = runner.state();
            if fresh {
                state.finish_setup()?;
            }
            Position::from_state(
                state.current_round(),
                state.last_completed_step(),
                &step_names,
            )?
        };
        Ok(Ready {
            runner,
            position,
            lock,
            world,
            fresh,
        })
    }
}

/// Before the saved state is used: completes a restore a killed run left
/// unfinished, then rewinds to `--from`'s point, or restores the world a
/// resumed run stopped in (the snapshot before the step it resumes at, when
/// kept). Returns the state to go on from (re-read after a restore).
async fn settle_world(
    config: &Config,
    world: &World,
    saved: Option<State>,
    rewind: Option<Point>,
    inputs: &SetupInputs<'_>,
    step_names: &[&str],
) -> anyhow::Result<Option<State>> {
    if !config.snapshots.enabled() || inputs.reset || !Store::exists(&config.data_dir) {
        return Ok(saved);
    }
    let mut store = Store::open(&config.data_dir)?;
    let resume_at = match (&rewind, &saved) {
        (None, Some(state)) if inputs.restore => resume_at(state, step_names, inputs.steps),
        _ => None,
    };
    set_aside_unusable(&store, resume_at.as_ref(), inputs.steps, inputs.events)?;
    let mut restored = false;
    if let Some(done) = store.recover(world).await? {
        inputs
            .events
            .emit(&Event::WorldRestored(Snapshots::restored(&done, true)));
        restored = true;
    }
    let point = match (rewind, resume_at) {
        (Some(point), _) => Some(point),
        (None, Some(point)) => store
            .kept()?
            .into_iter()
            .any(|kept| kept.point == point)
            .then_some(point),
        (None, None) => None,
    };
    if let Some(point) = point {
        let done = store.restore(world, &point).await?;
        inputs
            .events
            .emit(&Event::WorldRestored(Snapshots::restored(&done, false)));
        store.drop_after(&point)?;
        restored = true;
    }
    if restored {
        return State::load(&config.data_dir);
    }
    Ok(saved)
}

/// The point before the step a resumed run starts at, if it starts at one.
fn resume_at(state: &State, step_names: &[&str], steps: &[StepInstance]) -> Option<Point> {
    let position = Position::from_state(
        state.current_round(),
        state.last_completed_step(),
        step_names,
    )
    .ok()?;
    (position.done < steps.len()).then(|| world::point_before(position.round, position.done, steps))
}

/// Renames aside, with a warning naming each, the manifests that cannot be
/// used (damaged, or of another version). One that this run's restore needs
/// (the interrupted restore's, or the point it resumes at) is an error
/// saying how to go on, and nothing is changed.
fn set_aside_unusable(
    store: &Store,
    resume_at: Option<&Point>,
    steps: &[StepInstance],
    events: &Events,
) -> anyhow::Result<()> {
    let unusable = store.unusable()?;
    if unusable.is_empty() {
        return Ok(());
    }
    let key = |point: &Point| (point.round, point.index);
    let needed = |point: &Point| unusable.iter().find(|u| u.at == key(point));
    if let Some(pending) = store.pending()?
        && let Some(damaged) = needed(&pending)
    {
        anyhow::bail!(
            "cannot finish the restore a stopped run left unfinished: the snapshot before \
             {pending} cannot be used: {}; run with `--reset` to start over",
            damaged.why
        );
    }
    if let Some(point) = resume_at
        && let Some(damaged) = needed(point)
    {
        anyhow::bail!(
            "the snapshot before {point}, where this run resumes, cannot be used: {}; to go \
             on, rewind with `--from` to another kept point ({}), resume in the world as it \
             is with `--no-restore`, or start over with `--reset`; nothing was changed",
            damaged.why,
            crate::snapshot::nearest(point, &store.kept()?)
        );
    }
    for damaged in &unusable {
        let aside = store.set_aside(damaged)?;
        let (round, index) = damaged.at;
        let which = match steps.get(index) {
            Some(_) => format!(
                "the snapshot before {}",
                world::point_before(round, index, steps)
            ),
            None => "a snapshot".to_owned(),
        };
        events.note(format!(
            "warning: {which} cannot be used, so it is set aside as {}: {}",
            aside.display(),
            damaged.why
        ));
    }
    Ok(())
}

/// The saved state with the run's rounds, or `None` when the saved run is
/// over: any run then starts fresh, a filtered one (an IDE's run button)
/// too, playing round 1 up to the selected step.
async fn resume(
    config: &Config,
    state: State,
    db: Option<&mongodb::Database>,
    step_names: &[&str],
    events: &Events,
) -> anyhow::Result<Option<(State, u32)>> {
    let rounds = count_rounds(config, db).await?;
    let position = Position::from_state(
        state.current_round(),
        state.last_completed_step(),
        step_names,
    )
    .with_context(|| State::path_in(&config.data_dir).display().to_string())?;
    check_within_rounds(config, position, step_names, rounds)?;
    if position.is_complete(step_names.len(), rounds) {
        events.note("the previous run completed: starting a fresh run");
        return Ok(None);
    }
    if let Some(db) = db {
        mongo::check_required(db, &config.mongodb, &config.task_id).await?;
    }
    let round = state.current_round();
    events.note(match state.last_completed_step() {
        Some(_) if position.done >= step_names.len() => {
            format!("resuming at round {} (round {round} is done)", round + 1)
        }
        Some(step) => format!("resuming round {round} after step `{step}`"),
        None => format!("resuming round {} at its first step", state.current_round()),
    });
    Ok(Some((state, rounds)))
}

/// A saved round past the run's rounds that did not complete all its steps
/// is a run that could be resumed: an error, never a reason to start over.
fn check_within_rounds(
    config: &Config,
    position: Position,
    step_names: &[&str],
    rounds: u32,
) -> anyhow::Result<()> {
    if position.round <= rounds || position.done >= step_names.len() {
        return Ok(());
    }
    let source = match (config.max_rounds, &config.rounds_collection) {
        (None, Some(collection)) => format!("counted from the `{collection}` collection"),
        _ => format!("`max_rounds` of {}", config.file.display()),
    };
    let after = position.done.checked_sub(1).map_or_else(
        || "before its first step".to_owned(),
        |i| format!("after step `{}`", step_names[i]),
    );
    anyhow::bail!(
        "the saved run stopped in round {} ({after}), but this run has only {rounds} round(s) \
         ({source}): set `max_rounds` to at least {} to resume it, or run with --reset to \
         discard it and start over ({})",
        position.round,
        position.round,
        State::path_in(&config.data_dir).display()
    )
}

fn read_fixtures(config: &Config) -> anyhow::Result<Fixtures> {
    mongo::read_fixtures(&config.mongodb, &config.data_dir, &config.task_id)
}

/// A fresh state, saved as "setup pending" before MongoDB is reset, so a run
/// stopped anywhere in its setup starts fresh again next time.
async fn start_fresh(
    config: &Config,
    fixtures: Option<Fixtures>,
    db: Option<&mongodb::Database>,
    events: &Events,
) -> anyhow::Result<State> {
    let fixtures = match (fixtures, db) {
        (Some(fixtures), _) => Some(fixtures),
        (None, Some(_)) => Some(read_fixtures(config)?),
        (None, None) => None,
    };
    let state = State::fresh(&config.data_dir)?;
    if let (Some(db), Some(fixtures)) = (db, &fixtures) {
        let report = mongo::reset(db, &config.mongodb, fixtures, &config.task_id).await?;
        events.note(format!(
            "MongoDB `{}` reset: {report}",
            config.mongodb.database
        ));
    }
    events.note("fresh run: starting at round 1");
    Ok(state)
}

/// The checked workers on the run's final environment; those without
/// `keypairs` get generated ones. A fresh run first deletes their databases.
fn prepare_workers(
    mut workers: Vec<Worker>,
    config: &Config,
    env: &Arc<EnvMap>,
    fresh: bool,
    events: &Events,
) -> anyhow::Result<Vec<Worker>> {
    if fresh {
        remove_databases(&config.data_dir)?;
    }
    let keys_dir = config.data_dir.join("keys");
    for worker in &mut workers {
        worker.use_env(env.clone());
        if worker.wants_generated_keys() {
            worker.use_generated_keys(&keys_dir, &config.task_id)?;
            events.note(format!(
                "{}: no `keypairs` in workers.json, using generated keypairs in {} (staking {}, main {})",
                worker.name(),
                keys_dir.display(),
                worker.staking_public_key()?,
                worker.main_public_key()?,
            ));
        }
    }
    Ok(workers)
}

/// Max rounds: config.yaml's `max_rounds`, else the documents of
/// `rounds_collection` for this task, plus one.
async fn count_rounds(config: &Config, db: Option<&mongodb::Database>) -> anyhow::Result<u32> {
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
    mongo::count_rounds(db, collection, &config.task_id).await
}

/// Says where a counted number of rounds came from.
fn note_rounds(config: &Config, rounds: u32, events: &Events) {
    if let (None, Some(collection)) = (config.max_rounds, &config.rounds_collection) {
        events.note(format!(
            "{} from the `{collection}` collection",
            super::wording::counted(usize::try_from(rounds).unwrap_or(usize::MAX), "round")
        ));
    }
}

/// A fresh run deletes every `*.db` in `data_dir`, as the original does;
/// that includes each worker's `database_<worker>.db`.
fn remove_databases(data_dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return Ok(());
    };
    let doomed = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "db"));
    for path in doomed {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot delete", path.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_databases_deletes_every_db_file_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        for name in [
            "database_worker1.db",
            "notes.db",
            "notes.txt",
            "db",
            "state.db.bak",
        ] {
            std::fs::write(data.join(name), "x").unwrap();
        }
        std::fs::create_dir(data.join("keys")).unwrap();
        std::fs::write(data.join("keys/inner.db"), "x").unwrap();
        remove_databases(data).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["db", "keys", "notes.txt", "state.db.bak"]);
        assert!(
            data.join("keys/inner.db").exists(),
            "only data_dir itself is cleared, not its subdirectories"
        );
    }

    #[test]
    fn remove_databases_accepts_a_missing_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        remove_databases(&dir.path().join("not-yet")).unwrap();
    }
}

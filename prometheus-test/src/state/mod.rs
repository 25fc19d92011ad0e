//! The resume state in `data_dir/test_state.json`, in the original's layout
//! (`rounds`, `global`, `current_round`, `last_completed_step`). Only run
//! data lives here: configuration is re-read on every run, and no secret or
//! absolute path is stored.
//!
//! Cost: a step's changes are appended to the [journal](journal) as they
//! happen; the state file is rewritten whole (a temporary file renamed over
//! it) only when the journal is folded into it, at the end of each round and
//! of the run. So what a step writes does not grow with the rounds played.
//!
//! Durability: a killed runner never leaves a torn file and loses nothing
//! recorded (the next load replays the journal). The data is forced to the
//! disk ([`State::sync`]) at the end of each round and of the run, not after
//! every step: a power loss or kernel crash may lose the records of the last
//! steps (the next run then replays them).

mod journal;
mod rounds;

use journal::{Entry, Journal};
pub(crate) use journal::{HeldLife, JOURNAL_FILE};
use rounds::Rounds;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::atomic_file::{FileSync, write_atomic};

/// The file name inside `data_dir`.
pub(crate) const STATE_FILE: &str = "test_state.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Doc {
    rounds: Rounds,
    global: Map<String, Value>,
    current_round: u32,
    last_completed_step: Option<String>,
    /// Present while a fresh run sets up (imports, hook): a run that stops
    /// before the setup is done is started fresh again, not resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    setup: Option<String>,
    /// The workers the steps left stopped or paused, so that a resumed run
    /// (and the world a snapshot restores) holds them as they were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    held_workers: BTreeMap<String, HeldLife>,
    /// The seed the run's faults are drawn from, so that a resumed run
    /// given none draws what the run it continues drew (and a rewound one,
    /// whose snapshot holds this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fault_seed: Option<u64>,
    /// Keys written by other tools are kept as they were.
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// Where `Runner::set` stores a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Round,
    Global,
}

/// The run's state and the file it lives in.
#[derive(Debug)]
pub(crate) struct State {
    path: PathBuf,
    doc: Doc,
    journal: Journal,
}

impl State {
    /// The state file of `data_dir`.
    pub(crate) fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(STATE_FILE)
    }

    /// Reads the saved state, `None` when there is none.
    pub(crate) fn load(data_dir: &Path) -> anyhow::Result<Option<Self>> {
        remove_stale_temp_files(data_dir);
        let path = Self::path_in(data_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        };
        let mut doc: Doc = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: not a valid state file (run with --reset to start over; the old file is kept as {})",
                path.display(),
                backup_path(&path).display()
            )
        })?;
        if doc.current_round == 0 {
            bail!("{}: `current_round` must be at least 1", path.display());
        }
        doc.rounds.thaw(doc.current_round);
        let (journal, lines) = Journal::read(data_dir, &bytes)?;
        for line in lines {
            doc.apply(line.entry).with_context(|| {
                format!(
                    "{}: line {}: cannot apply this entry to {} (run with --reset to start over)",
                    journal.path().display(),
                    line.number,
                    path.display()
                )
            })?;
        }
        Ok(Some(Self { path, doc, journal }))
    }

    /// A fresh state for round 1, saved as "setup pending" until
    /// [`finish_setup`](Self::finish_setup). An existing state file is kept
    /// as `test_state.prev.json` so nothing the user had is lost.
    pub(crate) fn fresh(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("{}: cannot create the data directory", data_dir.display()))?;
        remove_stale_temp_files(data_dir);
        let path = Self::path_in(data_dir);
        if path.exists() {
            std::fs::rename(&path, backup_path(&path))
                .with_context(|| format!("{}: cannot keep the previous state", path.display()))?;
        }
        let journal_path = data_dir.join(JOURNAL_FILE);
        if journal_path.exists() {
            std::fs::rename(&journal_path, data_dir.join(PREV_JOURNAL_FILE)).with_context(
                || {
                    format!(
                        "{}: cannot keep the previous journal",
                        journal_path.display()
                    )
                },
            )?;
        }
        let mut state = Self {
            path,
            journal: Journal::empty(data_dir, b""),
            doc: Doc {
                rounds: Rounds::default(),
                global: Map::new(),
                current_round: 1,
                last_completed_step: None,
                setup: Some("pending".to_owned()),
                held_workers: BTreeMap::new(),
                fault_seed: None,
                other: Map::new(),
            },
        };
        state.fold()?;
        Ok(state)
    }

    /// Whether this state comes from a fresh run that stopped during its setup.
    pub(crate) fn setup_pending(&self) -> bool {
        self.doc.setup.is_some()
    }

    /// Marks the fresh run's setup as done and saves.
    pub(crate) fn finish_setup(&mut self) -> anyhow::Result<()> {
        self.doc.setup = None;
        self.fold()
    }

    pub(crate) fn current_round(&self) -> u32 {
        self.doc.current_round
    }

    pub(crate) fn last_completed_step(&self) -> Option<&str> {
        self.doc.last_completed_step.as_deref()
    }

    /// Records a completed step in the journal.
    pub(crate) fn complete_step(&mut self, name: &str) -> anyhow::Result<()> {
        let entry = Entry::Step {
            name: name.to_owned(),
        };
        self.journal.append(&entry)?;
        self.doc.apply(entry)
    }

    /// Records in the journal how a step left `worker`: stopped, paused, or
    /// (`None`) running as configured.
    pub(crate) fn hold_worker(
        &mut self,
        worker: &str,
        life: Option<HeldLife>,
    ) -> anyhow::Result<()> {
        if self.doc.held_workers.get(worker).copied() == life {
            return Ok(());
        }
        let entry = Entry::Life {
            worker: worker.to_owned(),
            life,
        };
        self.journal.append(&entry)?;
        self.doc.apply(entry)
    }

    /// The workers the steps so far left stopped or paused.
    pub(crate) fn held_workers(&self) -> &BTreeMap<String, HeldLife> {
        &self.doc.held_workers
    }

    /// The seed the run's faults are drawn from, when it kept one.
    pub(crate) fn fault_seed(&self) -> Option<u64> {
        self.doc.fault_seed
    }

    /// Keeps `seed` as the one the run's faults are drawn from, and saves.
    pub(crate) fn keep_fault_seed(&mut self, seed: u64) -> anyhow::Result<()> {
        if self.doc.fault_seed == Some(seed) {
            return Ok(());
        }
        self.doc.fault_seed = Some(seed);
        self.fold()
    }

    /// Moves to the next round: folds the journal into the state file and
    /// forces it to the disk.
    pub(crate) fn next_round(&mut self) -> anyhow::Result<()> {
        self.doc.current_round += 1;
        self.doc.last_completed_step = None;
        self.doc.rounds.thaw(self.doc.current_round);
        self.fold()?;
        self.sync_files()
    }

    /// Folds the journal into the state file and forces both to the disk
    /// (the file, then its directory for the rename). Appends and saves only
    /// reach the page cache, which survives any process death; this makes
    /// them survive a power loss too.
    pub(crate) fn sync(&mut self) -> anyhow::Result<()> {
        if self.journal.has_entries() {
            self.fold()?;
        }
        self.sync_files()
    }

    fn sync_files(&self) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let sync = |path: &Path| std::fs::File::open(path).and_then(|f| f.sync_all());
        self.journal
            .sync()
            .and_then(|()| sync(&self.path))
            .and_then(|()| sync(dir))
            .with_context(|| format!("{}: cannot sync the state to disk", self.path.display()))
    }

    /// Looks `key` up (dot paths allowed) in the current round, then in the
    /// global state; `current_round` and `last_completed_step` are the run's own.
    pub(crate) fn get(&self, key: &str) -> Option<Value> {
        match key {
            "current_round" => return Some(self.doc.current_round.into()),
            "last_completed_step" => return Some(self.doc.last_completed_step.clone().into()),
            _ => {}
        }
        let round = self.doc.rounds.get(self.doc.current_round);
        round
            .and_then(|r| lookup(r, key))
            .or_else(|| lookup_map(&self.doc.global, key))
            .cloned()
    }

    /// The latest earlier round whose data holds `key` (a value stored with
    /// `runner.set`, which later rounds do not see).
    pub(crate) fn earlier_round_holding(&self, key: &str) -> Option<u32> {
        (1..self.doc.current_round).rev().find(|round| {
            self.doc
                .rounds
                .read(*round)
                .is_some_and(|r| lookup(&r, key).is_some_and(|v| !v.is_null()))
        })
    }

    /// Stores `value` at `key` (dot paths create nested objects) and saves.
    pub(crate) fn set(&mut self, scope: Scope, key: &str, value: Value) -> anyhow::Result<()> {
        if key.is_empty() || key.split('.').any(str::is_empty) {
            bail!(
                "invalid key `{key}`: expected names separated by single dots, like `pr_urls.worker1`"
            );
        }
        if matches!(key, "current_round" | "last_completed_step") {
            bail!("`{key}` belongs to the runner and cannot be set by a step");
        }
        let entry = Entry::Set {
            round: (scope == Scope::Round).then_some(self.doc.current_round),
            key: key.to_owned(),
            value,
        };
        // Checked on a copy of the path's root first: only entries that
        // apply are journaled, so a replay never meets a failing one.
        self.doc.check(&entry)?;
        self.journal.append(&entry)?;
        self.doc.apply(entry)
    }

    /// Writes the state file whole and atomically (a temporary file in the
    /// same directory, renamed over the old one), then drops the journal it
    /// now holds. Not synced to the disk: see [`State::sync`].
    fn fold(&mut self) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut text =
            serde_json::to_string_pretty(&self.doc).context("cannot serialise the state")?;
        text.push('\n');
        let tmp = dir.join(temp_name(std::process::id()));
        crate::failpoint::hit("state.fold.before");
        write_atomic(&self.path, &tmp, text.as_bytes(), FileSync::Nothing, None)
            .with_context(|| format!("{}: cannot save the state", self.path.display()))?;
        crate::failpoint::hit("state.fold.renamed");
        self.journal.rebase(text.as_bytes())
    }
}

impl Doc {
    /// Fails as [`apply`](Self::apply) would, changing nothing.
    fn check(&self, entry: &Entry) -> anyhow::Result<()> {
        let Entry::Set { round, key, .. } = entry else {
            return Ok(());
        };
        let data;
        let root = match round {
            Some(round) => {
                data = self.rounds.read(*round);
                match data.as_deref() {
                    Some(Value::Object(map)) => map,
                    _ => return Ok(()),
                }
            }
            None => &self.global,
        };
        let mut map = root;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            match map.get(*part) {
                None => return Ok(()),
                Some(Value::Object(next)) => map = next,
                Some(_) => bail!("cannot set `{key}`: `{part}` already holds a non-object value"),
            }
        }
        Ok(())
    }

    /// Applies one journaled change.
    fn apply(&mut self, entry: Entry) -> anyhow::Result<()> {
        match entry {
            Entry::Base { .. } => Ok(()),
            Entry::Step { name } => {
                self.last_completed_step = Some(name);
                Ok(())
            }
            Entry::Life { worker, life } => {
                match life {
                    Some(life) => self.held_workers.insert(worker, life),
                    None => self.held_workers.remove(&worker),
                };
                Ok(())
            }
            Entry::Set { round, key, value } => {
                let root = match round {
                    Some(round) => self.rounds.object_mut(round),
                    None => &mut self.global,
                };
                insert(root, &key, value)
            }
        }
    }
}

/// The temporary file of a save by process `pid`.
fn temp_name(pid: u32) -> String {
    format!(".{STATE_FILE}.{pid}.tmp")
}

/// Removes the temporary files of saves whose process is gone (killed
/// between writing and renaming). Best effort: a file that cannot be
/// removed is left for the next run.
fn remove_stale_temp_files(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    let prefix = format!(".{STATE_FILE}.");
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn process_alive(pid: i32) -> bool {
    use nix::errno::Errno;
    pid > 0
        && matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Ok(()) | Err(Errno::EPERM)
        )
}

/// Where a fresh run keeps the journal of the state it replaces.
const PREV_JOURNAL_FILE: &str = "test_state.prev.journal";

fn backup_path(path: &Path) -> PathBuf {
    path.with_file_name("test_state.prev.json")
}

fn lookup<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    key.split('.')
        .try_fold(value, |v, part| v.as_object()?.get(part))
}

fn lookup_map<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    let (first, rest) = key
        .split_once('.')
        .map_or((key, None), |(f, r)| (f, Some(r)));
    let value = map.get(first)?;
    match rest {
        None => Some(value),
        Some(rest) => lookup(value, rest),
    }
}

fn insert(root: &mut Map<String, Value>, key: &str, value: Value) -> anyhow::Result<()> {
    let mut parts = key.split('.').peekable();
    let mut map = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return Ok(());
        }
        let slot = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        map = slot.as_object_mut().with_context(|| {
            format!("cannot set `{key}`: `{part}` already holds a non-object value")
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fresh_state_has_the_original_layout() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        let pending = State::load(dir.path()).unwrap().unwrap();
        assert!(
            pending.setup_pending(),
            "a fresh state is pending until its setup is done"
        );
        state.finish_setup().unwrap();
        assert!(!State::load(dir.path()).unwrap().unwrap().setup_pending());
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap())
                .unwrap();
        assert_eq!(
            saved,
            json!({"rounds": {}, "global": {}, "current_round": 1, "last_completed_step": null})
        );
    }

    #[test]
    fn temp_files_of_dead_processes_are_removed_when_the_state_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let mut dead = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = dead.id();
        dead.wait().unwrap();
        let stale = dir.path().join(temp_name(dead_pid));
        let live = dir.path().join(temp_name(std::process::id()));
        let other = dir.path().join(".test_state.json.x.tmp");
        for path in [&stale, &live, &other] {
            std::fs::write(path, "{").unwrap();
        }
        assert!(State::load(dir.path()).unwrap().is_none());
        assert!(!stale.exists(), "a dead process's temp file is removed");
        assert!(live.exists(), "a live process's temp file is kept");
        assert!(other.exists(), "only temp files of saves are touched");
        std::fs::write(&stale, "{").unwrap();
        State::fresh(dir.path()).unwrap();
        assert!(!stale.exists(), "a fresh state removes them too");
    }

    #[test]
    fn a_synced_state_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state.complete_step("work").unwrap();
        state.next_round().unwrap();
        state.sync().unwrap();
        let again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.current_round(), 2);
        assert_eq!(again.last_completed_step(), None);
    }

    #[test]
    fn dotted_keys_fall_back_to_global_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state
            .set(Scope::Global, "repo.owner", json!("koii"))
            .unwrap();
        state
            .set(Scope::Round, "pr_urls.worker1", json!("https://x/pull/1"))
            .unwrap();
        assert_eq!(state.get("repo.owner"), Some(json!("koii")));
        assert_eq!(state.get("repo"), Some(json!({"owner": "koii"})));
        assert_eq!(
            state.get("pr_urls.worker1"),
            Some(json!("https://x/pull/1"))
        );
        state
            .set(Scope::Global, "pr_urls.worker2", json!("global"))
            .unwrap();
        assert_eq!(state.get("pr_urls.worker2"), Some(json!("global")));
        state.next_round().unwrap();
        assert_eq!(
            state.get("pr_urls.worker1"),
            None,
            "round data stays in its round"
        );
        assert_eq!(state.get("current_round"), Some(json!(2)));
    }

    #[test]
    fn saved_state_round_trips_and_keeps_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state.set(Scope::Round, "n", json!(1)).unwrap();
        state.complete_step("worker_task").unwrap();
        state.sync().unwrap();
        let path = dir.path().join(STATE_FILE);
        let mut raw: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        raw["tool_note"] = json!("kept");
        std::fs::write(&path, raw.to_string()).unwrap();
        let mut again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.last_completed_step(), Some("worker_task"));
        assert_eq!(again.get("n"), Some(json!(1)));
        again.complete_step("next").unwrap();
        again.sync().unwrap();
        let back: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back["tool_note"], "kept");
    }

    #[test]
    fn invalid_state_is_an_error_naming_the_file_and_a_fresh_run_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), "{\"rounds\": ").unwrap();
        let err = format!("{:#}", State::load(dir.path()).unwrap_err());
        assert!(
            err.contains("test_state.json: not a valid state file"),
            "{err}"
        );
        assert!(err.contains("line 1"), "{err}");
        State::fresh(dir.path()).unwrap();
        let kept = std::fs::read_to_string(dir.path().join("test_state.prev.json")).unwrap();
        assert_eq!(kept, "{\"rounds\": ");
    }

    #[test]
    fn bad_keys_and_reserved_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        assert!(state.set(Scope::Round, "a..b", json!(1)).is_err());
        assert!(state.set(Scope::Round, "current_round", json!(9)).is_err());
        state.set(Scope::Round, "a", json!(1)).unwrap();
        let err = state
            .set(Scope::Round, "a.b", json!(2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`a` already holds a non-object value"),
            "{err}"
        );
    }

    #[test]
    fn a_round_value_hides_the_whole_global_value_at_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state
            .set(
                Scope::Global,
                "pr_urls",
                json!({"worker1": "g1", "worker2": "g2"}),
            )
            .unwrap();
        state
            .set(Scope::Round, "pr_urls.worker1", json!("r1"))
            .unwrap();
        assert_eq!(
            state.get("pr_urls"),
            Some(json!({"worker1": "r1"})),
            "objects are not merged across scopes"
        );
        assert_eq!(state.get("pr_urls.worker1"), Some(json!("r1")));
        assert_eq!(
            state.get("pr_urls.worker2"),
            Some(json!("g2")),
            "a path the round lacks falls back to the global state"
        );
    }

    #[test]
    fn dotted_sets_merge_into_objects_and_replace_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state.set(Scope::Round, "a.b", json!(1)).unwrap();
        state.set(Scope::Round, "a.c", json!(2)).unwrap();
        state
            .set(Scope::Round, "a.b", json!({"deep": true}))
            .unwrap();
        assert_eq!(state.get("a"), Some(json!({"b": {"deep": true}, "c": 2})));
        state.set(Scope::Round, "a", json!("leaf")).unwrap();
        assert_eq!(
            state.get("a"),
            Some(json!("leaf")),
            "a shorter key replaces the object"
        );
        assert_eq!(state.get("a.b"), None);
    }

    #[test]
    fn the_runs_own_keys_come_before_stored_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::fresh(dir.path()).unwrap();
        state.complete_step("work").unwrap();
        state.sync().unwrap();
        let path = dir.path().join(STATE_FILE);
        let mut raw: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        raw["rounds"]["1"]["current_round"] = json!(99);
        raw["global"]["last_completed_step"] = json!("forged");
        std::fs::write(&path, raw.to_string()).unwrap();
        let state = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(state.get("current_round"), Some(json!(1)));
        assert_eq!(state.get("last_completed_step"), Some(json!("work")));
    }

    #[test]
    fn a_round_slot_that_is_not_an_object_is_replaced_on_set() {
        let dir = tempfile::tempdir().unwrap();
        State::fresh(dir.path()).unwrap();
        let path = dir.path().join(STATE_FILE);
        let mut raw: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        raw["rounds"]["1"] = json!("junk");
        std::fs::write(&path, raw.to_string()).unwrap();
        let mut state = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(state.get("x"), None);
        state.set(Scope::Round, "x", json!(1)).unwrap();
        assert_eq!(state.get("x"), Some(json!(1)));
        state.sync().unwrap();
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["rounds"], json!({"1": {"x": 1}}));
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    /// A state past its setup, in round 1.
    fn started(dir: &Path) -> State {
        let mut state = State::fresh(dir).unwrap();
        state.finish_setup().unwrap();
        state
    }

    #[test]
    fn a_step_appends_its_changes_and_leaves_the_state_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        let before = read(dir.path(), STATE_FILE);
        state.set(Scope::Round, "pr.url", json!("u1")).unwrap();
        state.set(Scope::Global, "repo", json!({"a": 1})).unwrap();
        state.complete_step("work").unwrap();
        assert_eq!(read(dir.path(), STATE_FILE), before);
        let base = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(before.as_bytes()));
        assert_eq!(
            read(dir.path(), JOURNAL_FILE),
            format!(
                "{{\"op\":\"base\",\"sha256\":\"{base}\"}}\n\
                 {{\"op\":\"set\",\"round\":1,\"key\":\"pr.url\",\"value\":\"u1\"}}\n\
                 {{\"op\":\"set\",\"key\":\"repo\",\"value\":{{\"a\":1}}}}\n\
                 {{\"op\":\"step\",\"name\":\"work\"}}\n"
            )
        );
        let again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            again.doc, state.doc,
            "the journal replays to the same state"
        );
    }

    #[test]
    fn what_a_step_writes_does_not_grow_with_the_rounds_played() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        let mut written = Vec::new();
        for round in 1..=40 {
            state
                .set(Scope::Round, "big", json!("x".repeat(1000)))
                .unwrap();
            let before = std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len();
            state.set(Scope::Round, "n", json!(round % 10)).unwrap();
            state.complete_step("work").unwrap();
            let after = std::fs::metadata(dir.path().join(JOURNAL_FILE))
                .unwrap()
                .len();
            written.push(after - before);
            state.next_round().unwrap();
        }
        assert!(
            read(dir.path(), STATE_FILE).len() > 40_000,
            "the state grew"
        );
        // Rounds 1 to 9 write one digit less of the round number.
        let expected: Vec<u64> = (1..=40).map(|r| if r < 10 { 71 } else { 72 }).collect();
        assert_eq!(
            written, expected,
            "bytes written by the same step per round"
        );
        assert!(
            !dir.path().join(JOURNAL_FILE).exists(),
            "folded at each round's end"
        );
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_off_at_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state.complete_step("one").unwrap();
        let mut journal = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(JOURNAL_FILE))
            .unwrap();
        std::io::Write::write_all(&mut journal, b"{\"op\":\"step\",\"na").unwrap();
        let mut again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.last_completed_step(), Some("one"));
        again.complete_step("two").unwrap();
        let text = read(dir.path(), JOURNAL_FILE);
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                r#"{"op":"step","name":"one"}"#,
                r#"{"op":"step","name":"two"}"#
            ]
        );
        let last = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(last.last_completed_step(), Some("two"));
    }

    #[test]
    fn a_journal_left_by_a_kill_after_its_fold_is_not_replayed_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        // Replayed twice, these two would fail: `a` holds 5 when `a.b` comes again.
        state.set(Scope::Round, "a.b", json!(1)).unwrap();
        state.set(Scope::Round, "a", json!(5)).unwrap();
        let journal = read(dir.path(), JOURNAL_FILE);
        state.sync().unwrap();
        // Killed after the state file was renamed, before the journal went.
        std::fs::write(dir.path().join(JOURNAL_FILE), journal).unwrap();
        let mut again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.get("a"), Some(json!(5)));
        again.complete_step("next").unwrap();
        let again = State::load(dir.path()).unwrap().unwrap();
        assert_eq!(again.get("a"), Some(json!(5)));
        assert_eq!(again.last_completed_step(), Some("next"));
    }

    #[test]
    fn a_set_that_cannot_apply_is_refused_before_it_is_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state.set(Scope::Global, "a", json!(1)).unwrap();
        let journal = read(dir.path(), JOURNAL_FILE);
        let err = state.set(Scope::Global, "a.b", json!(2)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot set `a.b`: `a` already holds a non-object value"
        );
        assert_eq!(read(dir.path(), JOURNAL_FILE), journal);
    }

    #[test]
    fn a_bad_journal_line_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state.complete_step("one").unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let text = read(dir.path(), JOURNAL_FILE) + "{\"op\":\"frobnicate\"}\n";
        std::fs::write(&path, text).unwrap();
        let err = State::load(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: line 3: not a journal entry (run with --reset to start over)",
                path.display()
            )
        );
    }

    #[test]
    fn a_journal_line_that_cannot_apply_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state.set(Scope::Global, "a", json!("text")).unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let text =
            read(dir.path(), JOURNAL_FILE) + "{\"op\":\"set\",\"key\":\"a.b\",\"value\":1}\n";
        std::fs::write(&path, text).unwrap();
        let err = State::load(dir.path()).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "{}: line 3: cannot apply this entry to {} (run with --reset to start over): \
                 cannot set `a.b`: `a` already holds a non-object value",
                path.display(),
                dir.path().join(STATE_FILE).display()
            )
        );
    }

    #[test]
    fn held_workers_are_journaled_kept_across_rounds_and_folded() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state
            .hold_worker("worker3", Some(HeldLife::Stopped))
            .unwrap();
        state
            .hold_worker("worker2", Some(HeldLife::Paused))
            .unwrap();
        state.hold_worker("worker2", None).unwrap();
        state
            .hold_worker("worker1", Some(HeldLife::Paused))
            .unwrap();
        let journal: Vec<String> = read(dir.path(), JOURNAL_FILE)
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect();
        assert_eq!(
            journal,
            [
                r#"{"op":"life","worker":"worker3","life":"stopped"}"#,
                r#"{"op":"life","worker":"worker2","life":"paused"}"#,
                r#"{"op":"life","worker":"worker2","life":null}"#,
                r#"{"op":"life","worker":"worker1","life":"paused"}"#,
            ]
        );
        let held = |state: &State| state.held_workers().clone().into_iter().collect::<Vec<_>>();
        let expected = vec![
            ("worker1".to_owned(), HeldLife::Paused),
            ("worker3".to_owned(), HeldLife::Stopped),
        ];
        assert_eq!(held(&State::load(dir.path()).unwrap().unwrap()), expected);
        state.next_round().unwrap();
        let saved: Value = serde_json::from_str(&read(dir.path(), STATE_FILE)).unwrap();
        assert_eq!(
            saved["held_workers"],
            json!({"worker1": "paused", "worker3": "stopped"})
        );
        assert_eq!(held(&State::load(dir.path()).unwrap().unwrap()), expected);
        let fresh = State::fresh(dir.path()).unwrap();
        assert!(fresh.held_workers().is_empty());
    }

    #[test]
    fn a_fresh_state_keeps_the_previous_journal_beside_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = started(dir.path());
        state.complete_step("one").unwrap();
        let journal = read(dir.path(), JOURNAL_FILE);
        State::fresh(dir.path()).unwrap();
        assert_eq!(read(dir.path(), PREV_JOURNAL_FILE), journal);
        assert!(!dir.path().join(JOURNAL_FILE).exists());
        assert_eq!(
            State::load(dir.path())
                .unwrap()
                .unwrap()
                .last_completed_step(),
            None
        );
    }
}

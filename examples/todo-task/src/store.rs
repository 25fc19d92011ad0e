//! This worker's own state: the work it did per round, kept in a JSON file
//! (`DATABASE_PATH`) so a restarted worker still knows what it submitted.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The work a worker did in one round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Work {
    /// The claimed todo (Mongo `_id`, hex).
    pub(crate) todo_id: String,
    /// The work result: see [`crate::todos::work_result`].
    pub(crate) result: String,
    /// The staking key the work was done for.
    pub(crate) staking_key: String,
    /// How often the round was acknowledged (`POST /receipt/{round}`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) receipts: u32,
    /// The receipts counted, each by its request's id (a digest of its
    /// signature): a retried receipt carries the same signature.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) receipt_ids: Vec<String>,
    /// The LLM's one-line summary of the todo, when the worker has an LLM
    /// (`LLM_URL`); absent from files written before summaries existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<String>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Work per round, written to disk on every change.
///
/// File format: `{"1": {"todoId": …, "result": …, "stakingKey": …}, …}`.
#[derive(Debug)]
pub(crate) struct WorkStore {
    path: PathBuf,
    rounds: BTreeMap<u32, Work>,
}

impl WorkStore {
    /// Loads the file at `path`; a missing file is an empty store.
    pub(crate) fn open(path: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let path = path.into();
        let rounds = match std::fs::read(&path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => BTreeMap::new(),
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{}: expected a JSON object of rounds ({{\"1\": {{\"todoId\", \"result\", \"stakingKey\"}}}})",
                    path.display()
                )
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(err) => return Err(err).with_context(|| format!("{}: cannot read", path.display())),
        };
        Ok(Self { path, rounds })
    }

    /// Reads the file again: what it holds now is the store. A worker kept
    /// running between runs (`--watch`) sees the file the suite restored
    /// from a snapshot, not what it remembered.
    pub(crate) fn reload(&mut self) -> anyhow::Result<()> {
        *self = Self::open(self.path.clone())?;
        Ok(())
    }

    /// The work recorded for `round`, if any.
    pub(crate) fn get(&self, round: u32) -> Option<&Work> {
        self.rounds.get(&round)
    }

    /// Whether the receipt `id` of `round` was counted.
    pub(crate) fn has_receipt(&self, round: u32, id: &str) -> bool {
        self.rounds
            .get(&round)
            .is_some_and(|work| work.receipt_ids.iter().any(|counted| counted == id))
    }

    /// Counts one more receipt of `round`'s work, `id`, and saves the file;
    /// the count, or `None` when no work is recorded for the round.
    pub(crate) fn add_receipt(&mut self, round: u32, id: &str) -> anyhow::Result<Option<u32>> {
        let Some(work) = self.rounds.get(&round) else {
            return Ok(None);
        };
        let mut receipt_ids = work.receipt_ids.clone();
        receipt_ids.push(id.to_owned());
        let work = Work {
            receipts: work.receipts + 1,
            receipt_ids,
            ..work.clone()
        };
        let receipts = work.receipts;
        self.record(round, work)?;
        Ok(Some(receipts))
    }

    /// Records the work of `round` and saves the file. On error nothing changes.
    pub(crate) fn record(&mut self, round: u32, work: Work) -> anyhow::Result<()> {
        let mut rounds = self.rounds.clone();
        rounds.insert(round, work);
        write_atomically(&self.path, &serde_json::to_vec_pretty(&rounds)?)?;
        self.rounds = rounds;
        Ok(())
    }
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over
/// `path`: readers see the old or the new file, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    let file_name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err).with_context(|| format!("{}: cannot write", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("todo-task-store-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn work(todo: &str) -> Work {
        Work {
            todo_id: todo.to_owned(),
            result: "ab".repeat(32),
            staking_key: "stakingKey1".to_owned(),
            receipts: 0,
            receipt_ids: Vec::new(),
            summary: None,
        }
    }

    #[test]
    fn receipts_are_counted_in_the_file_and_need_the_rounds_work() {
        let dir = TempDir::new("receipts");
        let path = dir.0.join("w.db");
        let mut store = WorkStore::open(&path).unwrap();
        assert_eq!(store.add_receipt(1, "a").unwrap(), None);
        store.record(1, work("t1")).unwrap();
        assert!(!store.has_receipt(1, "a"));
        assert_eq!(store.add_receipt(1, "a").unwrap(), Some(1));
        assert_eq!(store.add_receipt(1, "b").unwrap(), Some(2));
        let reopened = WorkStore::open(&path).unwrap();
        assert_eq!(reopened.get(1).unwrap().receipts, 2);
        assert!(reopened.has_receipt(1, "a") && reopened.has_receipt(1, "b"));
        assert!(!reopened.has_receipt(1, "c") && !reopened.has_receipt(2, "a"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"receipts\": 2"), "{text}");
    }

    #[test]
    fn files_without_summaries_still_read_and_summaries_are_kept() {
        let dir = TempDir::new("summary");
        let path = dir.0.join("w.db");
        std::fs::write(
            &path,
            r#"{"1": {"todoId": "t1", "result": "r", "stakingKey": "k"}}"#,
        )
        .unwrap();
        let mut store = WorkStore::open(&path).unwrap();
        assert_eq!(store.get(1).unwrap().summary, None);
        let summarised = Work {
            summary: Some("Summary: t1".to_owned()),
            ..work("t2")
        };
        store.record(2, summarised.clone()).unwrap();
        assert_eq!(WorkStore::open(&path).unwrap().get(2), Some(&summarised));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("summary").count(), 1, "{text}");
    }

    #[test]
    fn missing_file_is_an_empty_store() {
        let dir = TempDir::new("missing");
        let store = WorkStore::open(dir.0.join("worker.db")).unwrap();
        assert_eq!(store.get(1), None);
    }

    #[test]
    fn recorded_work_survives_a_reopen() {
        let dir = TempDir::new("reopen");
        let path = dir.0.join("nested/worker.db");
        let mut store = WorkStore::open(&path).unwrap();
        store.record(1, work("a")).unwrap();
        store.record(2, work("b")).unwrap();

        let reopened = WorkStore::open(&path).unwrap();
        assert_eq!(reopened.get(1), Some(&work("a")));
        assert_eq!(reopened.get(2), Some(&work("b")));
        assert_eq!(reopened.get(3), None);

        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["2"]["todoId"], "b", "file format: {text}");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name != "worker.db")
            .collect();
        assert!(
            leftovers.is_empty(),
            "temporary files left behind: {leftovers:?}"
        );
    }

    #[test]
    fn corrupt_file_is_an_error_naming_it() {
        let dir = TempDir::new("corrupt");
        let path = dir.0.join("worker.db");
        std::fs::write(&path, "{not json").unwrap();
        let err = WorkStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("worker.db"), "{err}");
    }

    #[test]
    fn failed_write_leaves_the_store_unchanged() {
        let dir = TempDir::new("failed");
        // A directory where the file should be: the rename fails.
        let path = dir.0.join("worker.db");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), "").unwrap();
        let mut store = WorkStore {
            path: path.clone(),
            rounds: BTreeMap::new(),
        };
        let err = store.record(1, work("a")).unwrap_err().to_string();
        assert!(err.contains("cannot write"), "{err}");
        assert_eq!(store.get(1), None);
    }
}

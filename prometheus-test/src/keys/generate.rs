//! Keypairs for workers whose keypair variables are not configured.
//!
//! Each is derived from a label naming the task, the worker and the role, so
//! a suite gets the same keys on every run, and written once as a keypair
//! file that later runs (and the worker processes) read back.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};

use crate::atomic_file::{FileSync, write_atomic};

use super::{KeyError, KeyErrorKind, KeyRole, Keypair, load_keypair};

/// The keypair for `worker`'s `role` key in task `task_id`, kept in
/// `dir/{worker}_{role}.json`.
///
/// An existing file is loaded and returned as it is. Otherwise the seed is
/// SHA-256 of `prometheus-test/{task_id}/{worker}/{role}` and the file is
/// written atomically (a temporary file renamed into place), readable by its
/// owner only on Unix. `dir` is created when missing.
pub(crate) fn generated_keypair(
    dir: &Path,
    task_id: &str,
    worker: &str,
    role: KeyRole,
) -> Result<(Keypair, PathBuf), KeyError> {
    if !is_usable_file_stem(worker) {
        return Err(KeyError::new(
            dir,
            KeyErrorKind::UnusableWorkerName {
                worker: worker.to_owned(),
            },
        ));
    }
    let file_name = format!("{worker}_{role}.json");
    let path = dir.join(&file_name);
    if path.exists() {
        return load_keypair(&path).map(|keypair| (keypair, path));
    }
    let keypair = Keypair::from_seed(derived_seed(task_id, worker, role));
    write_atomically(dir, &file_name, keypair.to_keypair_file_json().as_bytes())
        .map_err(|err| KeyError::new(&path, KeyErrorKind::Unwritable(err)))?;
    Ok((keypair, path))
}

/// SHA-256 of `prometheus-test/{task_id}/{worker}/{role}`.
fn derived_seed(task_id: &str, worker: &str, role: KeyRole) -> [u8; 32] {
    Sha256::digest(format!("prometheus-test/{task_id}/{worker}/{role}")).into()
}

fn is_usable_file_stem(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Writes `contents` to `dir/file_name` (readable by its owner only, synced)
/// through a temporary file in the same directory, so a reader never sees a
/// half-written key.
fn write_atomically(dir: &Path, file_name: &str, contents: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fs::create_dir_all(dir)?;
    let temp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    write_atomic(
        &dir.join(file_name),
        &temp,
        contents,
        FileSync::All,
        Some(0o600),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_deterministic_per_task_worker_and_role() {
        let dir = tempfile::tempdir().unwrap();
        let (staking, path) =
            generated_keypair(dir.path(), "task-1", "worker1", KeyRole::Staking).unwrap();
        assert_eq!(path, dir.path().join("worker1_staking.json"));
        let seed = derived_seed("task-1", "worker1", KeyRole::Staking);
        assert_eq!(staking.public_key(), Keypair::from_seed(seed).public_key());

        let other_dir = tempfile::tempdir().unwrap();
        let (again, _) =
            generated_keypair(other_dir.path(), "task-1", "worker1", KeyRole::Staking).unwrap();
        assert_eq!(again.public_key(), staking.public_key());

        let (main, _) = generated_keypair(dir.path(), "task-1", "worker1", KeyRole::Main).unwrap();
        let (other_worker, _) =
            generated_keypair(dir.path(), "task-1", "worker2", KeyRole::Staking).unwrap();
        let (other_task, _) =
            generated_keypair(other_dir.path(), "task-2", "worker1", KeyRole::Main).unwrap();
        let keys = [
            staking.public_key(),
            main.public_key(),
            other_worker.public_key(),
            other_task.public_key(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_label_is_sha256_of_the_documented_text() {
        // SHA-256("prometheus-test/task-1/worker1/staking"), computed independently.
        let expected = Sha256::digest(b"prometheus-test/task-1/worker1/staking");
        assert_eq!(
            derived_seed("task-1", "worker1", KeyRole::Staking)[..],
            expected[..]
        );
    }

    #[test]
    fn written_file_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("keys/generated");
        let (keypair, path) = generated_keypair(&nested, "t", "w", KeyRole::Main).unwrap();
        assert_eq!(
            load_keypair(&path).unwrap().public_key(),
            keypair.public_key()
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            keypair.to_keypair_file_json()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = fs::read_dir(&nested)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers,
            ["w_main.json"],
            "no temporary file is left behind"
        );
    }

    #[test]
    fn an_existing_file_is_returned_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker1_staking.json");
        let configured = Keypair::from_seed([42; 32]);
        fs::write(&path, configured.to_keypair_file_json()).unwrap();
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        let (loaded, loaded_path) =
            generated_keypair(dir.path(), "task-1", "worker1", KeyRole::Staking).unwrap();
        assert_eq!(loaded_path, path);
        assert_eq!(loaded.public_key(), configured.public_key());
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn a_corrupt_existing_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker1_main.json");
        fs::write(&path, "[1, 2").unwrap();
        let err = generated_keypair(dir.path(), "task-1", "worker1", KeyRole::Main).unwrap_err();
        assert!(matches!(err.kind(), KeyErrorKind::NotJson { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "[1, 2");
    }

    #[test]
    fn worker_names_that_would_escape_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for worker in ["", "../evil", "a/b", ".hidden", "a\\b", "ünïcode"] {
            let err = generated_keypair(dir.path(), "t", worker, KeyRole::Main).unwrap_err();
            assert!(
                matches!(err.kind(), KeyErrorKind::UnusableWorkerName { .. }),
                "{worker}: {err}"
            );
            assert!(err.to_string().contains("cannot be used in a file name"));
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_unwritable_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        fs::write(&blocker, "").unwrap();
        let err = generated_keypair(&blocker, "t", "w", KeyRole::Main).unwrap_err();
        assert!(matches!(err.kind(), KeyErrorKind::Unwritable(_)), "{err}");
        assert!(err.to_string().starts_with(&format!(
            "keypair file {}",
            blocker.join("w_main.json").display()
        )));
    }
}

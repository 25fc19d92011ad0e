//! The run lock: one run at a time per suite. A run holds `data_dir/.lock`
//! (a [PID-stamped lock](crate::pid_lock)) from before it reads the saved
//! state until it exits; a second run is told the PID that holds it.

use std::path::Path;

use anyhow::Context as _;

use crate::pid_lock::{Held, LockFile, stamp};

/// The lock file's name inside `data_dir`.
pub(super) const LOCK_FILE: &str = ".lock";

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(super) struct RunLock {
    _held: Held,
}

impl RunLock {
    /// Takes the lock of `data_dir` (created if missing), or fails at once
    /// naming the PID of the run that holds it.
    pub(super) fn acquire(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("{}: cannot create the data directory", data_dir.display()))?;
        let path = data_dir.join(LOCK_FILE);
        let file = LockFile::open(&path)
            .with_context(|| format!("{}: cannot open the run lock", path.display()))?;
        match file.try_lock() {
            Ok(Ok(mut held)) => {
                held.stamp_pid()
                    .with_context(|| format!("{}: cannot write the run lock", path.display()))?;
                Ok(Self { _held: held })
            }
            Ok(Err(_busy)) => Err(held_by(&path, &stamp(&path))),
            Err(errno) => Err(anyhow::Error::new(errno))
                .with_context(|| format!("{}: cannot lock", path.display())),
        }
    }
}

fn held_by(path: &Path, stamp: &str) -> anyhow::Error {
    let holder = match stamp.trim() {
        "" => "a process that has not written its PID yet".to_owned(),
        pid => format!("PID {pid}"),
    };
    anyhow::anyhow!(
        "another run of this suite is going ({holder}, holding {}): wait for it to finish or stop it; \
         two runs would share one state file, database and ports",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_holder_and_a_released_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let first = RunLock::acquire(&data).unwrap();
        let err = format!("{:#}", RunLock::acquire(&data).unwrap_err());
        assert_eq!(
            err,
            format!(
                "another run of this suite is going (PID {}, holding {}): wait for it to finish \
                 or stop it; two runs would share one state file, database and ports",
                std::process::id(),
                data.join(LOCK_FILE).display()
            )
        );
        drop(first);
        let again = RunLock::acquire(&data).unwrap();
        drop(again);
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "999999999\n").unwrap();
        let _held = RunLock::acquire(dir.path()).unwrap();
        let pid = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
    }
}

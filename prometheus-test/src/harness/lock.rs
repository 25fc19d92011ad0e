//! The run lock: one run at a time per suite. A run holds an exclusive
//! `flock` on `data_dir/.lock` from before it reads the saved state until it
//! exits; the kernel releases it when the process ends, however it ends (a
//! SIGKILL leaves no stale lock). The file holds the holder's PID, for the
//! message a second run gets.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use anyhow::Context as _;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The lock file's name inside `data_dir`.
pub(super) const LOCK_FILE: &str = ".lock";

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub(super) struct RunLock {
    _held: Flock<File>,
}

impl RunLock {
    /// Takes the lock of `data_dir` (created if missing), or fails at once
    /// naming the PID of the run that holds it.
    pub(super) fn acquire(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("{}: cannot create the data directory", data_dir.display()))?;
        let path = data_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("{}: cannot open the run lock", path.display()))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut held) => {
                write_pid(&mut held)
                    .with_context(|| format!("{}: cannot write the run lock", path.display()))?;
                Ok(Self { _held: held })
            }
            Err((mut file, Errno::EWOULDBLOCK)) => Err(held_by(&path, &mut file)),
            Err((_, errno)) => Err(anyhow::Error::new(errno))
                .with_context(|| format!("{}: cannot lock", path.display())),
        }
    }
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())
}

fn held_by(path: &Path, file: &mut File) -> anyhow::Error {
    let mut text = String::new();
    let holder = match file.read_to_string(&mut text) {
        Ok(_) if !text.trim().is_empty() => format!("PID {}", text.trim()),
        _ => "a process that has not written its PID yet".to_owned(),
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
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("another run of this suite is going"), "{err}");
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

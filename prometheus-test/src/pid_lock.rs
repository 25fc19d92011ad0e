//! Lock files: an exclusive `flock` on a file that the holder stamps with
//! its PID (or a record naming who holds it), so that whoever finds it
//! taken can say by whom. The kernel releases the lock when the holder's
//! process ends, however it ends: a SIGKILL leaves no stale lock, only a
//! stale stamp that the next holder replaces.

use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// A lock file, opened (created when missing) but not locked.
#[derive(Debug)]
pub(crate) struct LockFile(File);

/// A lock file this process holds; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct Held(Flock<File>);

impl LockFile {
    /// Opens the lock file at `path`, creating it (not its folder) when missing.
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map(Self)
    }

    /// Takes the lock at once; `Ok(Err(self))` when another holds it (its
    /// [`stamp`] names the holder; [`wait`](Self::wait) waits for it).
    pub(crate) fn try_lock(self) -> Result<Result<Held, Self>, Errno> {
        match Flock::lock(self.0, FlockArg::LockExclusiveNonblock) {
            Ok(held) => Ok(Ok(Held(held))),
            Err((file, Errno::EWOULDBLOCK)) => Ok(Err(Self(file))),
            Err((_, errno)) => Err(errno),
        }
    }

    /// Takes the lock, waiting for its holder to release it.
    pub(crate) fn wait(self) -> Result<Held, Errno> {
        Flock::lock(self.0, FlockArg::LockExclusive)
            .map(Held)
            .map_err(|(_, errno)| errno)
    }
}

impl Held {
    /// Replaces the stamp with this process's PID and a newline.
    pub(crate) fn stamp_pid(&mut self) -> std::io::Result<()> {
        self.stamp_with(&format!("{}\n", std::process::id()))
    }

    /// Replaces the stamp with `record`.
    pub(crate) fn stamp_with(&mut self, record: &str) -> std::io::Result<()> {
        self.0.set_len(0)?;
        self.0.seek(SeekFrom::Start(0))?;
        self.0.write_all(record.as_bytes())
    }
}

/// What the holder of the lock at `path` (or its last holder) stamped; empty
/// when it has not stamped yet.
pub(crate) fn stamp(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{LockFile, stamp};

    #[test]
    fn a_held_lock_is_busy_for_another_opening_which_reads_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        std::fs::write(&path, "a stale stamp longer than a PID\n").unwrap();
        let mut held = LockFile::open(&path).unwrap().try_lock().unwrap().unwrap();
        held.stamp_pid().unwrap();
        let busy = LockFile::open(&path).unwrap().try_lock().unwrap();
        let busy = busy.expect_err("another opening finds the lock taken");
        assert_eq!(stamp(&path), format!("{}\n", std::process::id()));
        drop(held);
        let mut again = busy.try_lock().unwrap().unwrap();
        again.stamp_with("run1\n42\n").unwrap();
        assert_eq!(stamp(&path), "run1\n42\n");
    }

    #[test]
    fn waiting_takes_the_lock_once_its_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let held = LockFile::open(&path).unwrap().try_lock().unwrap().unwrap();
        let waiting = LockFile::open(&path).unwrap();
        let started = Instant::now();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        let mut taken = waiting.wait().unwrap();
        releaser.join().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        taken.stamp_pid().unwrap();
        let busy = LockFile::open(&path).unwrap().try_lock().unwrap();
        assert!(busy.is_err(), "the waiter holds the lock");
    }
}

//! Files replaced whole: written to a temporary file beside them, then
//! renamed over them, so that a reader (or the next run after a kill) sees
//! the old file or the new one, never half of one.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// What [`write_atomic`] forces to the disk before the rename: with `Data`
/// or `All`, a system crash leaves the old file or the whole new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileSync {
    Nothing,
    /// `fdatasync`: the bytes and what is needed to read them back.
    Data,
    /// `fsync`: the bytes and all the file's metadata.
    All,
}

/// Writes `bytes` to `temp` (a name the caller chooses in `path`'s folder,
/// so that its own cleanup knows the leftovers of a kill) with the
/// permission bits `mode` when given (whatever the umask or a leftover
/// temporary had), syncs it as `sync` says, then renames it to `path`. On an
/// error the temporary is removed.
pub(crate) fn write_atomic(
    path: &Path,
    temp: &Path,
    bytes: &[u8],
    sync: FileSync,
    mode: Option<u32>,
) -> std::io::Result<()> {
    let written = write_file(temp, bytes, sync, mode).and_then(|()| std::fs::rename(temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    written
}

fn write_file(temp: &Path, bytes: &[u8], sync: FileSync, mode: Option<u32>) -> std::io::Result<()> {
    let mut file = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode.unwrap_or(0o666))
        .open(temp)?;
    if let Some(mode) = mode {
        // `mode` applies only when the file is created.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    file.write_all(bytes)?;
    match sync {
        FileSync::Nothing => Ok(()),
        FileSync::Data => file.sync_data(),
        FileSync::All => file.sync_all(),
    }
}

/// Renames `from` to `to`, then syncs `to`'s folder so that the new name
/// survives a system crash (best effort: a folder that cannot be opened or
/// synced is not an error, the rename is done).
pub(crate) fn rename_synced(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::rename(from, to)?;
    if let Some(folder) = to.parent() {
        let _ = std::fs::File::open(folder).and_then(|folder| folder.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::{FileSync, write_atomic};

    #[test]
    fn the_new_text_replaces_the_old_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let (path, temp) = (dir.path().join("f.json"), dir.path().join(".f.json.tmp"));
        std::fs::write(&path, "old").unwrap();
        super::write_atomic(&path, &temp, b"new", super::FileSync::Nothing, None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(!temp.exists());
    }

    #[test]
    fn a_mode_is_the_files_even_over_a_leftover_temporary_and_synced_writes_land() {
        let dir = tempfile::tempdir().unwrap();
        let (path, temp) = (
            dir.path().join("key.json"),
            dir.path().join(".key.json.tmp"),
        );
        std::fs::write(&temp, "a leftover of a kill, longer than the new text").unwrap();
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, &temp, b"[1,2]", FileSync::All, Some(0o600)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(
            (std::fs::read_to_string(&path).unwrap(), mode, names),
            ("[1,2]".to_owned(), 0o600, vec!["key.json".into()])
        );
    }

    #[test]
    fn a_failed_rename_keeps_the_target_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let (path, temp) = (dir.path().join("taken"), dir.path().join(".taken.tmp"));
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), "kept").unwrap();
        let err = write_atomic(&path, &temp, b"new", FileSync::Data, None).unwrap_err();
        assert_eq!(
            (
                err.kind(),
                temp.exists(),
                std::fs::read_to_string(path.join("inside")).unwrap()
            ),
            (std::io::ErrorKind::IsADirectory, false, "kept".to_owned())
        );
    }
}

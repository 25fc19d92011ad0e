//! Takes the mongod binary out of a gzip-compressed tar archive.

use std::fs::File;
use std::io::{BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path};

use anyhow::{Context as _, bail};

/// Writes the archive entry at `wanted` (or, without it, the first regular file
/// named `mongod`) of the `.tgz` at `archive` to `dest`, executable and synced
/// to disk. `shown` names the archive's origin in errors.
pub(crate) fn extract_mongod(
    archive: &Path,
    wanted: Option<&str>,
    dest: &Path,
    shown: &str,
) -> anyhow::Result<()> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let not_tgz = || format!("the archive from {shown} is not a readable .tar.gz");
    for entry in tar.entries().with_context(not_tgz)? {
        let mut entry = entry.with_context(not_tgz)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().with_context(not_tgz)?.into_owned();
        let matches = match wanted {
            Some(wanted) => normal(&path) == normal(Path::new(wanted)),
            None => path.file_name().is_some_and(|name| name == "mongod"),
        };
        if !matches {
            continue;
        }
        let mut out =
            File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
        std::io::copy(&mut entry, &mut out)
            .with_context(|| format!("cannot unpack {} from {shown}", path.display()))?;
        out.flush()?;
        out.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        out.sync_all()
            .with_context(|| format!("cannot sync {}", dest.display()))?;
        return Ok(());
    }
    match wanted {
        Some(wanted) => bail!(
            "the archive from {shown} holds no file {wanted}; set \
             {var} to the path of mongod inside it",
            var = super::source::ARCHIVE_PATH_VAR
        ),
        None => bail!(
            "the archive from {shown} holds no file named mongod; set {var} to the path \
             of mongod inside it",
            var = super::source::ARCHIVE_PATH_VAR
        ),
    }
}

/// `path` without `.` components, for comparing entry names.
fn normal(path: &Path) -> Vec<Component<'_>> {
    path.components()
        .filter(|component| !matches!(component, Component::CurDir))
        .collect()
}

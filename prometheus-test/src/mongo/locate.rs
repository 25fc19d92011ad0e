//! Finding a `mongod` binary: `$PROMETHEUS_TEST_MONGOD`, else `mongod` on `PATH`.
//! When neither gives one, [`super::provision`] downloads one on first use.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use crate::config::EnvMap;

/// `$PROMETHEUS_TEST_MONGOD`, else the first executable `mongod` on `PATH`.
pub(crate) fn find_mongod(env: &EnvMap) -> anyhow::Result<Option<PathBuf>> {
    find_in(env.get("PROMETHEUS_TEST_MONGOD"), env.get("PATH"))
}

/// [`find_mongod`] on the values of `PROMETHEUS_TEST_MONGOD` and `PATH`.
fn find_in(mongod_var: Option<&str>, path_var: Option<&str>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = mongod_var {
        let path = PathBuf::from(path);
        if !is_executable(&path) {
            bail!(
                "PROMETHEUS_TEST_MONGOD={} is not an executable file; point it at a mongod \
                 binary, or unset it to use mongod on PATH or one downloaded on first use",
                path.display()
            );
        }
        return Ok(Some(path));
    }
    Ok(path_var.and_then(|path| {
        std::env::split_paths(path)
            .map(|dir| dir.join("mongod"))
            .find(|candidate| is_executable(candidate))
    }))
}

/// The mongod a test or benchmark starts itself: `$PROMETHEUS_TEST_MONGOD`, else
/// `mongod` on `PATH`, else the one provisioned into the user's cache (downloaded
/// on first use), all read from the process environment. Usable inside or outside
/// an async runtime.
pub fn find_or_provision_mongod() -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if let Some(found) = find_in(
        var("PROMETHEUS_TEST_MONGOD").as_deref(),
        var("PATH").as_deref(),
    )? {
        return Ok(found);
    }
    // A thread of its own, so that a caller already inside a runtime may block on it.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(super::provision::provision(&var))
    })
    .join()
    .map_err(|_| anyhow!("provisioning mongod panicked"))?
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

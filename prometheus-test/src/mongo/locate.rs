//! Finding a `mongod` binary: `$PROMETHEUS_TEST_MONGOD`, else `mongod` on `PATH`.
//! When neither gives one, [`super::provision`] downloads one on first use.

use std::ffi::OsString;
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

/// The mongod a benchmark starts itself: `$PROMETHEUS_TEST_MONGOD`, else
/// `mongod` on `PATH`, else the one provisioned into the user's cache, all read
/// from `process`, the environment the benchmark captured (`std::env::vars_os()`).
pub fn find_or_provision_mongod(
    process: impl IntoIterator<Item = (OsString, OsString)>,
) -> anyhow::Result<PathBuf> {
    find_or_provision(&EnvMap::of_process(process))
}

/// The mongod a test or benchmark starts itself: `$PROMETHEUS_TEST_MONGOD`, else
/// `mongod` on `PATH`, else the one provisioned into the user's cache (downloaded
/// on first use), all read from `env`. Usable inside or outside an async runtime.
pub(crate) fn find_or_provision(env: &EnvMap) -> anyhow::Result<PathBuf> {
    if let Some(found) = find_mongod(env)? {
        return Ok(found);
    }
    let env = env.clone();
    // A thread of its own, so that a caller already inside a runtime may block on it.
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(super::provision::provision(&|name| {
                env.get(name).map(str::to_owned)
            }))
    })
    .join()
    .map_err(|_| anyhow!("provisioning mongod panicked"))?
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::Path;

    use super::find_or_provision;
    use crate::config::EnvMap;

    fn executable(path: &Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_mongod_the_map_names_wins_over_the_process_environment() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("named-mongod");
        executable(&named);
        let env = EnvMap::from_pairs([("PROMETHEUS_TEST_MONGOD", named.to_str().unwrap())]);
        assert_eq!(find_or_provision(&env).unwrap(), named);
    }

    #[test]
    fn mongod_is_looked_for_on_the_path_of_the_map() {
        let dir = tempfile::tempdir().unwrap();
        executable(&dir.path().join("mongod"));
        let env = EnvMap::from_pairs([("PATH", dir.path().to_str().unwrap())]);
        assert_eq!(find_or_provision(&env).unwrap(), dir.path().join("mongod"));
    }

    #[test]
    fn a_named_mongod_that_cannot_run_is_an_error_naming_the_variable() {
        let env = EnvMap::from_pairs([("PROMETHEUS_TEST_MONGOD", "/nonexistent/mongod")]);
        let error = find_or_provision(&env).unwrap_err().to_string();
        assert!(
            error.starts_with("PROMETHEUS_TEST_MONGOD=/nonexistent/mongod is not"),
            "{error}"
        );
    }
}

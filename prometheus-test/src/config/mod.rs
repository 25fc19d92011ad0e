//! Configuration: config.yaml (with run-time overrides), workers.json and
//! the `.env` files.

mod build;
mod docker_host;
mod dotenv;
mod env;
mod faults;
mod files;
mod located;
mod mongo;
mod names;
mod overrides;
mod poll;
mod problems;
mod python;
mod reader;
mod recording;
mod seconds;
mod services;
mod snapshots;
mod suite;
mod text;
mod typed;
mod typos;
mod workers;

pub(crate) use build::BuildSpec;
#[cfg(test)]
pub(crate) use build::built_tag;
pub(crate) use docker_host::{docker_host_in, remote_host};
pub(crate) use env::EnvMap;
#[allow(
    unused_imports,
    reason = "the harness calls it once workers.json is read"
)]
pub(crate) use faults::check_fault_names;
pub(crate) use files::ConfigFiles;
pub(crate) use mongo::{CollectionSettings, MongoSettings};
pub(crate) use overrides::Overrides;
pub(crate) use poll::PollSettings;
pub(crate) use problems::Problems;
pub(crate) use recording::{PROXY_DIR, Pace, RecordMode, RecordingSettings};
pub(crate) use services::ServiceSpec;
pub(crate) use suite::Config;
#[cfg(test)]
pub(crate) use workers::load_workers;
pub(crate) use workers::{EnvSource, KeypairVars, Launch, WorkerSpec, suite_label};

/// How often each configuration file was read in this test process, so
/// tests can show that a run reads each of them once.
#[cfg(test)]
pub(crate) mod reads {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static COUNTS: Mutex<BTreeMap<PathBuf, usize>> = Mutex::new(BTreeMap::new());

    /// Counts one read of `path`.
    pub(crate) fn count(path: &Path) {
        *COUNTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(path.to_owned())
            .or_default() += 1;
    }

    /// How often `path` was read.
    pub(crate) fn of(path: &Path) -> usize {
        COUNTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(path)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// The `.rs` files of module `name` of the crate (`src/name.rs` and
    /// everything under `src/name/`).
    fn files_of(name: &str) -> Vec<PathBuf> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join(format!("{name}.rs"))];
        let mut dirs = vec![src.join(name)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    files.push(path);
                }
            }
        }
        files.retain(|file| file.is_file());
        files
    }

    /// The top-level modules the code (not the comments) of module `name`
    /// names through `crate::`.
    fn modules_used_by(name: &str) -> BTreeSet<String> {
        // Spelt in two halves so that this line does not count itself.
        let needle = ["crate", "::"].concat();
        let mut used = BTreeSet::new();
        for file in files_of(name) {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or_default();
                for (at, _) in code.match_indices(&needle) {
                    let rest = &code[at + needle.len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if module != name {
                        used.insert(module);
                    }
                }
            }
        }
        used
    }

    /// Every other module reads the configuration, so a module `config`
    /// uses must not use `config` back: the module graph would have a cycle
    /// (as `config` and `poll` once had).
    #[test]
    fn no_module_that_config_uses_uses_config() {
        let used = modules_used_by("config");
        assert!(
            modules_used_by("runner").contains("config"),
            "the scan finds a module's uses"
        );
        let cycles: Vec<&String> = used
            .iter()
            .filter(|module| modules_used_by(module).contains("config"))
            .collect();
        assert_eq!(cycles, Vec::<&String>::new(), "config uses {used:?}");
    }
}

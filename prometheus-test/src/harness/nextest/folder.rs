//! The nextest files of one suite, in `data_dir/.nextest/`.

use std::path::{Path, PathBuf};

use super::super::cli::RunControl;

/// The folder inside `data_dir` that holds the nextest files.
const FOLDER: &str = ".nextest";

/// How many runs' results and logs the folder keeps (the newest).
const RUNS_KEPT: usize = 5;

/// The nextest files of one suite.
#[derive(Debug, Clone)]
pub(super) struct Folder(PathBuf);

impl Folder {
    pub(super) fn in_data_dir(data_dir: &Path) -> Self {
        Self(data_dir.join(FOLDER))
    }

    /// The results of run `run`.
    pub(super) fn results(&self, run: &str) -> PathBuf {
        self.0.join(format!("{run}.json"))
    }

    /// The coordinator's output in run `run`.
    pub(super) fn log(&self, run: &str) -> PathBuf {
        self.0.join(format!("{run}.log"))
    }

    pub(super) fn start_lock(&self) -> PathBuf {
        self.0.join("start.lock")
    }

    pub(super) fn coordinator_lock(&self) -> PathBuf {
        self.0.join("coordinator.lock")
    }

    pub(super) fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.0)
    }

    /// Removes the results and logs of all but the newest [`RUNS_KEPT`]
    /// runs (by the time their results were last written), `run` counted.
    pub(super) fn remove_old_runs(&self, run: &str) {
        let Ok(entries) = std::fs::read_dir(&self.0) else {
            return;
        };
        let mut runs: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry
                    .file_name()
                    .to_str()?
                    .strip_suffix(".json")?
                    .to_owned();
                let modified = entry.metadata().ok()?.modified().ok()?;
                (name != run).then_some((modified, name))
            })
            .collect();
        runs.sort_unstable_by(|a, b| b.cmp(a));
        for (_, old) in runs.iter().skip(RUNS_KEPT - 1) {
            let _ = std::fs::remove_file(self.results(old));
            let _ = std::fs::remove_file(self.log(old));
        }
    }
}

/// The suite's `data_dir`, from config.yaml with the run's overrides.
pub(super) fn data_dir(control: &RunControl) -> anyhow::Result<PathBuf> {
    if let Err(problems) = &control.overrides {
        anyhow::bail!("{problems}");
    }
    Ok(control.config.config()?.data_dir.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_runs_files_are_removed_and_the_newest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::in_data_dir(dir.path());
        folder.create().unwrap();
        let base = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for i in 0..7u64 {
            for path in [
                folder.results(&format!("run{i}")),
                folder.log(&format!("run{i}")),
            ] {
                let file = std::fs::File::create(&path).unwrap();
                file.set_modified(base + std::time::Duration::from_secs(i * 60))
                    .unwrap();
            }
        }
        std::fs::write(folder.start_lock(), "run6\n1\n").unwrap();
        folder.remove_old_runs("run0");
        let mut left: Vec<String> = std::fs::read_dir(&folder.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "run0.json",
                "run0.log",
                "run3.json",
                "run3.log",
                "run4.json",
                "run4.log",
                "run5.json",
                "run5.log",
                "run6.json",
                "run6.log",
                "start.lock"
            ]
        );
    }
}

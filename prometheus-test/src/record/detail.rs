//! Rounds' detail (HTTP exchanges and worker log lines) kept in files
//! instead of memory, so that a long run's record stays small.
//!
//! Each file is a script the HTML report adds to its page when a step of
//! that round is opened: `round-000012.js` holds
//! `window.__prometheusTestDetail("round-000012.js", {"steps": [...]});`, one
//! entry per step of the round, in order (a page opened from disk cannot
//! `fetch()` a file beside it; it can load a `<script src>`). The files hold
//! what the recorder already redacted, and are read back (for the `JUnit`
//! report, and to redact a secret found later) through [`DetailFolder::read`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{Exchange, LogLine, StepRecord};

/// The function a detail file calls, which the report's script defines.
const REGISTER: &str = "window.__prometheusTestDetail";

/// The name of the folder beside a report (`report.html`) that holds its
/// rounds' detail: the file's stem and `-data` (`report-data`).
pub(crate) fn folder_beside(report: &Path) -> PathBuf {
    let stem = report
        .file_stem()
        .map_or_else(|| "report".into(), |stem| stem.to_string_lossy());
    report.with_file_name(format!("{stem}-data"))
}

/// One step's detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StepDetail {
    /// Its exchanges, redacted.
    pub(crate) exchanges: Vec<Exchange>,
    /// Its worker's log lines, redacted.
    pub(crate) log: Vec<LogLine>,
}

impl StepDetail {
    /// Moves the detail out of `step`, leaving its lists empty.
    pub(crate) fn take(step: &mut StepRecord) -> Self {
        Self {
            exchanges: std::mem::take(&mut step.exchanges),
            log: std::mem::take(&mut step.log),
        }
    }

    /// Puts the detail back into `step`.
    pub(crate) fn restore(self, step: &mut StepRecord) {
        step.exchanges = self.exchanges;
        step.log = self.log;
    }
}

#[derive(Serialize, Deserialize)]
struct RoundDetail {
    steps: Vec<StepDetail>,
}

/// A folder of detail files.
#[derive(Debug, Clone)]
pub(crate) struct DetailFolder {
    dir: PathBuf,
}

impl DetailFolder {
    /// The folder at `dir`, created if missing, emptied of the detail files
    /// an earlier run left.
    pub(crate) fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let folder = Self {
            dir: dir.to_path_buf(),
        };
        for name in folder.file_names()? {
            std::fs::remove_file(dir.join(name))?;
        }
        Ok(folder)
    }

    /// The folder at `dir` as it is, to read from.
    pub(crate) fn at(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The folder's path.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// The name of round `number`'s file.
    pub(crate) fn file_name(number: u32) -> String {
        format!("round-{number:06}.js")
    }

    /// Writes the detail of a round to file `name`, replacing it whole.
    pub(crate) fn write(&self, name: &str, steps: Vec<StepDetail>) -> std::io::Result<()> {
        let json = serde_json::to_string(&RoundDetail { steps }).map_err(std::io::Error::other)?;
        let name_json = serde_json::to_string(name).map_err(std::io::Error::other)?;
        let script = format!("{REGISTER}({name_json}, {json});\n");
        let temp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        crate::atomic_file::write_atomic(
            &self.dir.join(name),
            &temp,
            script.as_bytes(),
            crate::atomic_file::FileSync::Nothing,
            None,
        )
    }

    /// The detail of a round from file `name`, one entry per step.
    pub(crate) fn read(&self, name: &str) -> std::io::Result<Vec<StepDetail>> {
        let path = self.dir.join(name);
        let script = std::fs::read_to_string(&path)?;
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: expected `{REGISTER}(\"{name}\", {{…}});`",
                    path.display()
                ),
            )
        };
        let name_json = serde_json::to_string(name).map_err(std::io::Error::other)?;
        let json = script
            .strip_prefix(&format!("{REGISTER}({name_json}, "))
            .and_then(|rest| rest.strip_suffix(");\n"))
            .ok_or_else(bad)?;
        let detail: RoundDetail = serde_json::from_str(json).map_err(|_| bad())?;
        Ok(detail.steps)
    }

    /// Copies every detail file into `dir` (emptied of older ones first).
    pub(crate) fn copy_to(&self, dir: &Path) -> std::io::Result<()> {
        let target = Self::create(dir)?;
        for name in self.file_names()? {
            std::fs::copy(self.dir.join(&name), target.dir.join(&name))?;
        }
        Ok(())
    }

    /// Removes the folder's detail files, and the folder when that empties it.
    pub(crate) fn remove(dir: &Path) -> std::io::Result<()> {
        if !dir.is_dir() {
            return Ok(());
        }
        let folder = Self::create(dir)?;
        // Only an empty folder goes: anything else in it is not ours.
        let _ = std::fs::remove_dir(folder.path());
        Ok(())
    }

    /// The names of the detail files in the folder.
    fn file_names(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let number = name
                .strip_prefix("round-")
                .and_then(|rest| rest.strip_suffix(".js"));
            if number.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::sample;

    #[test]
    fn a_round_written_reads_back_whole_as_a_script_that_registers_it() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DetailFolder::create(&dir.path().join("report-data")).unwrap();
        let mut record = sample::small(true);
        let steps: Vec<StepDetail> = record.rounds[2]
            .steps
            .iter_mut()
            .map(StepDetail::take)
            .collect();
        folder.write("round-000003.js", steps.clone()).unwrap();
        assert_eq!(folder.read("round-000003.js").unwrap(), steps);
        let script = std::fs::read_to_string(folder.path().join("round-000003.js")).unwrap();
        assert!(
            script.starts_with(
                "window.__prometheusTestDetail(\"round-000003.js\", {\"steps\":[{\"exchanges\":[{"
            ),
            "{script}"
        );
        assert!(script.ends_with("}]});\n"), "{script}");
    }

    #[test]
    fn a_file_that_is_not_a_detail_script_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DetailFolder::create(dir.path()).unwrap();
        std::fs::write(dir.path().join("round-000001.js"), "alert(1)").unwrap();
        let err = folder.read("round-000001.js").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: expected `window.__prometheusTestDetail(\"round-000001.js\", {{…}});`",
                dir.path().join("round-000001.js").display()
            )
        );
    }

    #[test]
    fn creating_the_folder_removes_an_earlier_runs_files_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("round-000009.js"), "old").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        DetailFolder::create(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.txt"]);
    }

    #[test]
    fn the_folder_beside_a_report_is_named_after_it() {
        assert_eq!(
            folder_beside(Path::new("out/run1.html")),
            Path::new("out/run1-data")
        );
        assert_eq!(
            folder_beside(Path::new("report.html")),
            Path::new("report-data")
        );
    }
}

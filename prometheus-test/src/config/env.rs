//! The environment a run sees: the process environment, then the project's
//! `.env` (filling gaps), then the tests directory's `.env` (overriding).
//! Loaded into a map, never into the process environment.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// Variables of the run. Values may be secrets: `Debug` shows names only.
#[derive(Clone, Default)]
pub(crate) struct EnvMap {
    vars: BTreeMap<String, String>,
    /// The `.env` file each variable read from one came from, for messages.
    files: BTreeMap<String, PathBuf>,
}

impl EnvMap {
    /// `process` (the run's snapshot of the process environment; variables
    /// that are not UTF-8 are left out) layered with `<project>/.env` and
    /// `<tests>/.env`.
    pub(crate) fn load(
        process: impl IntoIterator<Item = (OsString, OsString)>,
        project_dir: &Path,
        tests_dir: &Path,
    ) -> anyhow::Result<Self> {
        let mut env = Self::of_process(process);
        let project_env = project_dir.join(".env");
        for (key, value) in read_dotenv(&project_env)? {
            if !env.vars.contains_key(&key) {
                env.files.insert(key.clone(), project_env.clone());
                env.vars.insert(key, value);
            }
        }
        if tests_dir != project_dir {
            let tests_env = tests_dir.join(".env");
            for (key, value) in read_dotenv(&tests_env)? {
                env.files.insert(key.clone(), tests_env.clone());
                env.vars.insert(key, value);
            }
        }
        Ok(env)
    }

    /// `process` alone (a snapshot of the process environment; variables that
    /// are not UTF-8 are left out), for an entry without `.env` files.
    pub(crate) fn of_process(process: impl IntoIterator<Item = (OsString, OsString)>) -> Self {
        Self {
            vars: process
                .into_iter()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            files: BTreeMap::new(),
        }
    }

    /// Builds a map from pairs.
    #[cfg(test)]
    pub(crate) fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            files: BTreeMap::new(),
        }
    }

    /// The value of `key`, if set and not empty.
    #[must_use]
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The `.env` file `key` was read from; `None` when the process
    /// environment gave it (or the run set it).
    #[must_use]
    pub(crate) fn file_of(&self, key: &str) -> Option<&Path> {
        self.files.get(key).map(PathBuf::as_path)
    }

    /// Every variable, name first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets `key` for the rest of the run (for example `MONGO_URI` of a managed server).
    pub(crate) fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.files.remove(&key);
        self.vars.insert(key, value.into());
    }
}

impl fmt::Debug for EnvMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvMap")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn read_dotenv(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    #[cfg(test)]
    super::reads::count(path);
    let text = super::text::read_text(path, ".env file")?;
    super::dotenv::parse_dotenv(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_env_overrides_project_env_which_fills_gaps() {
        let project = tempfile::tempdir().unwrap();
        let tests = project.path().join("tests");
        std::fs::create_dir(&tests).unwrap();
        std::fs::write(
            project.path().join(".env"),
            "PT_A=project\nPT_B=project\nPATH=nope\n",
        )
        .unwrap();
        std::fs::write(tests.join(".env"), "PT_B=tests\n").unwrap();
        let process = [("PATH", "/bin"), ("PT_ONLY_PROCESS", "p")]
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let env = EnvMap::load(process, project.path(), &tests).unwrap();
        assert_eq!(env.get("PT_A"), Some("project"));
        assert_eq!(env.get("PT_B"), Some("tests"));
        assert_eq!(env.get("PT_ONLY_PROCESS"), Some("p"));
        assert_eq!(
            env.get("PATH"),
            Some("/bin"),
            "the project .env must not override the process"
        );
        let project_env = project.path().join(".env");
        let files = ["PT_A", "PT_B", "PT_ONLY_PROCESS", "PATH"].map(|key| env.file_of(key));
        assert_eq!(
            files,
            [
                Some(project_env.as_path()),
                Some(tests.join(".env").as_path()),
                None,
                None
            ],
            "where each value came from"
        );
    }

    #[test]
    fn only_the_given_snapshot_is_read_not_the_process_environment() {
        let project = tempfile::tempdir().unwrap();
        let env = EnvMap::load([], project.path(), project.path()).unwrap();
        assert_eq!(env.iter().count(), 0, "{env:?}");
    }

    #[test]
    fn debug_shows_names_not_values() {
        let env = EnvMap::from_pairs([("API_TOKEN", "s3cr3t-value")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("API_TOKEN"));
        assert!(!shown.contains("s3cr3t-value"));
    }

    #[test]
    fn a_bad_env_line_names_file_and_line_never_the_value() {
        let project = tempfile::tempdir().unwrap();
        let tests = project.path().join("tests");
        std::fs::create_dir(&tests).unwrap();
        std::fs::write(
            tests.join(".env"),
            "\u{feff}PT_OK=1\n# tokens\nTOKEN=\"ghp_s3cr3t-value\n",
        )
        .unwrap();
        let err = format!(
            "{:#}",
            EnvMap::load([], project.path(), &tests).unwrap_err()
        );
        let expected = format!(
            "{}: line 3: a quoted value is not closed",
            tests.join(".env").display()
        );
        assert_eq!(err, expected);
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_in_env_is_accepted() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join(".env"), "\u{feff}PT_BOM_FIRST=yes\n").unwrap();
        let env = EnvMap::load([], project.path(), project.path()).unwrap();
        assert_eq!(env.get("PT_BOM_FIRST"), Some("yes"));
    }
}

//! Step files that were never compiled: `#[step]` registers through
//! `inventory`, so a module whose `mod` line is missing loses its steps
//! without a word. At start-up the suite's folder is searched for `.rs` files
//! that contain `#[step` but registered no step.
//!
//! It is a warning, not an error: a module may be left out on purpose
//! (`#[cfg(feature = "slow")] mod slow;`), and a file may mention `#[step` in a
//! comment or a string. The warning names the file and the likely fix.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How deep below the suite's folder files are searched.
const MAX_DEPTH: usize = 8;

/// The `.rs` files below `suite_dir` that contain `#[step` but are not among
/// `registered` (the `file!()` paths of the registered steps, resolved with
/// [`resolve_source`]), as warnings.
pub(crate) fn warnings(suite_dir: &Path, registered: &BTreeSet<PathBuf>) -> Vec<String> {
    let mut files = Vec::new();
    collect_rs_files(suite_dir, 0, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|file| !registered.contains(&canonical(file)))
        .filter(|file| std::fs::read_to_string(file).is_ok_and(|text| text.contains("#[step")))
        .map(|file| {
            let module = file
                .file_stem()
                .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned());
            format!(
                "{} has #[step] functions but none is registered: is `mod {module};` missing?",
                file.display()
            )
        })
        .collect()
}

/// The canonical path of the file a step's `file!()` names.
pub(crate) fn resolve_source(manifest_dir: &Path, file: &str) -> PathBuf {
    super::paths::source_path(manifest_dir, file)
        .map_or_else(|| PathBuf::from(file), |found| canonical(&found))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn collect_rs_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < MAX_DEPTH {
            let hidden = path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with('.'));
            if !hidden {
                collect_rs_files(&path, depth + 1, files);
            }
        } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_step_file_without_registered_steps_is_named_with_its_mod_line() {
        let dir = tempfile::tempdir().unwrap();
        let tests = dir.path().join("tests");
        write(
            &tests.join("e2e.rs"),
            "prometheus_test::main!();\nmod steps;\n",
        );
        write(&tests.join("steps/mod.rs"), "mod task;\n");
        write(
            &tests.join("steps/task.rs"),
            "#[step(worker = \"w\", order = 1)]\nasync fn task() {}\n",
        );
        write(
            &tests.join("steps/audit.rs"),
            "#[step(worker = \"w\", order = 2)]\nasync fn audit() {}\n",
        );
        write(&tests.join("steps/helpers.rs"), "fn no_steps_here() {}\n");
        write(&tests.join("data/notes.txt"), "#[step(worker = \"w\")]\n");
        let registered: BTreeSet<PathBuf> =
            [resolve_source(dir.path(), "tests/steps/task.rs")].into();
        let warnings = warnings(&tests, &registered);
        assert_eq!(
            warnings,
            [format!(
                "{} has #[step] functions but none is registered: is `mod audit;` missing?",
                tests.join("steps/audit.rs").display()
            )]
        );
    }

    #[test]
    fn file_paths_resolve_against_the_package_or_the_workspace_root() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("examples/task");
        write(&member.join("tests/steps/a.rs"), "");
        let expected = member.join("tests/steps/a.rs").canonicalize().unwrap();
        assert_eq!(resolve_source(&member, "tests/steps/a.rs"), expected);
        assert_eq!(
            resolve_source(&member, "examples/task/tests/steps/a.rs"),
            expected
        );
    }
}

//! Where the suite lives: the directory of the test target's root file.

use std::path::{Path, PathBuf};

/// The directory of `source_file` (`file!()` of the target's root), found
/// with [`source_path`]; `manifest_dir/tests` as a last resort.
pub(crate) fn tests_dir(source_file: &str, manifest_dir: &str) -> PathBuf {
    source_path(Path::new(manifest_dir), source_file)
        .and_then(|found| found.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(manifest_dir).join("tests"))
}

/// The file a `file!()` path names. cargo gives it relative to the package
/// for a lone crate and to the workspace root for a workspace member, so it
/// is tried against `manifest_dir` and each of its ancestors.
pub(crate) fn source_path(manifest_dir: &Path, file: &str) -> Option<PathBuf> {
    let file = Path::new(file);
    if file.is_absolute() {
        return Some(file.to_path_buf());
    }
    manifest_dir
        .ancestors()
        .map(|dir| dir.join(file))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_test_file_relative_to_the_workspace_root() {
        let root = tempfile::tempdir().unwrap();
        let pkg = root.path().join("examples/todo");
        std::fs::create_dir_all(pkg.join("tests")).unwrap();
        std::fs::write(pkg.join("tests/e2e.rs"), "").unwrap();
        let manifest = pkg.to_str().unwrap();
        assert_eq!(
            tests_dir("examples/todo/tests/e2e.rs", manifest),
            pkg.join("tests")
        );
        assert_eq!(tests_dir("tests/e2e.rs", manifest), pkg.join("tests"));
        assert_eq!(
            tests_dir("/abs/suite/e2e.rs", manifest),
            Path::new("/abs/suite")
        );
    }
}

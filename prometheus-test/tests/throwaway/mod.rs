//! Throwaway crates that depend on this crate by path, built and run with the
//! cargo running the tests, as a user's crate would be.
//!
//! Every crate lives in its own temporary directory below
//! `CARGO_TARGET_TMPDIR/throwaway`, and all of them share one target directory
//! there, so only the first build compiles the dependencies. `--offline` and
//! the workspace's `Cargo.lock` keep their versions (`mongodb` 3.2.x) and the
//! network out; the environment holds only what finds the toolchain.

#![allow(dead_code, reason = "each test file uses the part it needs")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A throwaway crate on disk (removed when dropped).
pub(crate) struct Crate {
    dir: tempfile::TempDir,
}

/// What a cargo command in the crate ended with.
pub(crate) struct Run {
    pub(crate) success: bool,
    /// stdout, then stderr.
    pub(crate) output: String,
}

impl Crate {
    /// A crate whose `[dev-dependencies]` section is `dev_dependencies` (in
    /// which `{runtime}` stands for this crate's path dependency) and whose
    /// `e2e` test target has `test_target_extra` lines (e.g. `harness = false`).
    pub(crate) fn new(dev_dependencies: &str, test_target_extra: &str) -> Self {
        let scratch = scratch_dir();
        fs::create_dir_all(&scratch).expect("create the scratch directory");
        let dir = tempfile::Builder::new()
            .prefix("crate-")
            .tempdir_in(&scratch)
            .expect("create the throwaway crate's directory");
        let dev_dependencies = dev_dependencies.replace("{runtime}", &runtime_dependency());
        let manifest = format!(
            "[package]\n\
             name = \"throwaway-suite\"\n\
             version = \"0.0.0\"\n\
             edition = \"2024\"\n\
             publish = false\n\
             \n\
             [dev-dependencies]\n\
             {dev_dependencies}\n\
             \n\
             [[test]]\n\
             name = \"e2e\"\n\
             path = \"tests/e2e.rs\"\n\
             {test_target_extra}\
             \n\
             # Not a member of the workspace this directory lies in.\n\
             [workspace]\n"
        );
        let project = Self { dir };
        project.write("Cargo.toml", &manifest);
        fs::copy(
            Path::new(MANIFEST_DIR).join("../Cargo.lock"),
            project.path().join("Cargo.lock"),
        )
        .expect("copy the workspace's Cargo.lock");
        project.write("src/lib.rs", "");
        project
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `relative` inside the crate, creating folders.
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create the file's folder");
        }
        fs::write(&path, text).unwrap_or_else(|error| panic!("write {relative}: {error}"));
    }

    /// Copies `file` of this crate's `tests/fixtures/<fixture>/` to `relative`.
    pub(crate) fn copy_fixture(&self, fixture: &str, file: &str, relative: &str) {
        let from = Path::new(MANIFEST_DIR)
            .join("tests/fixtures")
            .join(fixture)
            .join(file);
        let text = fs::read_to_string(&from)
            .unwrap_or_else(|error| panic!("read {}: {error}", from.display()));
        self.write(relative, &text);
    }

    /// Runs `cargo <subcommand> --offline <rest of args>` in the crate.
    pub(crate) fn cargo(&self, args: &[&str]) -> Run {
        let (subcommand, rest) = args.split_first().expect("a cargo subcommand");
        let output = cargo()
            .arg(subcommand)
            .arg("--offline")
            .args(rest)
            .current_dir(self.path())
            .env("CARGO_TARGET_DIR", shared_target_dir())
            .output()
            .expect("run cargo");
        Run {
            success: output.status.success(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }
}

fn scratch_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("throwaway")
}

/// `prometheus-test = { path = "…" }`, for a manifest.
fn runtime_dependency() -> String {
    let text = MANIFEST_DIR;
    format!(
        "prometheus-test = {{ path = \"{}\" }}",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// The cargo running this test, with an environment holding only what finds
/// the toolchain: nothing of the outer build leaks into the inner one.
fn cargo() -> Command {
    let program: PathBuf = std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from);
    let mut command = Command::new(program);
    command.env_clear();
    for name in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
    ] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

/// The workspace's own target directory (the parent of `CARGO_TARGET_TMPDIR`).
fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies in the target directory")
        .to_path_buf()
}

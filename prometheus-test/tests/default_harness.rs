//! A suite built with the default test harness must fail, not report its
//! steps `ok` without running them.
//!
//! Each test builds a throwaway crate from `fixtures/default_harness/` (one
//! step that always fails) and runs `cargo test --test e2e` in it, as a user
//! would. Its builds go to a dedicated target directory below
//! `CARGO_TARGET_TMPDIR`, so only the first run compiles the dependencies;
//! `--offline` and the workspace's `Cargo.lock` keep their versions (`mongodb`
//! 3.2.x) and the network out.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The message of the tests `#[step]` and `main!()` emit for the IDE.
const NEEDS_HARNESS_FALSE: &str = "prometheus-test steps run only in a `harness = false` \
     [[test]] target, and this one uses the default test harness, so no step ran: \
     add `harness = false` to its [[test]] entry in Cargo.toml";

/// What the fixture's step fails with when it really runs.
const STEP_FAILURE: &str = "this step must fail";

#[test]
fn default_harness_fails_with_the_fix_in_the_message() {
    let run = run_suite(Harness::Default);
    assert!(!run.success, "the suite passed:\n{}", run.output);
    for expected in [
        NEEDS_HARNESS_FALSE,
        "test always_fails ... FAILED",
        "test prometheus_test_needs_harness_false ... FAILED",
        "test result: FAILED. 0 passed; 2 failed",
    ] {
        assert!(
            run.output.contains(expected),
            "missing {expected:?} in:\n{}",
            run.output
        );
    }
    assert!(
        !run.output.contains(STEP_FAILURE),
        "the step ran under the default harness:\n{}",
        run.output
    );
}

#[test]
fn harness_false_runs_the_step() {
    let run = run_suite(Harness::False);
    assert!(!run.success, "the failing step passed:\n{}", run.output);
    assert!(
        run.output.contains(STEP_FAILURE),
        "the step did not run:\n{}",
        run.output
    );
    assert!(
        !run.output.contains(NEEDS_HARNESS_FALSE),
        "a marker test ran under `harness = false`:\n{}",
        run.output
    );
}

#[derive(Clone, Copy)]
enum Harness {
    Default,
    False,
}

struct Run {
    success: bool,
    /// stdout, then stderr.
    output: String,
}

/// Builds the throwaway crate with `harness` and runs its suite.
fn run_suite(harness: Harness) -> Run {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("default-harness");
    fs::create_dir_all(&scratch).expect("create the scratch directory");
    let project = tempfile::Builder::new()
        .prefix("suite-")
        .tempdir_in(&scratch)
        .expect("create the throwaway crate's directory");
    write_project(project.path(), harness);
    let output = cargo()
        .args(["test", "--offline", "--test", "e2e"])
        .current_dir(project.path())
        .env("CARGO_TARGET_DIR", scratch.join("target"))
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

/// The throwaway crate: a manifest depending on this crate by path, the
/// workspace's lockfile and the fixture suite in `tests/`.
fn write_project(dir: &Path, harness: Harness) {
    let harness_line = match harness {
        Harness::Default => "",
        Harness::False => "harness = false\n",
    };
    let runtime = toml_string(Path::new(MANIFEST_DIR));
    let manifest = format!(
        "[package]\n\
         name = \"throwaway-suite\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [dev-dependencies]\n\
         prometheus-test = {{ path = {runtime} }}\n\
         anyhow = \"1\"\n\
         \n\
         [[test]]\n\
         name = \"e2e\"\n\
         path = \"tests/e2e.rs\"\n\
         {harness_line}\
         \n\
         # Not a member of the workspace this directory lies in.\n\
         [workspace]\n"
    );
    fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    fs::copy(
        Path::new(MANIFEST_DIR).join("../Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .expect("copy the workspace's Cargo.lock");
    fs::create_dir(dir.join("src")).expect("create src/");
    fs::write(dir.join("src/lib.rs"), "").expect("write src/lib.rs");
    let tests = dir.join("tests");
    fs::create_dir(&tests).expect("create tests/");
    let fixture = Path::new(MANIFEST_DIR).join("tests/fixtures/default_harness");
    for file in ["e2e.rs", "config.yaml", "workers.json"] {
        fs::copy(fixture.join(file), tests.join(file))
            .unwrap_or_else(|error| panic!("copy fixture {file}: {error}"));
    }
}

/// A TOML basic string holding `path`.
fn toml_string(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 manifest directory");
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
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

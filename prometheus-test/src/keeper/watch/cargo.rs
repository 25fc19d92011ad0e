//! Building the suite's test target again, as `cargo test` builds it, with
//! the compiler's messages shown as cargo shows them, and finding the new
//! test binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;

/// The test target whose binary runs now, and how to build it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The package's `Cargo.toml`.
    pub(crate) manifest: PathBuf,
    /// The test target's name (`e2e`).
    pub(crate) name: String,
    /// `--release` or `--profile NAME` when the binary was built so.
    pub(crate) profile: Vec<String>,
}

impl Target {
    /// The target of the running binary `exe` (`<target>/<profile>/deps/<crate>-<hash>`)
    /// in the package at `package`.
    pub(crate) fn of(exe: &Path, package: &Path) -> anyhow::Result<Self> {
        let manifest = package.join("Cargo.toml");
        let stem = exe
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.rsplit_once('-'))
            .map(|(name, _hash)| name.to_owned())
            .ok_or_else(|| anyhow!("{}: not a cargo test binary", exe.display()))?;
        let metadata = cargo()
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--manifest-path",
            ])
            .arg(&manifest)
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run `cargo metadata`")?;
        if !metadata.status.success() {
            bail!("`cargo metadata` for {} failed", manifest.display());
        }
        let metadata: Value =
            serde_json::from_slice(&metadata.stdout).context("cannot read `cargo metadata`")?;
        let name = test_target(&metadata, &manifest, &stem).ok_or_else(|| {
            anyhow!(
                "{}: no test target builds {} ({stem})",
                manifest.display(),
                exe.display()
            )
        })?;
        let profile_dir = exe
            .parent()
            .filter(|dir| dir.ends_with("deps"))
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|name| name.to_str())
            .unwrap_or("debug");
        let profile = match profile_dir {
            "debug" => Vec::new(),
            "release" => vec!["--release".to_owned()],
            other => vec!["--profile".to_owned(), other.to_owned()],
        };
        Ok(Self {
            manifest,
            name,
            profile,
        })
    }

    /// Builds the target (the package's binaries with it, as `cargo test`
    /// does); the new binary, or `None` when the build failed (cargo has
    /// shown why).
    pub(crate) fn build(&self) -> anyhow::Result<Option<PathBuf>> {
        let output = cargo()
            .args([
                "test",
                "--no-run",
                "--message-format=json-render-diagnostics",
            ])
            .arg("--manifest-path")
            .arg(&self.manifest)
            .args(["--test", &self.name])
            .args(&self.profile)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run `cargo test --no-run`")?;
        let built = executable(&String::from_utf8_lossy(&output.stdout), &self.name);
        Ok(built.filter(|_| output.status.success()))
    }
}

/// cargo: the one running the tests (`CARGO`), else the one on `PATH`,
/// without the variables cargo set for this test binary: build scripts
/// that read them (`CARGO_MANIFEST_DIR`) would otherwise build again what
/// `cargo test` built.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if set_for_the_test(name) {
            command.env_remove(name);
        } else if name == "LD_LIBRARY_PATH" {
            let own = own_library_path(&value);
            match own {
                Some(path) => command.env(name, path),
                None => command.env_remove(name),
            };
        }
    }
    command
}

/// Whether cargo sets variable `name` for the test binaries it runs.
fn set_for_the_test(name: &str) -> bool {
    const SET: [&str; 7] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
        "RUST_RECURSION_COUNT",
    ];
    SET.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// `LD_LIBRARY_PATH` without the folders cargo put in front of it (the
/// target's and the toolchain's); `None` when nothing else is left.
fn own_library_path(value: &std::ffi::OsStr) -> Option<std::ffi::OsString> {
    let cargo_put = |dir: &Path| {
        dir.components().any(|part| part.as_os_str() == "target")
            || dir.to_string_lossy().contains("/toolchains/")
    };
    let own: Vec<PathBuf> = std::env::split_paths(value)
        .filter(|dir| !cargo_put(dir))
        .collect();
    (!own.is_empty())
        .then(|| std::env::join_paths(own).ok())
        .flatten()
}

/// The name of the test target of `manifest`'s package whose crate name is `stem`.
fn test_target(metadata: &Value, manifest: &Path, stem: &str) -> Option<String> {
    let manifest = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    metadata["packages"]
        .as_array()?
        .iter()
        .filter(|package| {
            package["manifest_path"]
                .as_str()
                .is_some_and(|path| Path::new(path) == manifest)
        })
        .flat_map(|package| package["targets"].as_array().into_iter().flatten())
        .filter(|target| {
            target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "test"))
        })
        .filter_map(|target| target["name"].as_str())
        .find(|name| name.replace('-', "_") == stem)
        .map(str::to_owned)
}

/// The executable of test target `name` among cargo's JSON messages.
fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == name)
        .filter(|message| {
            message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "test"))
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_targets_binary_is_found_among_cargos_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"todo-task","kind":["bin"]},"executable":"/t/debug/todo-task"}"#,
            "\n",
            r#"{"reason":"compiler-message","message":{}}"#,
            "\n",
            "not json\n",
            r#"{"reason":"compiler-artifact","target":{"name":"e2e","kind":["test"]},"executable":"/t/debug/deps/e2e-1f2e"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable(messages, "e2e"),
            Some(PathBuf::from("/t/debug/deps/e2e-1f2e"))
        );
        assert_eq!(
            executable(messages, "todo-task"),
            None,
            "a binary, not a test"
        );
    }

    #[test]
    fn the_variables_cargo_sets_for_a_test_are_left_out() {
        for set in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_todo-task",
            "OUT_DIR",
        ] {
            assert!(set_for_the_test(set), "{set}");
        }
        for kept in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_for_the_test(kept), "{kept}");
        }
        let path = std::ffi::OsString::from(
            "/w/target/debug/build/ring-1/out:/w/target/debug/deps:/r/toolchains/s/lib:/opt/lib",
        );
        assert_eq!(own_library_path(&path), Some("/opt/lib".into()));
        assert_eq!(
            own_library_path(std::ffi::OsStr::new("/w/target/debug")),
            None
        );
    }

    #[test]
    fn a_test_target_is_found_by_its_crate_name() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(&manifest, "").unwrap();
        let metadata = serde_json::json!({"packages": [{
            "manifest_path": manifest.canonicalize().unwrap(),
            "targets": [
                {"name": "task", "kind": ["bin"]},
                {"name": "my-e2e", "kind": ["test"]},
            ]
        }]});
        assert_eq!(
            test_target(&metadata, &manifest, "my_e2e"),
            Some("my-e2e".to_owned())
        );
        assert_eq!(test_target(&metadata, &manifest, "task"), None);
    }
}

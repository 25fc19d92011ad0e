//! What the process-level tests of this package share: starting a suite
//! binary in a cleared environment, waiting for it with a time limit, finding
//! the processes a run left behind, free ports, and what a test does when a
//! tool it needs is missing here.

#![allow(dead_code, reason = "each test file uses the part it needs")]

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The variable every process of a run inherits, so that leftovers can be
/// found by their environment: `PT_CONTRACT_MARKER=<marker>`.
pub(crate) const MARKER_VAR: &str = "PT_CONTRACT_MARKER";

/// `binary` in a cleared environment holding only the `inherited` variables
/// of this process (those that are set) and `PROMETHEUS_TEST_CONFIG=config`.
pub(crate) fn suite_command(binary: &str, inherited: &[&str], config: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .envs(
            inherited
                .iter()
                .filter_map(|&name| Some((name, std::env::var_os(name)?))),
        )
        .env("PROMETHEUS_TEST_CONFIG", config);
    cmd
}

/// A loopback port for a worker, below the kernel's ephemeral range.
pub(crate) fn free_port() -> u16 {
    prometheus_test::__bench::free_port().expect("a free loopback port")
}

/// Runs `command` to its end (killed after `limit`), reading its output as it
/// comes (a long output never fills the pipes).
pub(crate) fn run_to_end(mut command: Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    finish(child, limit)
}

/// Waits for `child`, reading its output as it comes; kills it and fails
/// the test after `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Waits for `child` and collects its output; kills it after `limit`.
pub(crate) fn wait_with_timeout(mut child: Child, limit: Duration) -> Result<Output, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            if let Some(mut pipe) = child.stdout.take() {
                pipe.read_to_end(&mut stdout).expect("read stdout");
            }
            if let Some(mut pipe) = child.stderr.take() {
                pipe.read_to_end(&mut stderr).expect("read stderr");
            }
            return Ok(Output {
                status,
                stdout,
                stderr,
            });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the suite did not finish within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// [`wait_with_timeout`], failing the test at the limit.
pub(crate) fn wait(child: Child, limit: Duration) -> Output {
    wait_with_timeout(child, limit).unwrap_or_else(|error| panic!("{error}"))
}

/// The live (not zombie) processes whose environment holds
/// `PT_CONTRACT_MARKER=<marker>`.
pub(crate) fn marked_processes(marker: &str) -> Vec<u32> {
    let needle = format!("{MARKER_VAR}={marker}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(Result::ok)
    {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
            && !is_zombie(pid)
        {
            pids.push(pid);
        }
    }
    pids
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

/// The caller's variables cargo, nextest and the suites they run see in
/// [`cleared`] commands; everything else is cleared.
pub(crate) const CARGO_INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "TMPDIR",
    "PROMETHEUS_TEST_MONGOD",
];

/// The variables that give a run of the example (`examples/todo-task`) a
/// data folder of its own in `dir` (its todos fixture copied there) and
/// free ports (its workers' and its middle server's).
pub(crate) fn example_env(dir: &Path) -> Vec<(String, String)> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        repo().join("examples/todo-task/tests/data/todos.json"),
        data.join("todos.json"),
    )
    .unwrap();
    vec![
        (
            "PROMETHEUS_TEST_SET_DATA_DIR".to_owned(),
            data.display().to_string(),
        ),
        (
            "PROMETHEUS_TEST_SET_BASE_PORT".to_owned(),
            free_ports(3).to_string(),
        ),
        (
            "PROMETHEUS_TEST_SET_SERVICES__MIDDLE__PORT".to_owned(),
            free_port().to_string(),
        ),
    ]
}

/// The repository's root.
pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test was built in (`<target>/debug/deps/<test>`).
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lies in <target>/<profile>/deps")
        .to_path_buf()
}

/// `count` consecutive free loopback ports (a suite's workers use
/// `base_port` and the ports after it), each taken from the process-wide
/// counter behind [`free_port`], so that no other test of this process (its
/// private `mongod`, say) is handed one of them later.
pub(crate) fn free_ports(count: u16) -> u16 {
    'search: for _ in 0..100 {
        let base = free_port();
        for offset in 1..count {
            if free_port() != base + offset {
                continue 'search;
            }
        }
        return base;
    }
    panic!("no {count} consecutive free ports");
}

/// `program` in the repository, with the [`CARGO_INHERITED`] variables only.
pub(crate) fn cleared(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(repo())
        .env_clear()
        .envs(
            CARGO_INHERITED
                .iter()
                .filter_map(|&name| Some((name, std::env::var_os(name)?))),
        )
        .stdin(Stdio::null());
    cmd
}

/// cargo, [`cleared`], building into this test's target directory.
pub(crate) fn cargo() -> Command {
    let mut cmd = cleared(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")));
    cmd.env("CARGO_TARGET_DIR", target_dir());
    cmd
}

/// Every document of every collection of `db`, by collection name and `_id`.
pub(crate) async fn all_documents(
    db: &prometheus_test::mongodb::Database,
) -> Vec<(String, Vec<prometheus_test::mongodb::bson::Document>)> {
    use prometheus_test::mongodb::bson::{Document, doc};
    let mut names = db.list_collection_names().await.unwrap();
    names.sort();
    let mut all = Vec::new();
    for name in names {
        let mut cursor = db
            .collection::<Document>(&name)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .unwrap();
        let mut docs = Vec::new();
        while cursor.advance().await.unwrap() {
            docs.push(cursor.deserialize_current().unwrap());
        }
        all.push((name, docs));
    }
    all
}

/// The state a run saved in `data_dir`, as the next run reads it:
/// `test_state.json` with the entries of `test_state.journal` applied (the
/// changes of the steps since the last fold), when the journal belongs to
/// that file (its first line names the file's SHA-256). A torn last line
/// records nothing. `Err` names what does not parse.
pub(crate) fn saved_state(data_dir: &Path) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    use sha2::Digest as _;
    let bytes = std::fs::read(data_dir.join("test_state.json"))
        .map_err(|e| format!("test_state.json: {e}"))?;
    let mut state: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("test_state.json: {e}"))?;
    let Ok(journal) = std::fs::read(data_dir.join("test_state.journal")) else {
        return Ok(state);
    };
    let complete = journal
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let mut lines = journal[..complete]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| serde_json::from_slice::<Value>(line).map_err(|e| format!("journal: {e}")));
    let Some(base) = lines.next().transpose()? else {
        return Ok(state);
    };
    if base["sha256"] != hex::encode(sha2::Sha256::digest(&bytes)) {
        return Ok(state);
    }
    for entry in lines {
        let entry = entry?;
        match entry["op"].as_str() {
            Some("step") => state["last_completed_step"] = entry["name"].clone(),
            Some("set") => {
                let root = match entry["round"].as_u64() {
                    Some(round) => &mut state["rounds"][round.to_string()],
                    None => &mut state["global"],
                };
                let key = entry["key"].as_str().unwrap_or_default();
                let mut slot = root;
                for part in key.split('.') {
                    if !slot.is_object() {
                        *slot = Value::Object(serde_json::Map::new());
                    }
                    slot = &mut slot[part];
                }
                *slot = entry["value"].clone();
            }
            Some("life") => {
                let worker = entry["worker"].as_str().unwrap_or_default().to_owned();
                let held = &mut state["held_workers"];
                if !held.is_object() {
                    *held = Value::Object(serde_json::Map::new());
                }
                let held = held.as_object_mut().expect("an object");
                if entry["life"].is_null() {
                    held.remove(&worker);
                } else {
                    held.insert(worker, entry["life"].clone());
                }
                if held.is_empty() {
                    state.as_object_mut().map(|s| s.remove("held_workers"));
                }
            }
            other => return Err(format!("journal: unknown entry {other:?}")),
        }
    }
    Ok(state)
}

/// Whether `ci` (the value of `CI`) marks a CI run: set to anything but
/// empty, `0` or `false` (CI services set `CI=true`).
pub(crate) fn under_ci(ci: Option<&str>) -> bool {
    ci.is_some_and(|value| !matches!(value, "" | "0" | "false"))
}

/// `test` cannot run here: `why` says what is missing, `remedy` what
/// provides it. Under CI the test fails; elsewhere it prints
/// `ignored: <test>: …` past the output capture, and the caller returns.
pub(crate) fn unavailable(test: &str, why: &str, remedy: &str) {
    assert!(
        !under_ci(std::env::var("CI").ok().as_deref()),
        "{test}: {why}; {remedy}; outside CI this test skips"
    );
    let _ = writeln!(std::io::stderr(), "ignored: {test}: {why}; {remedy}");
}

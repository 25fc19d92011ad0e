//! Which of this binary's tests a nextest run selected. nextest tells each
//! test only its own name, and its filters (`-E`, substrings, `--skip`,
//! `--run-ignored`, `--partition`, a profile's `default-filter`) are its own
//! to evaluate. So the test process that starts the coordinator asks nextest:
//! it runs `cargo nextest list --message-format json` with the run's own
//! arguments (read from nextest's process, less the options only `run`
//! takes) in nextest's directory and environment, and reads which of the
//! binary's tests match. The coordinator then plays what `cargo test` with
//! those names and `--exact` plays.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::watch::Watched;

/// The tests of this binary a nextest run selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Selected {
    /// Every test: the coordinator plays the whole suite.
    All,
    /// These, in the binary's order: the coordinator plays up to the last.
    Only(Vec<String>),
}

/// `run`'s options that `list` does not take and that select nothing.
const RUN_FLAGS: [&str; 10] = [
    "--fail-fast",
    "--no-fail-fast",
    "--ff",
    "--nff",
    "--hide-progress-bar",
    "--no-capture",
    "--nocapture",
    "--no-input-handler",
    "--no-output-indent",
    "--no-run",
];

/// `run`'s options with a value that `list` does not take and that select
/// nothing.
const RUN_OPTIONS: [&str; 18] = [
    "--debugger",
    "--failure-output",
    "--final-status-level",
    "--flaky-result",
    "--max-fail",
    "--max-progress-running",
    "--message-format",
    "--message-format-version",
    "--no-tests",
    "--retries",
    "--status-level",
    "--stress-count",
    "--stress-duration",
    "--success-output",
    "--tracer",
    "--test-threads",
    "--jobs",
    "-j",
];

/// `run`'s options that select tests in a way `list` cannot reproduce.
const UNLISTABLE: [&str; 2] = ["--rerun", "-R"];

/// The tests among `names` (this binary's, `binary_id` to nextest) that
/// the nextest run of process `nextest` selected; the error says why they
/// cannot be known.
pub(super) fn selected(
    nextest: Watched,
    binary_id: &str,
    names: &[String],
) -> Result<Selected, String> {
    let proc = PathBuf::from(format!("/proc/{}", nextest.pid()));
    let unreadable = |what: &str, err: std::io::Error| {
        format!(
            "cannot read nextest's {what} (PID {}): {err}",
            nextest.pid()
        )
    };
    let run_line =
        std::fs::read(proc.join("cmdline")).map_err(|err| unreadable("arguments", err))?;
    let run_line: Vec<OsString> = split_nul(&run_line);
    let list = list_args(&run_line)?;
    let program = std::fs::read_link(proc.join("exe")).map_err(|err| unreadable("program", err))?;
    let cwd = std::fs::read_link(proc.join("cwd")).map_err(|err| unreadable("directory", err))?;
    let environ =
        std::fs::read(proc.join("environ")).map_err(|err| unreadable("environment", err))?;
    let env = split_nul(&environ).into_iter().filter_map(|pair| {
        let bytes = pair.as_bytes();
        let eq = bytes.iter().position(|&b| b == b'=')?;
        Some((
            OsStr::from_bytes(&bytes[..eq]).to_owned(),
            OsStr::from_bytes(&bytes[eq + 1..]).to_owned(),
        ))
    });
    let output = Command::new(&program)
        .args(&list)
        .current_dir(&cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run `cargo nextest list`: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(format!(
            "`cargo nextest list` with this run's arguments failed ({}): {}",
            output.status,
            message.unwrap_or("no message").trim()
        ));
    }
    matching(&output.stdout, binary_id, names)
}

/// The NUL-separated strings of a `/proc` file.
fn split_nul(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| OsStr::from_bytes(part).to_owned())
        .collect()
}

/// The arguments of `cargo-nextest` that list what `run_line` (a `cargo-nextest
/// nextest run …` command line) runs: `run` becomes `list`, `run`'s own
/// options are left out, and the list is asked for as JSON.
fn list_args(run_line: &[OsString]) -> Result<Vec<OsString>, String> {
    // Names the program only: its arguments may hold anything.
    let not_a_run = || {
        let program = run_line.first().map(|p| p.to_string_lossy());
        format!(
            "the process taken for nextest (`{}`) does not run `cargo nextest run …`",
            program.as_deref().unwrap_or("?")
        )
    };
    if run_line.get(1).map(OsString::as_os_str) != Some(OsStr::new("nextest")) {
        return Err(not_a_run());
    }
    let run = run_line
        .iter()
        .position(|a| a == "run" || a == "r")
        .ok_or_else(not_a_run)?;
    let mut list: Vec<OsString> = run_line[1..run].to_vec();
    list.push("list".into());
    let mut rest = run_line[run + 1..].iter();
    while let Some(arg) = rest.next() {
        let text = arg.to_string_lossy();
        if text == "--" {
            list.push(arg.clone());
            list.extend(rest.by_ref().cloned());
            break;
        }
        let name = text.split_once('=').map_or(&*text, |(name, _)| name);
        if UNLISTABLE.contains(&name) || text.starts_with("-R") {
            return Err(format!(
                "`{name}` selects tests that `cargo nextest list` cannot show"
            ));
        }
        if RUN_FLAGS.contains(&name) {
            continue;
        }
        if RUN_OPTIONS.contains(&name) {
            if !text.contains('=') {
                rest.next();
            }
            continue;
        }
        if text.starts_with("-j") {
            continue; // `-j4`
        }
        list.push(arg.clone());
    }
    list.extend(["--message-format", "json"].map(OsString::from));
    Ok(list)
}

/// The tests among `names` that `cargo nextest list --message-format json`
/// (`json`) says match in binary `binary_id`.
fn matching(json: &[u8], binary_id: &str, names: &[String]) -> Result<Selected, String> {
    let list: Value = serde_json::from_slice(json)
        .map_err(|err| format!("`cargo nextest list` printed no JSON list: {err}"))?;
    let cases = list
        .get("rust-suites")
        .and_then(|suites| suites.get(binary_id))
        .and_then(|suite| suite.get("testcases"))
        .and_then(Value::as_object)
        .ok_or_else(|| format!("`cargo nextest list` does not list binary `{binary_id}`"))?;
    let matches = |name: &String| {
        cases
            .get(name)
            .and_then(|case| case.pointer("/filter-match/status"))
            .and_then(Value::as_str)
            == Some("matches")
    };
    let chosen: Vec<String> = names.iter().filter(|n| matches(n)).cloned().collect();
    if chosen.is_empty() {
        return Err(format!(
            "`cargo nextest list` selects none of binary `{binary_id}`'s tests"
        ));
    }
    Ok(if chosen.len() == names.len() {
        Selected::All
    } else {
        Selected::Only(chosen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_run_s_arguments_list_its_tests_without_run_s_own_options() {
        let run_line = os(&[
            "/usr/bin/cargo-nextest",
            "nextest",
            "run",
            "--profile",
            "ci",
            "-E",
            "test(work)",
            "--retries",
            "2",
            "--no-fail-fast",
            "-j4",
            "--test-threads=2",
            "--status-level",
            "all",
            "audit",
            "--",
            "--exact",
            "--nocapture",
        ]);
        assert_eq!(
            list_args(&run_line).unwrap(),
            os(&[
                "nextest",
                "list",
                "--profile",
                "ci",
                "-E",
                "test(work)",
                "audit",
                "--",
                "--exact",
                "--nocapture",
                "--message-format",
                "json"
            ])
        );
        assert_eq!(
            list_args(&os(&["cargo-nextest", "nextest", "r", "-R", "latest"])).unwrap_err(),
            "`-R` selects tests that `cargo nextest list` cannot show"
        );
        assert_eq!(
            list_args(&os(&["runner", "--flag"])).unwrap_err(),
            "the process taken for nextest (`runner`) does not run `cargo nextest run …`"
        );
    }

    #[test]
    fn the_list_s_matching_tests_of_this_binary_are_selected_in_the_binary_s_order() {
        let json = br#"{"rust-suites": {
            "ws::suite": {"testcases": {
                "steps::b": {"filter-match": {"status": "matches"}},
                "steps::a": {"filter-match": {"status": "mismatch", "reason": "expression"}},
                "steps::c": {"filter-match": {"status": "matches"}}}},
            "ws::other": {"testcases": {"steps::a": {"filter-match": {"status": "matches"}}}}}}"#;
        let names = ["steps::a", "steps::b", "steps::c"].map(String::from);
        assert_eq!(
            matching(json, "ws::suite", &names),
            Ok(Selected::Only(vec![
                "steps::b".to_owned(),
                "steps::c".to_owned()
            ]))
        );
        assert_eq!(matching(json, "ws::other", &names[..1]), Ok(Selected::All));
        assert_eq!(
            matching(json, "ws::gone", &names),
            Err("`cargo nextest list` does not list binary `ws::gone`".to_owned())
        );
        assert_eq!(
            matching(json, "ws::other", &names[1..]),
            Err("`cargo nextest list` selects none of binary `ws::other`'s tests".to_owned())
        );
    }
}

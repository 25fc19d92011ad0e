//! What the crate's own tests share: how a test whose subject is missing
//! (a Docker Engine, a client program) skips, or fails under CI.

use std::io::Write as _;

/// Whether `ci` (the value of `CI`) marks a CI run: set to anything but
/// empty, `0` or `false` (CI services set `CI=true`).
pub(crate) fn under_ci(ci: Option<&str>) -> bool {
    ci.is_some_and(|value| !matches!(value, "" | "0" | "false"))
}

/// The running test cannot run here: `why` says what is missing, `remedy`
/// what provides it. Under CI the test fails; elsewhere it prints
/// `ignored: <test>: …` past the output capture, and the caller returns.
pub(crate) fn unavailable(why: &str, remedy: &str) {
    assert!(
        !under_ci(std::env::var("CI").ok().as_deref()),
        "{why}; {remedy}; outside CI this test skips"
    );
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "ignored: {test}: {why}; {remedy}");
}

#[test]
fn ci_is_any_value_of_ci_but_empty_0_and_false() {
    let runs: Vec<bool> = [
        None,
        Some(""),
        Some("0"),
        Some("false"),
        Some("true"),
        Some("1"),
    ]
    .into_iter()
    .map(under_ci)
    .collect();
    assert_eq!(runs, [false, false, false, false, true, true]);
}

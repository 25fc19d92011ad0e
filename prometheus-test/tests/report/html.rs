//! The HTML report opened in headless Chromium: the DOM after its script ran,
//! and a screenshot kept under target/tmp/report/html/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::record::{html, sample};
use crate::tools::{artifact_dir, ensure, ignored, large_record, run};

const LIMIT: Duration = Duration::from_secs(120);

fn chromium(test: &str) -> Option<PathBuf> {
    match ensure("ensure_chromium", "PROMETHEUS_TEST_CHROMIUM") {
        Ok(path) => Some(path),
        Err(why) => {
            ignored(test, &format!("no headless Chromium: {why}"));
            None
        }
    }
}

/// Chromium as the tests run it: headless, as root, no network features, a
/// fresh profile.
fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

fn url(file: &Path, fragment: &str) -> String {
    format!("file://{}#{fragment}", file.display())
}

/// The DOM once the page's script ran, and how long Chromium took.
fn dump_dom(chromium: &Path, dir: &Path, file: &Path, fragment: &str) -> (String, Duration) {
    let profile = tempfile::tempdir_in(dir).expect("profile directory");
    let start = Instant::now();
    let output = run(
        browser(chromium, profile.path())
            .arg("--dump-dom")
            .arg(url(file, fragment)),
        LIMIT,
    );
    let took = start.elapsed();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (String::from_utf8(output.stdout).expect("UTF-8 DOM"), took)
}

fn screenshot(chromium: &Path, dir: &Path, file: &Path, fragment: &str, png: &Path) {
    let profile = tempfile::tempdir_in(dir).expect("profile directory");
    let output = run(
        browser(chromium, profile.path())
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=1400,900")
            .arg("--hide-scrollbars")
            .arg(url(file, fragment)),
        LIMIT,
    );
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::read(png).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(bytes.len() > 20_000, "a blank page? {} bytes", bytes.len());
}

/// The value of `data-NAME` on the body.
fn body_data(dom: &str, name: &str) -> String {
    let start = dom.find("<body").expect("a body");
    let tag = &dom[start..start + dom[start..].find('>').expect("tag end")];
    let key = format!("data-{name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {key} on <body>: {tag}"));
    let rest = &tag[at + key.len()..];
    rest[..rest.find('"').expect("quote")].to_owned()
}

/// The inner text of the element that opens with `open` (up to the first
/// `</aside>`, which closes the step panel).
fn panel(dom: &str) -> &str {
    let start = dom.find("<aside id=\"detail\"").expect("the step panel");
    &dom[start..start + dom[start..].find("</aside>").expect("panel end")]
}

#[test]
fn the_small_report_shows_the_grid_timeline_and_clicked_step() {
    let Some(chromium) = chromium("the_small_report_shows_the_grid_timeline_and_clicked_step")
    else {
        return;
    };
    let dir = artifact_dir("html");
    let file = dir.join("small.html");
    std::fs::write(&file, html::render(&sample::small(true))).expect("write the report");

    let (dom, _) = dump_dom(&chromium, &dir, &file, "step=round3/steps::audit[worker2]");
    assert_eq!(
        body_data(&dom, "ready"),
        "true",
        "the script ran to its end"
    );
    // Grid: 3 rounds x 4 steps; round 3's audit failed (and is selected) and
    // its distribution was skipped.
    assert_eq!(dom.matches("<td class=\"cell ").count(), 12);
    assert_eq!(dom.matches("<td class=\"cell pass\"").count(), 10);
    assert_eq!(
        dom.matches("<td class=\"cell skip\" data-step=\"round3/steps::distribution[leader]\"")
            .count(),
        1
    );
    assert_eq!(
        dom.matches("<td class=\"cell fail selected\" data-step=\"round3/steps::audit[worker2]\"")
            .count(),
        1
    );
    assert_eq!(dom.matches("<td class=\"cell none\"").count(), 0);
    // Failures first.
    assert!(dom.contains(
        "<a href=\"#step=round3/steps::audit[worker2]\">round 3 · steps::audit on worker2</a>"
    ));
    // Round 3's timeline is open: one lane per worker, a bar per step, and
    // worker2's exit.
    assert_eq!(dom.matches("<details class=\"round\"").count(), 3);
    assert_eq!(
        dom.matches("<details class=\"round\" data-round=\"3\" open=\"\"")
            .count(),
        1
    );
    for worker in ["worker1", "worker2", "leader"] {
        assert_eq!(
            dom.matches(&format!("<div class=\"lane\" data-worker=\"{worker}\">"))
                .count(),
            1,
            "{worker}'s lane"
        );
    }
    assert_eq!(dom.matches("<div class=\"bar ").count(), 4);
    assert!(
        dom.contains("<span class=\"event exited\""),
        "worker2's exit mark"
    );
    // The clicked step: its error, its exchange with decoded payloads and
    // their signers, its worker's log.
    let panel = panel(&dom);
    assert!(panel.contains("data-step=\"round3/steps::audit[worker2]\""));
    assert!(panel.contains("<pre class=\"error mono\">audit of round 3 failed: HTTP 500 from worker2\ncaused by: submission for round 3 not found (token [redacted: env GITHUB_TOKEN])</pre>"), "{panel}");
    assert!(
        panel.contains("<span class=\"status bad\">500</span> POST http://127.0.0.1:40222/audit/3")
    );
    assert!(
        panel.contains("signed payload at request/signature — verified: signed by worker2 ("),
        "{panel}"
    );
    assert!(panel.contains("signed payload at request/proof — not verified by any known key"));
    assert!(
        panel.contains("&quot;action&quot;: &quot;audit&quot;")
            || panel.contains("\"action\": \"audit\""),
        "{panel}"
    );
    assert!(
        panel.contains("<span class=\"err\">MongoServerError: no submission in round 3\n</span>")
    );

    screenshot(
        &chromium,
        &dir,
        &file,
        "step=round3/steps::audit[worker2]",
        &dir.join("small.png"),
    );
    eprintln!("screenshot: {}", dir.join("small.png").display());
}

#[test]
fn a_report_of_20_workers_50_rounds_15_steps_opens_whole() {
    let Some(chromium) = chromium("a_report_of_20_workers_50_rounds_15_steps_opens_whole") else {
        return;
    };
    let dir = artifact_dir("html-large");
    let small = dir.join("small.html");
    std::fs::write(&small, html::render(&sample::small(true))).expect("write");
    let file = dir.join("large.html");
    let text = html::render(large_record());
    std::fs::write(&file, &text).expect("write the report");

    let fragment = "step=round25/steps::step_03[worker4]";
    let (dom, took) = dump_dom(&chromium, &dir, &file, fragment);
    let (_, small_took) = dump_dom(&chromium, &dir, &small, "");
    assert_eq!(body_data(&dom, "ready"), "true");
    assert_eq!(dom.matches("<td class=\"cell ").count(), 50 * 15);
    assert_eq!(dom.matches("<td class=\"cell fail selected\"").count(), 1);
    assert_eq!(dom.matches("<details class=\"round\"").count(), 50);
    // Only the opened round's timeline is drawn.
    assert_eq!(dom.matches("<div class=\"lane\"").count(), 20);
    assert_eq!(dom.matches("<div class=\"bar ").count(), 15);
    let panel = panel(&dom);
    assert!(panel.contains("step_03 failed in round 25"));
    assert_eq!(panel.matches("<details class=\"exchange\"").count(), 2);
    eprintln!(
        "20x50x15 report: {} bytes ({} KiB); script done at {} ms after navigation \
         (small report: {} ms); chromium --dump-dom wall time {:?} (small report: {:?})",
        text.len(),
        text.len() / 1024,
        body_data(&dom, "render-ms"),
        body_data(&dump_dom(&chromium, &dir, &small, "").0, "render-ms"),
        took,
        small_took,
    );
    screenshot(&chromium, &dir, &file, fragment, &dir.join("large.png"));
}

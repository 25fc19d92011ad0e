//! The HTML report: one self-contained file (inline CSS and JS, no fonts or
//! requests), the run's data embedded once as JSON and drawn by a small script.
//!
//! Layout: a header (task id, rounds, workers, start, duration, fresh or
//! resumed), then the failures (links), the rounds × steps grid (one cell
//! per step per round: pass, fail or skip, with its duration) and one
//! timeline per round (a lane per worker, step bars to scale, worker start,
//! stop, pause and exit marks, a mark for each fault on the lane of the
//! worker it struck or its link reaches, and the gaps a worker was stopped
//! or paused hatched over the bars; drawn when the round is opened). While a
//! step is open its panel stands on the right (its error, the worker changes
//! it made, the faults it met, HTTP exchanges with decoded payloads, worker
//! log); without one the
//! grid and timelines take the page's width.
//! The fragment `#step=round3/steps::audit[worker2]` (the round, the test
//! name, its worker) or `#step=round3/steps::audit` (the test name as the test
//! output prints it) opens a step, `#round=3` a round's timeline; without one
//! the first failure is shown. The data is the record plus a
//! [`View`] of it.
//!
//! A long run's older rounds have their exchanges and log lines in files in
//! a folder beside the page ([`super::detail`]); the page adds a round's
//! file as a `<script>` when one of its steps is opened, so it still opens
//! from disk, without a server, and its first screen does not wait for them.

use std::fmt::Write as _;

use super::junit::iso8601;
use super::model::{Outcome, RunRecord, RunStart};
use super::text::{script_safe_json, xml_escaped};
use super::view::{ReportData, View};

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The run as one HTML document, for a page whose rounds' detail folder
/// is `report-data` beside it.
#[cfg(test)]
pub(crate) fn render(record: &RunRecord) -> String {
    render_with_detail_in(record, "report-data")
}

/// The run as one HTML document; rounds whose detail is in files load them
/// from `detail_folder`, relative to the page.
pub(crate) fn render_with_detail_in(record: &RunRecord, detail_folder: &str) -> String {
    let spilled = record.rounds.iter().any(|round| round.detail.is_some());
    let data = serde_json::to_string(&ReportData {
        run: record,
        view: View::of(record),
        detail_folder: spilled.then_some(detail_folder),
    })
    .unwrap_or_else(|_| "{}".to_owned());
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (_, step) in record.steps() {
        match step.outcome {
            Outcome::Passed { .. } => passed += 1,
            Outcome::Failed { .. } | Outcome::Interrupted { .. } => failed += 1,
            Outcome::Skipped { .. } => skipped += 1,
        }
    }
    let start = match &record.start {
        RunStart::Fresh => "fresh".to_owned(),
        RunStart::Resumed { round, step: None } => format!("resumed at round {round}"),
        RunStart::Resumed {
            round,
            step: Some(step),
        } => format!("resumed at round {round}, step {step}"),
    };
    let task = xml_escaped(&record.task_id);
    let mut out = String::with_capacity(data.len() + CSS.len() + JS.len() + 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{status} · {task} · prometheus-test</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <header class=\"run\">\n<h1>{task}</h1>\n\
         <span class=\"fact\" id=\"rounds\"><b>rounds</b>{rounds}</span>\n\
         <span class=\"fact\" id=\"workers\"><b>workers</b>{workers}</span>\n\
         <span class=\"fact\" id=\"started\"><b>started</b>{started} UTC</span>\n\
         <span class=\"fact\" id=\"duration\"><b>duration</b>{duration}</span>\n\
         <span class=\"fact\" id=\"start\"><b>run</b>{start}</span>\n\
         <span class=\"totals\"><span class=\"pass\">{passed} passed</span><span class=\"fail\">{failed} failed</span><span class=\"skip\">{skipped} skipped</span></span>\n\
         </header>\n<noscript><p>This report draws its grid, timelines and steps with JavaScript; turn it on to see them.</p></noscript>\n\
         <div class=\"layout\">\n<main>\n\
         <section id=\"failures\"><h2>Failures</h2><ul></ul></section>\n\
         <section><h2>Rounds × steps</h2><div class=\"grid-wrap\"><table class=\"grid\" id=\"grid\"><thead></thead><tbody></tbody></table></div></section>\n\
         <section><h2>Timelines</h2><div id=\"timelines\"></div></section>\n\
         </main>\n<aside id=\"detail\"><p class=\"empty\">Click a step in the grid or a timeline.</p></aside>\n</div>\n\
         <script type=\"application/json\" id=\"run-data\">{data}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        status = if failed > 0 { "FAILED" } else { "passed" },
        rounds = record.rounds.len(),
        workers = record.workers.len(),
        started = iso8601(record.started_at_unix_ms).replace('T', " "),
        duration = duration(record.duration_ms),
        start = xml_escaped(&start),
        data = script_safe_json(&data),
    );
    out
}

/// Where the embedded data of a rendered report starts and ends.
#[cfg(test)]
fn data_span(html: &str) -> (usize, usize) {
    let open = "<script type=\"application/json\" id=\"run-data\">";
    let start = html.find(open).expect("the data element") + open.len();
    (
        start,
        start + html[start..].find("</script>").expect("its end"),
    )
}

/// The run data a rendered report embeds, as JSON.
#[cfg(test)]
pub(crate) fn embedded_data(html: &str) -> serde_json::Value {
    let (start, end) = data_span(html);
    serde_json::from_str(&html[start..end]).expect("JSON data")
}

/// A rendered report with its style, script and data left out (a comment or
/// `…` in their place), to compare the page around them whole.
#[cfg(test)]
pub(crate) fn skeleton(html: &str) -> String {
    let (start, end) = data_span(html);
    format!("{}…{}", &html[..start], &html[end..])
        .replacen(CSS, "/* report.css */\n", 1)
        .replacen(JS, "/* report.js */\n", 1)
}

fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{}.{:01}s", secs, ms % 1000 / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::golden::assert_golden;
    use crate::record::model::{RoundRecord, StepRecord};
    use crate::record::sample;

    fn record(task_id: &str, message: &str) -> RunRecord {
        RunRecord {
            task_id: task_id.into(),
            started_at_unix_ms: 0,
            duration_ms: 61_500,
            start: RunStart::Resumed {
                round: 2,
                step: Some("steps::audit".into()),
            },
            workers: vec![],
            rounds: vec![RoundRecord {
                number: 2,
                steps: vec![StepRecord {
                    path: "steps::audit".into(),
                    worker: "worker2".into(),
                    started_ms: 0,
                    duration_ms: 5,
                    outcome: Outcome::failed(message),
                    exchanges: vec![],
                    log: vec![],
                    faults: vec![],
                }],
                detail: None,
            }],
            step_order: vec![],
            faults_between_steps: vec![],
            detail_dir: None,
            detail_problems: vec![],
        }
    }

    #[test]
    fn the_header_is_escaped_and_the_data_cannot_end_the_script() {
        let message = "</script><script>alert(1)</script>";
        let html = render(&record("<task&1>", message));
        assert_eq!(
            skeleton(&html),
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>FAILED · &lt;task&amp;1&gt; · prometheus-test</title>\n\
             <style>\n/* report.css */\n</style>\n</head>\n<body>\n\
             <header class=\"run\">\n<h1>&lt;task&amp;1&gt;</h1>\n\
             <span class=\"fact\" id=\"rounds\"><b>rounds</b>1</span>\n\
             <span class=\"fact\" id=\"workers\"><b>workers</b>0</span>\n\
             <span class=\"fact\" id=\"started\"><b>started</b>1970-01-01 00:00:00 UTC</span>\n\
             <span class=\"fact\" id=\"duration\"><b>duration</b>1m 01s</span>\n\
             <span class=\"fact\" id=\"start\"><b>run</b>resumed at round 2, step steps::audit</span>\n\
             <span class=\"totals\"><span class=\"pass\">0 passed</span><span class=\"fail\">1 failed</span>\
             <span class=\"skip\">0 skipped</span></span>\n\
             </header>\n<noscript><p>This report draws its grid, timelines and steps with JavaScript; \
             turn it on to see them.</p></noscript>\n\
             <div class=\"layout\">\n<main>\n\
             <section id=\"failures\"><h2>Failures</h2><ul></ul></section>\n\
             <section><h2>Rounds × steps</h2><div class=\"grid-wrap\"><table class=\"grid\" id=\"grid\">\
             <thead></thead><tbody></tbody></table></div></section>\n\
             <section><h2>Timelines</h2><div id=\"timelines\"></div></section>\n\
             </main>\n<aside id=\"detail\"><p class=\"empty\">Click a step in the grid or a timeline.</p>\
             </aside>\n</div>\n\
             <script type=\"application/json\" id=\"run-data\">…</script>\n<script>\n/* report.js */\n\
             </script>\n</body>\n</html>\n"
        );
        // The message ends no element: the data reads back whole.
        let data = embedded_data(&html);
        assert_eq!(
            data["rounds"][0]["steps"][0]["outcome"],
            serde_json::json!({"kind": "failed", "message": message})
        );
    }

    #[test]
    fn the_small_run_is_the_golden_report() {
        let html = render(&sample::small(true));
        assert_golden("small.report.html", &skeleton(&html));
        let data = serde_json::to_string_pretty(&embedded_data(&html)).expect("JSON");
        assert_golden("small.report-data.json", &format!("{data}\n"));
    }

    #[test]
    fn a_faulted_run_is_the_golden_report_data_without_the_planted_token() {
        let html = render(&sample::faulted());
        assert!(
            !html.contains(sample::PLANTED.token),
            "the report holds the token"
        );
        let data = serde_json::to_string_pretty(&embedded_data(&html)).expect("JSON");
        assert_golden("faulted.report-data.json", &format!("{data}\n"));
    }

    #[test]
    fn nothing_is_fetched() {
        let html = render(&record("t", "x"));
        for needle in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(needle), "{needle} in the report");
        }
    }
}

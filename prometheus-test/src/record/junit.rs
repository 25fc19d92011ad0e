//! `JUnit` XML, as CI servers read it (Jenkins' `junit-4.xsd`).
//!
//! One `<testsuite>` named after the task; one `<testcase>` per step per
//! round, `classname` the round (`round 2`) and `name` the step's path.
//! A skipped step holds `<skipped>` with its reason, a failed one `<failure>`
//! with its message. Every step that made requests or logged has a
//! `<system-out>` with all of its exchanges and worker log lines.

use std::fmt::Write as _;

use super::excerpt::{ExcerptLimits, failure_excerpt};
use super::model::{Outcome, RunRecord, RunStart};
use super::text::{push_xml_escaped, seconds, xml_escaped};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// The run as a `JUnit` XML document.
pub(crate) fn render(record: &RunRecord) -> String {
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for (_, step) in record.steps() {
        tests += 1;
        match step.outcome {
            Outcome::Passed => {}
            Outcome::Failed { .. } => failures += 1,
            Outcome::Skipped { .. } => skipped += 1,
        }
    }
    let time = seconds(record.duration_ms);
    let name = xml_escaped(&record.task_id);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\" timestamp=\"{}\">",
        iso8601(record.started_at_unix_ms)
    );
    out.push_str("    <properties>\n");
    let start = match &record.start {
        RunStart::Fresh => "fresh".to_owned(),
        RunStart::Resumed { round, step: None } => format!("resumed at round {round}"),
        RunStart::Resumed {
            round,
            step: Some(step),
        } => format!("resumed at round {round}, step {step}"),
    };
    push_property(&mut out, "task_id", &record.task_id);
    push_property(&mut out, "start", &start);
    let workers: Vec<&str> = record.workers.iter().map(|w| w.name.as_str()).collect();
    push_property(&mut out, "workers", &workers.join(" "));
    out.push_str("    </properties>\n");
    for (round, step) in record.steps() {
        let _ = write!(
            out,
            "    <testcase classname=\"round {round}\" name=\"{}\" time=\"{}\">",
            xml_escaped(&step.path),
            seconds(step.duration_ms)
        );
        match &step.outcome {
            Outcome::Passed => {}
            Outcome::Skipped { reason } => {
                out.push_str("\n      <skipped>");
                push_xml_escaped(&mut out, reason);
                out.push_str("</skipped>");
            }
            Outcome::Failed { message } => {
                let first_line = message.lines().next().unwrap_or_default();
                let _ = write!(
                    out,
                    "\n      <failure type=\"step failed\" message=\"{}\">",
                    xml_escaped(first_line)
                );
                push_xml_escaped(&mut out, message);
                out.push_str("</failure>");
            }
        }
        let transcript = failure_excerpt(step, ExcerptLimits::COMPLETE);
        if !transcript.is_empty() {
            let _ = write!(
                out,
                "\n      <system-out>step {} on {}\n",
                step.path, step.worker
            );
            push_xml_escaped(&mut out, &transcript);
            out.push_str("</system-out>");
        }
        out.push_str("\n    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn push_property(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        out,
        "      <property name=\"{name}\" value=\"{}\"/>",
        xml_escaped(value)
    );
}

/// `2026-12-01T04:16:05` (UTC, no zone: the form `JUnit`'s `timestamp` uses).
pub(crate) fn iso8601(unix_ms: u64) -> String {
    let seconds = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
    let at = OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or_else(|_| PrimitiveDateTime::MAX.assume_utc());
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::golden::assert_golden;
    use crate::record::sample;

    #[test]
    fn the_small_run_is_the_golden_junit() {
        assert_golden("small.junit.xml", &render(&sample::small(true)));
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00");
        assert_eq!(iso8601(1_796_098_565_123), "2026-12-01T04:16:05");
    }
}

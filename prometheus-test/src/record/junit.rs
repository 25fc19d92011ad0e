//! `JUnit` XML, as CI servers read it (Jenkins' `junit-4.xsd`).
//!
//! One `<testsuite>` named after the task; one `<testcase>` per step per
//! round, `classname` the round (`round 2`) and `name` the step's path.
//! A skipped step holds `<skipped>` with its reason, a failed one `<failure>`
//! with its message. Every step that met faults, made requests or logged has
//! a `<system-out>`: a `fault: runner->worker2 POST /audit/2 reset` line for
//! each fault, then all of its exchanges and worker log lines (read back one
//! round at a time for rounds whose detail is in files). Faults between
//! steps are lines of the suite's own `<system-out>`.

use std::fmt::Write as _;

use super::detail::{DetailFolder, StepDetail};
use super::excerpt::{ExcerptLimits, failure_excerpt};
use super::model::{Fault, Outcome, RoundRecord, RunRecord, RunStart};
use super::text::{push_xml_escaped, seconds, xml_escaped};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// The run as a `JUnit` XML document.
#[cfg(test)]
pub(crate) fn render(record: &RunRecord) -> String {
    let mut out = Vec::new();
    write(record, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// Writes the run as a `JUnit` XML document to `out`, one round at a time: a
/// round whose detail is in a file is read back for its steps' transcripts.
/// Problems reading detail back (the steps keep their results, without
/// transcripts) are returned as notes.
pub(crate) fn write(
    record: &RunRecord,
    out: &mut impl std::io::Write,
) -> std::io::Result<Vec<String>> {
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for (_, step) in record.steps() {
        tests += 1;
        match step.outcome {
            Outcome::Passed { .. } => {}
            Outcome::Failed { .. } | Outcome::Interrupted { .. } => failures += 1,
            Outcome::Skipped { .. } => skipped += 1,
        }
    }
    let time = seconds(record.duration_ms);
    let name = xml_escaped(&record.task_id);
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        text,
        "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(
        text,
        "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\" timestamp=\"{}\">",
        iso8601(record.started_at_unix_ms)
    );
    text.push_str("    <properties>\n");
    let start = match &record.start {
        RunStart::Fresh => "fresh".to_owned(),
        RunStart::Resumed { round, step: None } => format!("resumed at round {round}"),
        RunStart::Resumed {
            round,
            step: Some(step),
        } => format!("resumed at round {round}, step {step}"),
    };
    push_property(&mut text, "task_id", &record.task_id);
    push_property(&mut text, "start", &start);
    let workers: Vec<&str> = record.workers.iter().map(|w| w.name.as_str()).collect();
    push_property(&mut text, "workers", &workers.join(" "));
    text.push_str("    </properties>\n");
    let mut notes = Vec::new();
    for round in &record.rounds {
        match with_detail(record, round) {
            Ok(Some(round)) => push_testcases(&mut text, &round),
            Ok(None) => push_testcases(&mut text, round),
            Err(note) => {
                notes.push(note);
                push_testcases(&mut text, round);
            }
        }
        out.write_all(text.as_bytes())?;
        text.clear();
    }
    if !record.faults_between_steps.is_empty() {
        text.push_str("    <system-out>");
        for fault in &record.faults_between_steps {
            let _ = writeln!(text, "round {} {}:", fault.round, fault.step);
            push_fault(&mut text, fault);
        }
        text.push_str("</system-out>\n");
    }
    text.push_str("  </testsuite>\n</testsuites>\n");
    out.write_all(text.as_bytes())?;
    Ok(notes)
}

/// `round` with its detail read back from its file, when it has one.
fn with_detail(record: &RunRecord, round: &RoundRecord) -> Result<Option<RoundRecord>, String> {
    let (Some(name), Some(dir)) = (&round.detail, &record.detail_dir) else {
        return Ok(None);
    };
    let cannot = |err: &dyn std::fmt::Display| {
        format!(
            "the JUnit report has no transcripts for round {}: {err}",
            round.number
        )
    };
    let steps: Vec<StepDetail> = DetailFolder::at(dir).read(name).map_err(|e| cannot(&e))?;
    if steps.len() != round.steps.len() {
        return Err(cannot(&format!(
            "{} holds {} steps, the round played {}",
            dir.join(name).display(),
            steps.len(),
            round.steps.len()
        )));
    }
    let mut full = round.clone();
    for (step, detail) in full.steps.iter_mut().zip(steps) {
        detail.restore(step);
    }
    Ok(Some(full))
}

/// A `<testcase>` for each step of `round`.
fn push_testcases(out: &mut String, round: &RoundRecord) {
    for step in &round.steps {
        let _ = write!(
            out,
            "    <testcase classname=\"round {}\" name=\"{}\" time=\"{}\">",
            round.number,
            xml_escaped(&step.path),
            seconds(step.duration_ms)
        );
        match &step.outcome {
            Outcome::Passed { .. } => {}
            Outcome::Skipped { reason } => {
                out.push_str("\n      <skipped>");
                push_xml_escaped(out, reason);
                out.push_str("</skipped>");
            }
            Outcome::Failed { .. } | Outcome::Interrupted { .. } => {
                let message = step.outcome.failure().unwrap_or_default();
                let first_line = message.lines().next().unwrap_or_default();
                let _ = write!(
                    out,
                    "\n      <failure type=\"step failed\" message=\"{}\">",
                    xml_escaped(first_line)
                );
                push_xml_escaped(out, &message);
                out.push_str("</failure>");
            }
        }
        let transcript = failure_excerpt(step, ExcerptLimits::COMPLETE);
        if !transcript.is_empty() || !step.faults.is_empty() {
            out.push_str("\n      <system-out>");
            push_xml_escaped(out, &format!("step {} on {}\n", step.path, step.worker));
            for fault in &step.faults {
                push_fault(out, fault);
            }
            push_xml_escaped(out, &transcript);
            out.push_str("</system-out>");
        }
        out.push_str("\n    </testcase>\n");
    }
}

/// `fault: runner->worker2 POST /audit/2 reset, ended reset`, with the
/// attempt when it was a retry's, as a line.
fn push_fault(out: &mut String, fault: &Fault) {
    let line = match fault.attempt {
        0 => format!("fault: {fault}\n"),
        retry => format!("fault (attempt {}): {fault}\n", retry.saturating_add(1)),
    };
    push_xml_escaped(out, &line);
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
    fn a_faulted_run_lists_its_faults_in_the_golden_junit() {
        let xml = render(&sample::faulted());
        assert!(
            !xml.contains(sample::PLANTED.token),
            "the JUnit holds the token"
        );
        assert_golden("faulted.junit.xml", &xml);
    }

    #[test]
    fn rounds_with_their_detail_in_files_have_the_same_junit_as_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let in_files = sample::large_with_detail_in(3, 12, 4, Some(dir.path()));
        assert_eq!(
            in_files.rounds[0].detail.as_deref(),
            Some("round-000001.js"),
            "the first round's detail is in a file"
        );
        let mut out = Vec::new();
        let notes = write(&in_files, &mut out).unwrap();
        assert_eq!(notes, Vec::<String>::new());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            render(&sample::large(3, 12, 4))
        );
    }

    #[test]
    fn a_missing_detail_file_is_a_note_and_its_steps_keep_their_results() {
        let dir = tempfile::tempdir().unwrap();
        let in_files = sample::large_with_detail_in(1, 10, 1, Some(dir.path()));
        std::fs::remove_file(dir.path().join("round-000002.js")).unwrap();
        let mut out = Vec::new();
        let notes = write(&in_files, &mut out).unwrap();
        let missing = dir.path().join("round-000002.js");
        assert_eq!(
            notes,
            [format!(
                "the JUnit report has no transcripts for round 2: {}",
                std::fs::read(&missing).unwrap_err()
            )]
        );
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(xml.matches("<testcase ").count(), 10);
        assert_eq!(xml.matches("<system-out>").count(), 9);
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00");
        assert_eq!(iso8601(1_796_098_565_123), "2026-12-01T04:16:05");
    }
}

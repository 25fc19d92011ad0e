//! The outputs of a run, each a [`Writer`] on the event stream: this is the
//! one place that lists them. A new output is a new module here and a line
//! in [`for_run`].

mod libtest;
mod notes;
mod progress;
mod record;

pub(crate) use self::libtest::failure_text;
pub(crate) use self::record::ReportPaths;

use super::cli::Format;
use crate::events::{Clock, Events, Tee, Writer};

/// Where a run's text goes.
pub(crate) struct Outputs {
    /// The libtest output (stdout).
    pub(crate) out: Box<dyn std::io::Write + Send>,
    /// Notes (stderr).
    pub(crate) notes: Box<dyn std::io::Write + Send>,
    /// The live line of a long step, when one can be drawn (stderr on a terminal).
    pub(crate) screen: Option<Box<dyn std::io::Write + Send>>,
    /// How measured times are shown.
    pub(crate) clock: Clock,
}

/// The writers of a run in `format`: the recording stage (the record behind
/// the reports, and the failure excerpt) in front of the libtest output, the
/// notes, the live line and `extra` (a nextest coordinator's results).
pub(crate) fn for_run(
    format: Format,
    outputs: Outputs,
    reports: ReportPaths,
    extra: Option<Box<dyn Writer>>,
) -> Events {
    let mut shown: Vec<Box<dyn Writer>> = vec![
        Box::new(libtest::Libtest::new(format, outputs.out, outputs.clock)),
        Box::new(notes::Notes::new(
            outputs.notes,
            format == Format::Json,
            outputs.clock,
        )),
    ];
    if let Some(screen) = outputs
        .screen
        .filter(|_| progress::on_terminal(format == Format::Pretty))
    {
        shown.push(Box::new(progress::Progress::new(screen)));
    }
    shown.extend(extra);
    Events::new(Box::new(record::Record::new(reports, Tee(shown))))
}

/// The recording stage alone on `recorder` (detail files beside
/// `data_dir/report.html`), handing what it passes on to `next`.
fn recording_stage(
    recorder: std::sync::Arc<crate::record::shared::SharedRecorder>,
    data_dir: &std::path::Path,
    next: Box<dyn Writer>,
) -> Events {
    let events = Events::new(Box::new(record::Record::new(
        ReportPaths::default(),
        Tee(vec![next]),
    )));
    events.emit(&crate::events::Event::Recording {
        recorder,
        data_dir: data_dir.to_path_buf(),
    });
    events
}

/// An [`Http`](crate::Http) on `client` whose exchanges are recorded as a
/// run's are, into a run of its own with a step of `worker1` running in
/// round 1: its redactor searches for the `workers`' keypairs and the
/// `secrets` (label, value), and signatures are attributed to the workers.
/// The `http_recording` bench's recording client; not public API.
#[must_use]
pub fn recording_in_a_step(
    client: reqwest::Client,
    workers: &[(&str, &crate::Keypair)],
    secrets: &[(&str, &str)],
) -> crate::Http {
    let mut redactor = crate::record::redact::Redactor::new();
    for (name, keypair) in workers {
        redactor.keypair(&format!("{name} staking keypair"), keypair);
    }
    for (label, value) in secrets {
        redactor.secret(label, value);
    }
    let keys: Vec<(String, Option<String>)> = workers
        .iter()
        .map(|(name, keypair)| ((*name).to_owned(), Some(keypair.public_key().to_owned())))
        .collect();
    let recorder = std::sync::Arc::new(crate::record::shared::SharedRecorder::new(
        "bench", &keys, redactor,
    ));
    let events = recording_stage(recorder, &std::env::temp_dir(), Box::new(Tee::default()));
    events.emit(&crate::events::Event::RoundStarted { round: 1 });
    events.emit(&crate::events::Event::StepStarted(crate::events::StepId {
        name: "steps::bench".to_owned(),
        round: 1,
        worker: "worker1".to_owned(),
    }));
    crate::Http::new(client, Some(events), crate::http::TimeLimit::by_default())
}

/// The recording stage alone on `recorder`, keeping what it passes on.
#[cfg(test)]
pub(crate) fn recording_for_tests(
    recorder: std::sync::Arc<crate::record::shared::SharedRecorder>,
    data_dir: &std::path::Path,
) -> (Events, crate::events::testing::Collect) {
    let seen = crate::events::testing::Collect::default();
    let events = recording_stage(recorder, data_dir, Box::new(seen.clone()));
    (events, seen)
}

/// Notes only, for what is said before the run's format is known (a bad
/// command line).
pub(crate) fn notes_only(notes: Box<dyn std::io::Write + Send>) -> Events {
    Events::new(Box::new(notes::Notes::new(notes, false, Clock::Real)))
}

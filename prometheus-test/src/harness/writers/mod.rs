//! The outputs of a run, each a [`Writer`] on the event stream: this is the
//! one place that lists them. A new output is a new module here and a line
//! in [`for_run`].

mod libtest;
mod notes;
mod progress;
mod record;

pub(crate) use self::libtest::failure_text;
pub(crate) use self::notes::counted;
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

/// Notes only, for what is said before the run's format is known (a bad
/// command line).
pub(crate) fn notes_only(notes: Box<dyn std::io::Write + Send>) -> Events {
    Events::new(Box::new(notes::Notes::new(notes, false, Clock::Real)))
}

//! The command line: libtest's flags (so `cargo test`, IDEs and debuggers
//! can drive the binary), plus `--reset`.

use std::ffi::OsString;

use libtest_mimic::{Arguments, FormatSetting};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pretty,
    Terse,
    Json,
}

/// The parsed command line.
#[derive(Debug)]
pub(crate) struct Cli {
    pub(crate) libtest: Arguments,
    /// `--reset` (or `PROMETHEUS_TEST_RESET=1`): start a fresh run.
    pub(crate) reset: bool,
}

impl Cli {
    /// Parses `args` (the program name first). Bad flags end the process
    /// with libtest's usage error, as any test binary does.
    pub(crate) fn parse_from(args: impl IntoIterator<Item = OsString>) -> Self {
        let mut reset = std::env::var_os("PROMETHEUS_TEST_RESET").is_some_and(|v| v == "1");
        let libtest_args: Vec<OsString> = args
            .into_iter()
            .filter(|arg| {
                let is_reset = arg == "--reset";
                reset |= is_reset;
                !is_reset
            })
            .collect();
        Self {
            libtest: Arguments::from_iter(libtest_args),
            reset,
        }
    }

    pub(crate) fn format(&self) -> Format {
        match self.libtest.format {
            Some(FormatSetting::Json) => Format::Json,
            Some(FormatSetting::Terse) => Format::Terse,
            _ if self.libtest.quiet => Format::Terse,
            _ => Format::Pretty,
        }
    }

    /// Worker logs are streamed live instead of captured per step.
    pub(crate) fn nocapture(&self) -> bool {
        self.libtest.nocapture || std::env::var_os("RUST_TEST_NOCAPTURE").is_some_and(|v| v != "0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::parse_from(
            std::iter::once("e2e")
                .chain(args.iter().copied())
                .map(OsString::from),
        )
    }

    #[test]
    fn accepts_what_ides_and_cargo_send() {
        let cli = parse(&[
            "steps::task::worker_task",
            "--exact",
            "--nocapture",
            "--include-ignored",
        ]);
        assert_eq!(
            cli.libtest.filter.as_deref(),
            Some("steps::task::worker_task")
        );
        assert!(cli.libtest.exact && cli.nocapture() && !cli.reset);
        let rustrover = parse(&[
            "--format=json",
            "-Z",
            "unstable-options",
            "--show-output",
            "name",
        ]);
        assert_eq!(rustrover.format(), Format::Json);
        assert_eq!(
            parse(&["-q", "--test-threads", "1"]).format(),
            Format::Terse
        );
        assert_eq!(
            parse(&["--list", "--format", "terse"]).format(),
            Format::Terse
        );
    }

    #[test]
    fn reset_is_ours_and_removed_before_libtest_parses() {
        let cli = parse(&["--reset", "audit"]);
        assert!(cli.reset);
        assert_eq!(cli.libtest.filter.as_deref(), Some("audit"));
    }
}

//! The command line of a suite binary: libtest's flags, as `cargo test`,
//! IDEs, debuggers and cargo-nextest send them to any test binary, plus this
//! harness's own (`--reset`, `--junit PATH`, `--report PATH`).
//!
//! libtest's rules: `--name value` or `--name=value`, `-Z value` or
//! `-Zvalue`, any number of filters (a step runs when one of them matches),
//! `--skip` as often as needed, and `--` ends the options. Flags that steer
//! what libtest does with threads, timing or output files are accepted and
//! have no effect here: the steps run one at a time, in order.

use std::ffi::OsString;
use std::path::PathBuf;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pretty,
    Terse,
    Json,
}

/// What the command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one field per switch of the command line, read where it matters"
)]
pub(crate) struct CommandLine {
    /// Name filters: substrings, or whole names with `exact`; empty ones dropped.
    pub(crate) filters: Vec<String>,
    /// `--exact`.
    pub(crate) exact: bool,
    /// `--skip FILTER`, each time it is given.
    pub(crate) skip: Vec<String>,
    /// `--ignored`: run only ignored tests (no step is ignored).
    pub(crate) ignored: bool,
    /// `--list`.
    pub(crate) list: bool,
    /// `--nocapture` (or `--no-capture`).
    pub(crate) nocapture: bool,
    /// `-q` / `--quiet`.
    pub(crate) quiet: bool,
    /// `--format`.
    pub(crate) format: Option<Format>,
    /// `--reset`.
    pub(crate) reset: bool,
    /// `--junit PATH` (the last one given; moved into the run control).
    pub(crate) junit: Option<PathBuf>,
    /// `--report PATH` (the last one given; moved into the run control).
    pub(crate) report: Option<PathBuf>,
    /// `--from POINT`: rewind to the snapshot before that step of that round.
    pub(crate) from: Option<String>,
    /// `--no-restore`: resume in the world the last run left.
    pub(crate) no_restore: bool,
    /// `--list-snapshots`.
    pub(crate) list_snapshots: bool,
    /// `--record MODE`: config.yaml's `recording.mode` for this run.
    pub(crate) record: Option<String>,
    /// `--seed N`: the seed of the run's faults.
    pub(crate) seed: Option<String>,
    /// `--watch` (or `PROMETHEUS_TEST_WATCH=1`): keep the world up, rerun on
    /// every change.
    pub(crate) watch: bool,
}

/// The outcome of reading the command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Run (or list) with these settings.
    Run(CommandLine),
    /// `-h` / `--help`: print [`USAGE`] and exit.
    Help,
}

/// What `--help` prints.
pub(crate) const USAGE: &str = "\
Usage: <suite binary> [OPTIONS] [FILTERS...]

Plays the suite's steps in order; a FILTER runs the steps whose names contain it
(the whole name with --exact) and stops after the last of them.

Options of this harness:
    --reset             Start a fresh run: re-import the fixtures, forget the saved state
    --junit PATH        Also write a JUnit XML report to PATH
    --report PATH       Also write the HTML report to PATH (data_dir/report.html is
                        always written)
    --from POINT        Rewind: restore the world before a step of a round, then play
                        on from there (POINT like 'round 2 steps::audit::check[worker3]')
    --no-restore        Resume in the world the last run left, not in the snapshot
                        taken before the step it stopped at
    --list-snapshots    List the snapshots --from can rewind to, with sizes, and exit
    --record MODE       The workers' calls to the outside world: replay (from the
                        cassettes only), record (tape what is missing), all (tape
                        everything again) or off
    --seed N            Draw the faults of config.yaml's `faults` from seed N (a run
                        prints its seed; the same seed draws the same faults)
    --watch             The edit loop: keep MongoDB, the services and the workers up,
                        play the selected steps, and on every change to the suite's
                        sources, config or fixtures rebuild and play them again in
                        the world restored from before them (q + Enter stops)

libtest's options:
    --exact             Match filters against whole step names
    --skip FILTER       Leave out the steps that FILTER matches (repeatable)
    --list              List the steps and exit
    --nocapture         Stream worker output live instead of capturing it per step
                        (also --no-capture)
    --format pretty|terse|json
                        Output format (-q is terse)
    -q, --quiet         One character per step
    --ignored           Run only ignored tests (no step is ignored)
    -h, --help          Show this help

Accepted and without effect (steps run one at a time, in order): --include-ignored,
--test, --bench, --show-output, --report-time, --ensure-time, --exclude-should-panic,
--force-run-in-process, --test-threads N, --color auto|always|never, --logfile PATH,
-Z unstable-options.
";

/// A point as `--from` takes it.
const FROM_EXAMPLE: &str = "round 2 steps::audit::audits_its_peer[worker3]";

/// Flags without a value.
#[derive(Clone, Copy)]
enum Switch {
    Exact,
    Ignored,
    List,
    Nocapture,
    Quiet,
    Reset,
    NoRestore,
    ListSnapshots,
    Watch,
    Help,
    NoEffect,
}

/// Flags that take a value.
#[derive(Clone, Copy)]
enum Valued {
    Skip,
    Format,
    Junit,
    Report,
    From,
    Record,
    Seed,
    TestThreads,
    Color,
    Unstable,
    Logfile,
}

/// Every flag without a value the parser accepts (each is in [`USAGE`]).
const SWITCHES: &[(&str, Switch)] = &[
    ("--exact", Switch::Exact),
    ("--ignored", Switch::Ignored),
    ("--list", Switch::List),
    ("--nocapture", Switch::Nocapture),
    ("--no-capture", Switch::Nocapture),
    ("-q", Switch::Quiet),
    ("--quiet", Switch::Quiet),
    ("--reset", Switch::Reset),
    ("--no-restore", Switch::NoRestore),
    ("--list-snapshots", Switch::ListSnapshots),
    ("--watch", Switch::Watch),
    ("-h", Switch::Help),
    ("--help", Switch::Help),
    ("--include-ignored", Switch::NoEffect),
    ("--test", Switch::NoEffect),
    ("--bench", Switch::NoEffect),
    ("--show-output", Switch::NoEffect),
    ("--report-time", Switch::NoEffect),
    ("--ensure-time", Switch::NoEffect),
    ("--exclude-should-panic", Switch::NoEffect),
    ("--force-run-in-process", Switch::NoEffect),
];

/// Every flag with a value the parser accepts (each is in [`USAGE`]).
const VALUED: &[(&str, Valued)] = &[
    ("--skip", Valued::Skip),
    ("--format", Valued::Format),
    ("--junit", Valued::Junit),
    ("--report", Valued::Report),
    ("--from", Valued::From),
    ("--record", Valued::Record),
    ("--seed", Valued::Seed),
    ("--test-threads", Valued::TestThreads),
    ("--color", Valued::Color),
    ("-Z", Valued::Unstable),
    ("--logfile", Valued::Logfile),
];

fn switch(name: &str) -> Option<Switch> {
    SWITCHES
        .iter()
        .find(|(flag, _)| *flag == name)
        .map(|(_, switch)| *switch)
}

fn valued(name: &str) -> Option<Valued> {
    VALUED
        .iter()
        .find(|(flag, _)| *flag == name)
        .map(|(_, valued)| *valued)
}

/// Reads `args` (the program name first). The error is one line naming the
/// argument and what was expected.
pub(crate) fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let mut command_line = CommandLine::default();
    let mut args = args.into_iter().skip(1).enumerate();
    let mut options_ended = false;
    while let Some((index, arg)) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|_| format!("argument {} is not valid UTF-8", index + 1))?;
        if options_ended || !arg.starts_with('-') || arg == "-" {
            command_line.filters.push(arg);
            continue;
        }
        if arg == "--" {
            options_ended = true;
            continue;
        }
        // `--name=value`, or `-Zvalue`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ if arg.starts_with("-Z") && arg.len() > 2 => ("-Z", Some(arg[2..].to_owned())),
            _ => (arg.as_str(), None),
        };
        if let Some(flag) = switch(name) {
            if inline.is_some() {
                return Err(format!("`{name}` takes no value"));
            }
            match flag {
                Switch::Exact => command_line.exact = true,
                Switch::Ignored => command_line.ignored = true,
                Switch::List => command_line.list = true,
                Switch::Nocapture => command_line.nocapture = true,
                Switch::Quiet => command_line.quiet = true,
                Switch::Reset => command_line.reset = true,
                Switch::NoRestore => command_line.no_restore = true,
                Switch::ListSnapshots => command_line.list_snapshots = true,
                Switch::Watch => command_line.watch = true,
                Switch::Help => return Ok(Parsed::Help),
                Switch::NoEffect => {}
            }
            continue;
        }
        let Some(flag) = valued(name) else {
            return Err(format!(
                "unrecognized option `{name}` (`--help` lists the options)"
            ));
        };
        let value = match inline {
            Some(value) => value,
            None => match args.next() {
                Some((index, value)) => value
                    .into_string()
                    .map_err(|_| format!("argument {} is not valid UTF-8", index + 1))?,
                None => return Err(format!("`{name}` needs a value")),
            },
        };
        match flag {
            Valued::Skip => command_line.skip.push(value),
            Valued::Format => command_line.format = Some(format_named(&value)?),
            Valued::Junit => command_line.junit = Some(PathBuf::from(value)),
            Valued::Report => command_line.report = Some(PathBuf::from(value)),
            Valued::From if value.trim().is_empty() => {
                return Err(format!(
                    "`--from` is empty; expected a point `round N STEP`, like `{FROM_EXAMPLE}`"
                ));
            }
            Valued::From => command_line.from = Some(value),
            Valued::Record => command_line.record = Some(value),
            Valued::Seed => command_line.seed = Some(value),
            Valued::TestThreads => {
                if !value.parse::<usize>().is_ok_and(|threads| threads > 0) {
                    return Err(format!(
                        "`--test-threads` is `{value}`, expected a whole number above 0"
                    ));
                }
            }
            Valued::Color => {
                if !matches!(value.as_str(), "auto" | "always" | "never") {
                    return Err(format!(
                        "`--color` is `{value}`, expected auto, always or never"
                    ));
                }
            }
            Valued::Unstable => {
                if value != "unstable-options" {
                    return Err(format!(
                        "`-Z {value}`: the only `-Z` option is unstable-options"
                    ));
                }
            }
            Valued::Logfile => {}
        }
    }
    command_line.filters.retain(|filter| !filter.is_empty());
    Ok(Parsed::Run(command_line))
}

fn format_named(value: &str) -> Result<Format, String> {
    match value {
        "pretty" => Ok(Format::Pretty),
        "terse" => Ok(Format::Terse),
        "json" => Ok(Format::Json),
        "junit" => Err(
            "`--format junit`: this harness writes JUnit XML beside its own output, with `--junit PATH`"
                .to_owned(),
        ),
        other => Err(format!(
            "`--format` is `{other}`, expected pretty, terse or json"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(args: &[&str]) -> CommandLine {
        match parse(
            std::iter::once("e2e")
                .chain(args.iter().copied())
                .map(OsString::from),
        ) {
            Ok(Parsed::Run(command_line)) => command_line,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn parse_err(args: &[&str]) -> String {
        match parse(
            std::iter::once("e2e")
                .chain(args.iter().copied())
                .map(OsString::from),
        ) {
            Err(message) => message,
            other => panic!("{args:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn what_cargo_ides_and_nextest_send() {
        let ide = parse_ok(&[
            "steps::task::f",
            "--exact",
            "--nocapture",
            "--include-ignored",
        ]);
        assert_eq!(ide.filters, ["steps::task::f"]);
        assert!(ide.exact && ide.nocapture && !ide.list);
        let rustrover = parse_ok(&[
            "--format=json",
            "-Z",
            "unstable-options",
            "--show-output",
            "name",
        ]);
        assert_eq!(
            (rustrover.format, rustrover.filters),
            (Some(Format::Json), vec!["name".to_owned()])
        );
        let nextest = parse_ok(&["--list", "--format", "terse", "--ignored"]);
        assert!(nextest.list && nextest.ignored);
        assert_eq!(nextest.format, Some(Format::Terse));
        let threads = parse_ok(&[
            "-q",
            "--test-threads",
            "1",
            "--color=never",
            "-Zunstable-options",
        ]);
        assert!(threads.quiet && threads.filters.is_empty());
        assert!(parse_ok(&["--no-capture"]).nocapture);
    }

    #[test]
    fn filters_skips_and_the_end_of_options() {
        let line = parse_ok(&[
            "task", "--skip", "a", "audit", "--skip=b", "", "--", "--list", "-q",
        ]);
        assert_eq!(
            line.filters,
            ["task", "audit", "--list", "-q"],
            "empty filters are dropped"
        );
        assert_eq!(line.skip, ["a", "b"]);
        assert!(
            !line.list && !line.quiet,
            "after `--` everything is a filter"
        );
        assert_eq!(parse_ok(&["-"]).filters, ["-"]);
    }

    #[test]
    fn the_harness_flags() {
        let line = parse_ok(&[
            "--junit",
            "out/j.xml",
            "--reset",
            "audit",
            "--report=r.html",
            "--junit=k.xml",
        ]);
        assert!(line.reset);
        assert_eq!(
            line.junit.as_deref(),
            Some(std::path::Path::new("k.xml")),
            "the last wins"
        );
        assert_eq!(line.report.as_deref(), Some(std::path::Path::new("r.html")));
        assert_eq!(line.filters, ["audit"]);
        let help = parse(["e2e", "audit", "--help"].map(OsString::from));
        assert_eq!(help, Ok(Parsed::Help));
    }

    #[test]
    fn bad_arguments_name_the_argument_and_what_was_expected() {
        assert_eq!(
            parse_err(&["--shuffle"]),
            "unrecognized option `--shuffle` (`--help` lists the options)"
        );
        assert_eq!(parse_err(&["--skip"]), "`--skip` needs a value");
        assert_eq!(parse_err(&["--junit"]), "`--junit` needs a value");
        assert_eq!(parse_err(&["--exact=yes"]), "`--exact` takes no value");
        assert_eq!(
            parse_err(&["--format", "xml"]),
            "`--format` is `xml`, expected pretty, terse or json"
        );
        assert!(parse_err(&["--format=junit"]).contains("--junit PATH"));
        assert_eq!(
            parse_err(&["--test-threads", "0"]),
            "`--test-threads` is `0`, expected a whole number above 0"
        );
        assert_eq!(
            parse_err(&["--color", "blue"]),
            "`--color` is `blue`, expected auto, always or never"
        );
        assert_eq!(
            parse_err(&["-Z", "nightly"]),
            "`-Z nightly`: the only `-Z` option is unstable-options"
        );
    }

    #[test]
    fn an_empty_or_blank_from_is_an_error_not_a_run_without_it() {
        let empty = "`--from` is empty; expected a point `round N STEP`, like \
                     `round 2 steps::audit::audits_its_peer[worker3]`";
        let errors = [
            parse_err(&["--from", ""]),
            parse_err(&["--from="]),
            parse_err(&["--from", " \t "]),
        ];
        assert_eq!(errors, [empty, empty, empty]);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_named_by_position() {
        use std::os::unix::ffi::OsStringExt as _;
        let args = [
            OsString::from("e2e"),
            OsString::from("--skip"),
            OsString::from_vec(vec![0xff]),
        ];
        assert_eq!(parse(args), Err("argument 2 is not valid UTF-8".to_owned()));
    }

    #[test]
    fn the_usage_names_every_flag_the_parser_accepts() {
        let flags = SWITCHES
            .iter()
            .map(|(flag, _)| *flag)
            .chain(VALUED.iter().map(|(flag, _)| *flag));
        for flag in flags {
            let listed = USAGE
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')'))
                .any(|word| word == flag);
            assert!(listed, "{flag} is parsed but not in the usage");
        }
    }
}

//! Run control: everything a run is told from outside the suite's files —
//! the command line ([`args`](super::args): libtest's flags, so `cargo test`,
//! IDEs and debuggers can drive the binary, and this harness's own), the
//! process environment variables that steer the run, and the
//! `PROMETHEUS_TEST_SET_<KEY>` overrides of config.yaml values — read in this
//! one place from the arguments and one snapshot of the environment — and
//! the run's configuration files, which every part of the run reads through.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::config::{ConfigFiles, Overrides, Problems};
use crate::faults::seed::{SEED_VAR, Seed, SeedSource};

pub(crate) use super::args::Format;
use super::args::{self, CommandLine, Parsed};

/// `PROMETHEUS_TEST_RESET=1`: the same as `--reset`.
pub(crate) const RESET_VAR: &str = "PROMETHEUS_TEST_RESET";
/// `PROMETHEUS_TEST_CONFIG=path`: config.yaml to use instead of `main!`'s `config`.
pub(crate) const CONFIG_VAR: &str = "PROMETHEUS_TEST_CONFIG";
/// `PROMETHEUS_TEST_JUNIT=path`: the same as `--junit path`.
pub(crate) const JUNIT_VAR: &str = "PROMETHEUS_TEST_JUNIT";
/// `PROMETHEUS_TEST_REPORT=path`: the same as `--report path`.
pub(crate) const REPORT_VAR: &str = "PROMETHEUS_TEST_REPORT";
/// `PROMETHEUS_TEST_FROM=point`: the same as `--from point`.
pub(crate) const FROM_VAR: &str = "PROMETHEUS_TEST_FROM";
/// `PROMETHEUS_TEST_RECORD=mode`: the same as `--record mode`.
pub(crate) const RECORD_VAR: &str = "PROMETHEUS_TEST_RECORD";
/// `PROMETHEUS_TEST_WATCH=1`: the same as `--watch` (for IDE run configurations).
pub(crate) const WATCH_VAR: &str = "PROMETHEUS_TEST_WATCH";
/// `PROMETHEUS_TEST_NO_RESTORE=1`: the same as `--no-restore`.
pub(crate) const NO_RESTORE_VAR: &str = "PROMETHEUS_TEST_NO_RESTORE";
/// `RUST_TEST_NOCAPTURE` (libtest's): anything but `0` is `--nocapture`.
pub(crate) const NOCAPTURE_VAR: &str = "RUST_TEST_NOCAPTURE";

/// The process environment variables the harness reads, captured once.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProcessEnv {
    vars: BTreeMap<OsString, OsString>,
}

impl ProcessEnv {
    /// The variables of this process.
    pub(crate) fn capture() -> Self {
        Self::from_pairs(std::env::vars_os())
    }

    /// Exactly the given variables (tests).
    pub(crate) fn from_pairs<K: Into<OsString>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&OsString> {
        self.vars.get(&OsString::from(name))
    }

    /// Every captured variable (the base of the run's environment).
    pub(crate) fn vars(&self) -> impl Iterator<Item = (OsString, OsString)> + '_ {
        self.vars.iter().map(|(k, v)| (k.clone(), v.clone()))
    }
}

/// What the command line and the environment ask of this run.
pub(crate) struct RunControl {
    /// The command line: selection (filters, `--exact`, `--skip`), `--list`, format.
    pub(crate) args: CommandLine,
    /// `--reset` or `PROMETHEUS_TEST_RESET=1`: start a fresh run.
    pub(crate) reset: bool,
    /// `--nocapture` or `RUST_TEST_NOCAPTURE` (not `0`): stream worker logs
    /// live instead of capturing them per step.
    pub(crate) nocapture: bool,
    /// config.yaml (`PROMETHEUS_TEST_CONFIG`, else the suite's) and the files it locates.
    pub(crate) config: ConfigFiles,
    /// `PROMETHEUS_TEST_SET_<KEY>`: config.yaml values replaced for this run;
    /// a bad one is a configuration problem, reported with the others.
    pub(crate) overrides: Result<Overrides, Problems>,
    /// `--junit PATH` or `PROMETHEUS_TEST_JUNIT`: write a `JUnit` XML report there.
    pub(crate) junit: Option<PathBuf>,
    /// `--report PATH` or `PROMETHEUS_TEST_REPORT`: the HTML report's path
    /// instead of `data_dir/report.html`.
    pub(crate) report: Option<PathBuf>,
    /// `--from POINT` or `PROMETHEUS_TEST_FROM`: the snapshot to rewind to.
    pub(crate) from: Option<String>,
    /// Unless `--no-restore` or `PROMETHEUS_TEST_NO_RESTORE=1`: a resumed run
    /// restores the world before the step it resumes at.
    pub(crate) restore: bool,
    /// `--seed N`, else `PROMETHEUS_TEST_SEED`, else a fresh seed: what the
    /// run's faults are drawn from.
    pub(crate) seed: (Seed, SeedSource),
}

/// What the command line asks the binary to do.
pub(crate) enum Invocation {
    /// Run or list the steps.
    Run(Box<RunControl>),
    /// Print the usage (`--help`).
    Help,
}

/// `--record MODE`, else `PROMETHEUS_TEST_RECORD`, as an override of
/// config.yaml's `recording.mode` that names where it came from (an unknown
/// mode is then reported as config.yaml's own would be).
fn record_mode(
    overrides: &mut Overrides,
    flag: Option<String>,
    env: &ProcessEnv,
) -> Result<(), String> {
    let (mode, source) = match (flag, env.get(RECORD_VAR)) {
        (Some(mode), _) => (mode, "`--record`".to_owned()),
        (None, Some(mode)) if !mode.is_empty() => (
            mode.clone()
                .into_string()
                .map_err(|_| format!("`{RECORD_VAR}` is not valid UTF-8"))?,
            RECORD_VAR.to_owned(),
        ),
        (None, _) => return Ok(()),
    };
    // A mode is a plain word: quoted, it stays text for the YAML reader.
    let quoted = serde_json::to_string(&mode).unwrap_or_default();
    overrides
        .set("recording.mode", &quoted, &source)
        .map_err(|err| format!("{err:#}"))
}

impl RunControl {
    /// Reads `args` (the program name first) with `env` (and no file) for
    /// the suite of `suite_config`; a bad argument is one line naming it and
    /// what was expected.
    pub(crate) fn parse(
        args: impl IntoIterator<Item = OsString>,
        env: &ProcessEnv,
        suite_config: &Path,
    ) -> Result<Invocation, String> {
        let mut args = match args::parse(args)? {
            Parsed::Run(args) => args,
            Parsed::Help => return Ok(Invocation::Help),
        };
        let reset = args.reset || env.get(RESET_VAR).is_some_and(|v| v == "1");
        if args.watch && args.list {
            return Err(
                "`--watch` plays steps and `--list` only lists them: give one of them".to_owned(),
            );
        }
        // A listing (an IDE's, nextest's) under the variable just lists.
        args.watch = args.watch || (!args.list && env.get(WATCH_VAR).is_some_and(|v| v == "1"));
        let from = match args.from.take() {
            Some(point) => Some(point),
            None => env
                .get(FROM_VAR)
                .map(|v| {
                    v.clone()
                        .into_string()
                        .map_err(|_| format!("`{FROM_VAR}` is not valid UTF-8"))
                })
                .transpose()?,
        }
        .filter(|point| !point.trim().is_empty());
        if reset && from.is_some() {
            return Err(
                "`--from` rewinds to a kept snapshot and `--reset` drops them all: give one of them"
                    .to_owned(),
            );
        }
        let mut overrides = Overrides::from_vars(&env.vars);
        if let Ok(overrides) = overrides.as_mut() {
            record_mode(overrides, args.record.take(), env)?;
        }
        let seed_var = env
            .get(SEED_VAR)
            .map(|v| {
                v.to_str()
                    .ok_or_else(|| format!("`{SEED_VAR}` is not valid UTF-8"))
            })
            .transpose()?;
        let seed = Seed::from_env_or_fresh(args.seed.as_deref(), seed_var)
            .map_err(|bad| bad.to_string())?;
        let config = ConfigFiles::new(
            env.get(CONFIG_VAR)
                .map_or_else(|| suite_config.to_owned(), PathBuf::from),
            overrides.as_ref().ok().cloned().unwrap_or_default(),
            env.vars(),
        );
        Ok(Invocation::Run(Box::new(Self {
            reset,
            from,
            restore: !args.no_restore && env.get(NO_RESTORE_VAR).is_none_or(|v| v != "1"),
            seed,
            nocapture: args.nocapture || env.get(NOCAPTURE_VAR).is_some_and(|v| v != "0"),
            config,
            overrides,
            junit: args
                .junit
                .take()
                .or_else(|| env.get(JUNIT_VAR).map(PathBuf::from)),
            report: args
                .report
                .take()
                .or_else(|| env.get(REPORT_VAR).map(PathBuf::from)),
            args,
        })))
    }

    pub(crate) fn format(&self) -> Format {
        match self.args.format {
            Some(format) => format,
            None if self.args.quiet => Format::Terse,
            None => Format::Pretty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> RunControl {
        let invocation = RunControl::parse(
            std::iter::once("e2e")
                .chain(args.iter().copied())
                .map(OsString::from),
            &ProcessEnv::from_pairs(env.iter().copied()),
            Path::new("/suite/tests/config.yaml"),
        );
        match invocation {
            Ok(Invocation::Run(control)) => *control,
            Ok(Invocation::Help) => panic!("{args:?}: help"),
            Err(err) => panic!("{args:?}: {err}"),
        }
    }

    fn parse(args: &[&str]) -> RunControl {
        parse_with(args, &[])
    }

    #[test]
    fn watch_comes_from_the_flag_or_the_variable_and_not_with_list() {
        assert!(parse(&["--watch", "audit"]).args.watch);
        assert!(parse_with(&[], &[(WATCH_VAR, "1")]).args.watch);
        assert!(!parse_with(&[], &[(WATCH_VAR, "0")]).args.watch);
        assert!(!parse(&[]).args.watch);
        assert!(
            !parse_with(&["--list"], &[(WATCH_VAR, "1")]).args.watch,
            "a listing under the variable lists"
        );
        let both = RunControl::parse(
            ["e2e", "--watch", "--list"].map(OsString::from),
            &ProcessEnv::default(),
            Path::new("/suite/tests/config.yaml"),
        );
        assert_eq!(
            both.err().as_deref(),
            Some("`--watch` plays steps and `--list` only lists them: give one of them")
        );
    }

    #[test]
    fn seed_comes_from_the_flag_over_the_variable_and_a_bad_one_stops_the_run() {
        let seed = |args: &[&str], env: &[(&str, &str)]| parse_with(args, env).seed;
        assert_eq!(
            seed(&["--seed", "7"], &[(SEED_VAR, "8")]),
            (Seed(7), SeedSource::Flag)
        );
        assert_eq!(seed(&[], &[(SEED_VAR, "8")]), (Seed(8), SeedSource::Env));
        assert_eq!(seed(&[], &[]).1, SeedSource::Fresh);
        let bad = RunControl::parse(
            ["e2e", "--seed=x"].map(OsString::from),
            &ProcessEnv::default(),
            Path::new("/suite/tests/config.yaml"),
        );
        assert_eq!(
            bad.err().as_deref(),
            Some("--seed must be a whole number from 0 to 18446744073709551615, found \"x\"")
        );
    }

    /// config.yaml's `recording.mode` for `args` and `env`, with the error
    /// of a bad one.
    fn recording_mode(args: &[&str], env: &[(&str, &str)]) -> Result<&'static str, String> {
        let overrides = parse_with(args, env).overrides.unwrap();
        crate::config::Config::parse_with(
            Path::new("/s/tests/config.yaml"),
            "task_id: t\nmax_rounds: 1\nrecording:\n  mode: record\n",
            &overrides,
        )
        .map(|config| config.recording.mode.name())
        .map_err(|err| format!("{err:#}"))
    }

    #[test]
    fn record_sets_the_recording_mode_over_the_variable_and_the_file() {
        assert_eq!(recording_mode(&[], &[]), Ok("record"), "the file's");
        assert_eq!(recording_mode(&[], &[(RECORD_VAR, "replay")]), Ok("replay"));
        assert_eq!(
            recording_mode(&["--record", "off"], &[(RECORD_VAR, "replay")]),
            Ok("off"),
            "the flag wins"
        );
        assert_eq!(recording_mode(&[], &[(RECORD_VAR, "")]), Ok("record"));
        assert_eq!(
            recording_mode(&["--record=replaying"], &[]),
            Err("`--record` (overriding /s/tests/config.yaml): `recording.mode` must be `replay`, `record`, `all` or `off`, \
                 found \"replaying\""
                .to_owned())
        );
        assert_eq!(
            parse(&["--record", "all"])
                .overrides
                .unwrap()
                .describe()
                .unwrap(),
            "config overrides: recording.mode=\"all\" (`--record`)"
        );
    }

    #[test]
    fn the_format_is_formats_else_terse_with_quiet_else_pretty() {
        let formats = [
            parse(&[]).format(),
            parse(&["-q"]).format(),
            parse(&["-q", "--format", "json"]).format(),
            parse(&["--format=pretty", "--quiet"]).format(),
            parse(&["--list", "--format", "terse"]).format(),
        ];
        assert_eq!(
            formats,
            [
                Format::Pretty,
                Format::Terse,
                Format::Json,
                Format::Pretty,
                Format::Terse
            ]
        );
    }

    #[test]
    fn reset_is_a_flag_of_the_harness() {
        let control = parse(&["--reset", "audit"]);
        assert!(control.reset);
        assert_eq!(control.args.filters, ["audit"]);
    }

    #[test]
    fn report_paths_come_from_flags_or_the_environment() {
        let control = parse(&["--junit", "out/junit.xml", "audit", "--report=r.html"]);
        assert_eq!(
            control.junit.as_deref(),
            Some(std::path::Path::new("out/junit.xml"))
        );
        assert_eq!(
            control.report.as_deref(),
            Some(std::path::Path::new("r.html"))
        );
        assert_eq!(control.args.filters, ["audit"]);
        let from_env = parse_with(&[], &[(JUNIT_VAR, "j.xml"), (REPORT_VAR, "h.html")]);
        assert_eq!(
            from_env.junit.as_deref(),
            Some(std::path::Path::new("j.xml"))
        );
        assert_eq!(
            from_env.report.as_deref(),
            Some(std::path::Path::new("h.html"))
        );
        assert!(parse(&[]).junit.is_none() && parse(&[]).report.is_none());
    }

    #[test]
    fn the_environment_snapshot_steers_the_run() {
        let plain = parse(&[]);
        assert!(!plain.reset && !plain.nocapture);
        assert_eq!(
            plain.config.path(),
            Path::new("/suite/tests/config.yaml"),
            "the suite's config.yaml"
        );
        let steered = parse_with(
            &[],
            &[
                (RESET_VAR, "1"),
                (NOCAPTURE_VAR, "1"),
                (CONFIG_VAR, "/suite/config.yaml"),
            ],
        );
        assert!(steered.reset && steered.nocapture);
        assert_eq!(steered.config.path(), Path::new("/suite/config.yaml"));
        assert!(steered.overrides.as_ref().unwrap().is_empty());
        let off = parse_with(&[], &[(RESET_VAR, "yes"), (NOCAPTURE_VAR, "0")]);
        assert!(
            !off.reset && !off.nocapture,
            "only `1` resets; `0` captures"
        );
    }

    #[test]
    fn config_overrides_come_from_the_snapshot() {
        let control = parse_with(
            &[],
            &[
                ("PROMETHEUS_TEST_SET_BASE_PORT", "6100"),
                ("PROMETHEUS_TEST_CONFIG_X", "ignored"),
            ],
        );
        let overrides = control.overrides.unwrap();
        assert_eq!(
            overrides.describe().as_deref(),
            Some("config overrides: base_port=6100 (PROMETHEUS_TEST_SET_BASE_PORT)")
        );
        let bad = parse_with(&[], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "[unclosed")]);
        let err = bad.overrides.unwrap_err().to_string();
        assert!(err.contains("PROMETHEUS_TEST_SET_MAX_ROUNDS"), "{err}");
    }

    #[test]
    fn rewind_and_restore_come_from_the_command_line_or_the_environment() {
        let point = "round 2 steps::audit[worker3]";
        assert_eq!(
            parse_with(&["--from", point], &[]).from.as_deref(),
            Some(point)
        );
        let from_env = parse_with(&[], &[(FROM_VAR, point)]);
        assert_eq!(from_env.from.as_deref(), Some(point));
        assert!(from_env.restore, "a resumed run restores by default");
        assert_eq!(
            parse_with(&["--from=round 1 a"], &[(FROM_VAR, point)])
                .from
                .as_deref(),
            Some("round 1 a"),
            "the command line wins"
        );
        assert!(!parse_with(&["--no-restore"], &[]).restore);
        assert!(!parse_with(&[], &[(NO_RESTORE_VAR, "1")]).restore);
        assert!(parse_with(&[], &[(NO_RESTORE_VAR, "0")]).restore);
        let both = RunControl::parse(
            ["e2e", "--reset", "--from", point].map(OsString::from),
            &ProcessEnv::default(),
            Path::new("config.yaml"),
        );
        assert_eq!(
            both.err().as_deref(),
            Some(
                "`--from` rewinds to a kept snapshot and `--reset` drops them all: give one of them"
            )
        );
    }
}

//! The one number every fault of a run is drawn from: given with `--seed N`
//! or `PROMETHEUS_TEST_SEED`, or a fresh one, printed so the run can be
//! replayed.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable a seed can be given in.
pub(crate) const SEED_VAR: &str = "PROMETHEUS_TEST_SEED";

/// A run's seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Seed(pub(crate) u64);

/// Where a run's seed came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeedSource {
    Flag,
    Env,
    Fresh,
    /// Kept in the state by the run a resumed run continues.
    Resumed,
}

/// A seed that is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadSeed {
    /// `--seed` or the variable.
    pub(crate) source: &'static str,
    pub(crate) written: String,
}

impl fmt::Display for BadSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be a whole number from 0 to {}, found {:?}",
            self.source,
            u64::MAX,
            self.written
        )
    }
}

impl std::error::Error for BadSeed {}

impl Seed {
    /// The seed of `--seed` (`flag`), else of `PROMETHEUS_TEST_SEED`
    /// (`env`), else a fresh one.
    pub(crate) fn from_env_or_fresh(
        flag: Option<&str>,
        env: Option<&str>,
    ) -> Result<(Self, SeedSource), BadSeed> {
        let parse = |written: &str, source: &'static str| {
            written
                .trim()
                .parse::<u64>()
                .map(Self)
                .map_err(|_| BadSeed {
                    source,
                    written: written.to_owned(),
                })
        };
        match (flag, env.filter(|value| !value.trim().is_empty())) {
            (Some(written), _) => Ok((parse(written, "--seed")?, SeedSource::Flag)),
            (None, Some(written)) => Ok((parse(written, SEED_VAR)?, SeedSource::Env)),
            (None, None) => Ok((Self::fresh(), SeedSource::Fresh)),
        }
    }

    /// A seed nobody chose, below 2^32 so that it is short to copy.
    ///
    /// Its randomness is the OS's, through the standard library's hash
    /// keys (`RandomState`, drawn from the OS once a thread), mixed with
    /// the time and the process id: no new dependency for one number that
    /// needs no cryptographic strength.
    pub(crate) fn fresh() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        #[expect(clippy::cast_possible_truncation, reason = "only the low bits vary")]
        let nanos = nanos as u64;
        let keyed = RandomState::new().hash_one((nanos, std::process::id()));
        Self(super::mix::Mixer::new(keyed).bits() >> 32)
    }

    /// The note for a failure: `rerun with --seed 8841274 (…)`. nextest
    /// passes no arguments of its own to the tests: there the variable
    /// gives the seed.
    pub(crate) fn rerun_note(self) -> String {
        format!("rerun with --seed {self} (under nextest: {SEED_VAR}={self})")
    }

    /// The line a run with faults starts with.
    pub(crate) fn announce(self, source: SeedSource) -> String {
        let whence = match source {
            SeedSource::Flag => "from --seed",
            SeedSource::Env => SEED_VAR,
            SeedSource::Fresh => "fresh",
            SeedSource::Resumed => "the resumed run's",
        };
        format!(
            "faults: seed {self} ({whence}); replay with --seed {self} (under nextest: \
             {SEED_VAR}={self})"
        )
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_variable_and_both_over_a_fresh_seed() {
        assert_eq!(
            Seed::from_env_or_fresh(Some("12"), Some("34")),
            Ok((Seed(12), SeedSource::Flag))
        );
        assert_eq!(
            Seed::from_env_or_fresh(None, Some(" 34 ")),
            Ok((Seed(34), SeedSource::Env))
        );
        let (fresh, source) = Seed::from_env_or_fresh(None, Some("")).unwrap();
        assert_eq!(source, SeedSource::Fresh);
        assert!(fresh.0 < 1 << 32);
    }

    #[test]
    fn a_seed_that_is_not_a_number_is_named_with_its_source() {
        let bad = |flag, env| Seed::from_env_or_fresh(flag, env).unwrap_err().to_string();
        assert_eq!(
            bad(Some("-1"), None),
            "--seed must be a whole number from 0 to 18446744073709551615, found \"-1\""
        );
        assert_eq!(
            bad(None, Some("abc")),
            "PROMETHEUS_TEST_SEED must be a whole number from 0 to 18446744073709551615, \
             found \"abc\""
        );
    }

    #[test]
    fn fresh_seeds_differ() {
        let seeds: std::collections::BTreeSet<Seed> = (0..20).map(|_| Seed::fresh()).collect();
        assert!(seeds.len() > 15, "{seeds:?}");
    }

    #[test]
    fn the_seed_is_shown_as_the_flag_takes_it() {
        assert_eq!(
            Seed(8_841_274).rerun_note(),
            "rerun with --seed 8841274 (under nextest: PROMETHEUS_TEST_SEED=8841274)"
        );
        assert_eq!(
            Seed(7).announce(SeedSource::Fresh),
            "faults: seed 7 (fresh); replay with --seed 7 (under nextest: PROMETHEUS_TEST_SEED=7)"
        );
        assert_eq!(
            Seed(7).announce(SeedSource::Env),
            "faults: seed 7 (PROMETHEUS_TEST_SEED); replay with --seed 7 (under nextest: \
             PROMETHEUS_TEST_SEED=7)"
        );
    }
}

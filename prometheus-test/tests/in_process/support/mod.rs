//! What the whole-run tests share: the [`step`] builder and the suite
//! folder they run in ([`SuiteDir`]).

mod output;
mod step;
mod suite_dir;

pub(crate) use self::step::step;
pub(crate) use self::suite_dir::{FRESH, SuiteDir, TWO_WORKERS};

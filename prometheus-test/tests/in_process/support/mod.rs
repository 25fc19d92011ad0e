//! What the whole-run tests share: the [`step`] builder, the suite folder
//! they run in ([`SuiteDir`]) and free ports for their workers.

mod output;
mod step;
mod suite_dir;

pub(crate) use self::step::step;
pub(crate) use self::suite_dir::{FRESH, SuiteDir, TWO_WORKERS};

/// A loopback port nothing listens on now, below the kernel's ephemeral
/// range and handed out once per process (see `process::port`).
pub(crate) fn free_port() -> u16 {
    prometheus_test::__bench::free_port().expect("a free loopback port")
}

//! Helpers shared by the benchmarks that include this module (`mod common;`).

use std::future::Future;
use std::time::Duration;

/// Runs `bench` to completion on a multi-threaded tokio runtime.
pub(crate) fn block_on<F: Future<Output = anyhow::Result<()>>>(bench: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench)
}

/// The median of `samples` (the upper one of an even count); zero when empty.
pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

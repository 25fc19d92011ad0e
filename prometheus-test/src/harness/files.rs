//! Where a suite's files are: what a test binary knows of its suite before
//! it reads any of them.

use std::path::PathBuf;

use crate::step::PostLoad;

/// Where a suite's files are.
#[derive(Debug, Clone)]
pub(crate) struct SuiteFiles {
    /// config.yaml (`PROMETHEUS_TEST_CONFIG` replaces it).
    pub(crate) config: PathBuf,
    /// The test target's package, to find step files that registered no
    /// step; `None` skips that check.
    pub(crate) manifest_dir: Option<PathBuf>,
    /// The folder of the test target's root file.
    pub(crate) suite_dir: PathBuf,
    pub(crate) post_load: Option<PostLoad>,
}

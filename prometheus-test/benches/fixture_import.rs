//! Fixture import throughput: `read_fixtures` + `reset` (file to raw BSON in
//! one pass, the collection cleared, batches inserted several at a time) next
//! to a bare single-stream loop (`delete_many`, then `insert_many` of
//! documents parsed beforehand, 10 000 a call) and the Python original's
//! import (pymongo), all against one private `mongod`.
//!
//! `cargo bench -p prometheus-test --bench fixture_import`. mongod comes from
//! `$PROMETHEUS_TEST_MONGOD`, `PATH`, or the one provisioned on first use;
//! `PROMETHEUS_TEST_BENCH_DOCUMENTS` overrides the 100 000 documents. The Python
//! row needs `pip install pymongo==4.13.2` and is skipped (with a note) without it.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use common::{block_on, median};
use mongodb::bson::{Document, doc};
use mongodb::{Client, Database};
use prometheus_test::__bench::{
    FixtureImport, IMPORT_BATCH, ManagedMongod, close_client, find_or_provision_mongod,
};

const RUNS: usize = 3;
const DEFAULT_DOCUMENTS: usize = 100_000;
const TASK_ID: &str = "bench-task";
const COLLECTION: &str = "todos";
const DATA_FILE: &str = "todos.json";

fn main() -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mongod = find_or_provision_mongod(std::env::vars_os())?;
    let documents = match std::env::var("PROMETHEUS_TEST_BENCH_DOCUMENTS") {
        Ok(value) => value
            .parse()
            .with_context(|| format!("PROMETHEUS_TEST_BENCH_DOCUMENTS={value} is not a count"))?,
        Err(_) => DEFAULT_DOCUMENTS,
    };
    let python_script = repo.join("scripts/bench-import-python.py");
    block_on(fixture_import(&mongod, &python_script, documents, RUNS))
}

/// Imports `documents` small documents `runs` times each way and prints docs/s,
/// medians and ratios. The Python row is skipped (with a note) when python3 or
/// pymongo is missing.
async fn fixture_import(
    mongod: &Path,
    python_script: &Path,
    documents: usize,
    runs: usize,
) -> anyhow::Result<()> {
    let data = BenchDir::create()?;
    let file = data.0.join(DATA_FILE);
    let bytes = write_data_file(&file, documents)?;
    let (server, client) = ManagedMongod::start(mongod).await?;
    println!(
        "fixture_import: {documents} documents ({:.1} MB file), {runs} runs, batch {IMPORT_BATCH}; \
         private mongod started in {} ms",
        mb(bytes),
        server.startup().as_millis()
    );
    let result = measure(
        &client,
        &data.0,
        &file,
        python_script,
        server.uri(),
        documents,
        runs,
    )
    .await;
    close_client(client).await;
    server.stop().await;
    println!("{}", result?);
    Ok(())
}

async fn measure(
    client: &Client,
    data_dir: &Path,
    file: &Path,
    python_script: &Path,
    uri: String,
    documents: usize,
    runs: usize,
) -> anyhow::Result<String> {
    let import = FixtureImport::new(
        "pt_bench",
        COLLECTION,
        DATA_FILE,
        documents as u64,
        data_dir,
        TASK_ID,
    );
    let bare_db = client.database("pt_bench_bare");
    let prepared = prepared_documents(file)?;
    let python = python_available(python_script);

    let (mut framework, mut parse, mut bare, mut original) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let started = Instant::now();
        let fixtures = import.read()?;
        parse.push(started.elapsed());
        import.reset(client, &fixtures).await?;
        framework.push(started.elapsed());
        drop(fixtures);

        bare.push(bare_import(&bare_db, &prepared).await?);

        if python.is_ok() {
            original.push(python_import(python_script, &uri, file, documents).await?);
        }
    }
    let mut out = String::new();
    let bare = median(&mut bare);
    let row = |out: &mut String, name: &str, time: Duration, extra: &str| {
        let _ = writeln!(
            out,
            "  {name:<36} median {:>8.3} s  {:>9.0} docs/s  {:>5.2}x the bare loop's time{extra}",
            time.as_secs_f64(),
            f64::from(u32::try_from(documents).unwrap_or(u32::MAX)) / time.as_secs_f64(),
            time.as_secs_f64() / bare.as_secs_f64(),
        );
    };
    let total = median(&mut framework);
    let parse = median(&mut parse);
    row(
        &mut out,
        "read_fixtures + reset",
        total,
        &format!(" (read+parse {:.3} s)", parse.as_secs_f64()),
    );
    row(&mut out, "bare single-stream insert_many loop", bare, "");
    match python {
        Ok(version) => {
            let time = median(&mut original);
            row(
                &mut out,
                &format!("python load_data (pymongo {version})"),
                time,
                "",
            );
            let _ = write!(
                out,
                "  read_fixtures + reset is {:.2}x as fast as the Python original",
                time.as_secs_f64() / total.as_secs_f64()
            );
        }
        Err(reason) => {
            let _ = write!(out, "  python load_data: skipped ({reason})");
        }
    }
    Ok(out)
}

/// The bare loop's input: the file parsed beforehand into `Document`s with
/// `taskId`, the form a hand-written import hands to the driver.
fn prepared_documents(file: &Path) -> anyhow::Result<Vec<Document>> {
    let text = std::fs::read_to_string(file)?;
    let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&text)?;
    items
        .into_iter()
        .map(|item| {
            let mut document = Document::try_from(item)?;
            document.insert("taskId", TASK_ID);
            Ok(document)
        })
        .collect()
}

/// The reference: clear, then a single stream of `insert_many` calls of
/// prepared documents in batches of `IMPORT_BATCH`.
async fn bare_import(db: &Database, documents: &[Document]) -> anyhow::Result<Duration> {
    let collection = db.collection::<Document>(COLLECTION);
    let started = Instant::now();
    collection.delete_many(doc! {}).await?;
    for batch in documents.chunks(IMPORT_BATCH) {
        collection.insert_many(batch).ordered(false).await?;
    }
    Ok(started.elapsed())
}

fn python_available(script: &Path) -> Result<String, String> {
    if !script.is_file() {
        return Err(format!("{} not found", script.display()));
    }
    let output = std::process::Command::new("python3")
        .args(["-c", "import pymongo; print(pymongo.version)"])
        .output()
        .map_err(|error| format!("python3: {error}"))?;
    if !output.status.success() {
        return Err("pymongo is not installed: pip install pymongo==4.13.2".to_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Runs the Python import and returns the time it measured itself (without
/// interpreter start-up).
async fn python_import(
    script: &Path,
    uri: &str,
    file: &Path,
    documents: usize,
) -> anyhow::Result<Duration> {
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(uri)
        .arg(file)
        .output()
        .await
        .with_context(|| format!("cannot run python3 {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "python3 {} failed ({}): {}{}",
            script.display(),
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let field = |name: &str| {
        stdout
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let seconds: f64 = field("elapsed_seconds")
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("unexpected output of {}: {stdout}", script.display()))?;
    if field("documents").as_deref() != Some(&documents.to_string()) {
        bail!(
            "{} imported a different number of documents: {stdout}",
            script.display()
        );
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Writes `documents` small todo documents as a JSON array; returns the file size.
fn write_data_file(file: &Path, documents: usize) -> anyhow::Result<u64> {
    let mut text = String::with_capacity(documents * 64 + 2);
    text.push('[');
    for n in 0..documents {
        if n > 0 {
            text.push_str(",\n");
        }
        let _ = write!(
            text,
            r#"{{"n": {n}, "title": "todo number {n}", "done": false}}"#
        );
    }
    text.push_str("]\n");
    std::fs::write(file, &text).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(text.len() as u64)
}

fn mb(bytes: u64) -> f64 {
    f64::from(u32::try_from(bytes).unwrap_or(u32::MAX)) / 1_000_000.0
}

/// A temporary directory for the data file, removed on drop.
struct BenchDir(PathBuf);

impl BenchDir {
    fn create() -> anyhow::Result<Self> {
        let dir =
            std::env::temp_dir().join(format!("prometheus-test-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

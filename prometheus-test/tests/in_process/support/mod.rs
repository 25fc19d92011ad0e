//! What the whole-run tests share: the [`step`] builder, the suite folder
//! they run in ([`SuiteDir`]) and free ports for their workers.

mod output;
mod step;
mod suite_dir;

pub(crate) use self::step::step;
pub(crate) use self::suite_dir::{FRESH, SuiteDir, TWO_WORKERS};

/// The path of the python3 fixture server `name`
/// (`tests/fixtures/servers/good_server.py`, …), as workers.json takes it.
pub(crate) fn fixture_server(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/servers")
        .join(name)
        .display()
        .to_string()
}

/// workers.json of one worker, `worker1`, running the fixture server `name`
/// with python3 on a free port.
pub(crate) fn one_fixture_worker(name: &str) -> String {
    fixture_workers(&["worker1"], name)
}

/// workers.json of the workers `names`, each running the fixture server
/// `name` with python3 on a free port of its own.
pub(crate) fn fixture_workers(names: &[&str], name: &str) -> String {
    let server = fixture_server(name);
    let workers: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|worker| {
            let launch = serde_json::json!({"port": free_port(), "command": ["python3", &server]});
            ((*worker).to_owned(), launch)
        })
        .collect();
    serde_json::Value::Object(workers).to_string()
}

/// A loopback port nothing listens on now, below the kernel's ephemeral
/// range and handed out once per process (see `process::port`).
pub(crate) fn free_port() -> u16 {
    prometheus_test::__bench::free_port().expect("a free loopback port")
}

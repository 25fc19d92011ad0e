//! The fault campaign as tests: the `contract-suite` binaries
//! (`tests/contract_suite`) fed bad inputs of every kind, and killed at random
//! points of their setup, worker start and steps.
//!
//! `bad_inputs_stop_the_run_with_a_clear_error_and_touch_nothing` breaks one
//! input per case (config.yaml, workers.json, `.env`, keypair files,
//! fixtures, the state file, the command line, the environment) in a copy of
//! a project with a saved run. Each case checks the exit code, that the
//! message names the file and the field or line, that no planted secret
//! shows in any form, that the state file and every MongoDB collection are
//! unchanged, and that no process of the run is left.
//!
//! `random_kill_points_leave_no_process_and_a_run_that_resumes` stops runs
//! with SIGINT, SIGTERM or SIGKILL after a random delay (seeded and printed;
//! `FAULT_SUITE_SEED=<seed>` replays the same points, `FAULT_SUITE_KILL=<i>`
//! only point `i`), then checks that no process is left, that the state file
//! is valid, and that a plain next run plays exactly the rest of the plan.
//!
//! Both share nothing but the binaries; each starts one private `mongod` for
//! all its cases (`PROMETHEUS_TEST_MONGOD`, `mongod` on `PATH`, else the one
//! the runtime downloads into the per-user cache on first use).

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use prometheus_test::__bench::{ManagedMongod, close_client, find_or_provision_mongod};
use prometheus_test::mongodb::bson::{Document, doc};
use prometheus_test::mongodb::{Client, Database};
use serde_json::Value;

/// The caller's variables a run sees; everything else is cleared.
const INHERITED: &[&str] = &["PATH", "HOME", "TMPDIR", "PROMETHEUS_TEST_MONGOD"];

/// The steps of one round of the contract suite, in order.
const ALL_STEPS: [&str; 4] = ["ping", "work", "audit", "optional"];

/// Two todos: the suite plays three rounds (documents of the task, plus one).
const TWO_TODOS: &str = r#"[
  {"_id": {"$oid": "65a000000000000000000001"}, "title": "a"},
  {"_id": {"$oid": "65a000000000000000000002"}, "title": "b", "due": {"$date": "2026-01-01T00:00:00Z"}}
]"#;

/// The value of the mapped env var `FAULT_TOKEN` every case plants.
const TOKEN: &str = "tok-9c41e7a2d05b3f86";
/// The password of the `MONGO_URI` the unreachable-server case plants.
const URI_PASSWORD: &str = "pw-5e0c2b9a71f4d638";

/// How many runs go on at once: cases do not share ports or directories.
const PARALLEL: usize = 3;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn good_server() -> PathBuf {
    repo().join("prometheus-test/tests/fixtures/servers/good_server.py")
}

/// The secrets every run holds: a staking keypair given inline, its seed in
/// the forms it could leak in, and the mapped variable's value.
struct Secrets {
    inline_keypair: String,
    forms: Vec<String>,
}

impl Secrets {
    fn new() -> Self {
        let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from((i * 11 + 5) % 251).unwrap());
        let keypair = prometheus_test::Keypair::from_seed(seed);
        let inline_keypair = keypair.to_keypair_file_json();
        let numbers: Vec<u8> = serde_json::from_str(&inline_keypair).unwrap();
        let hex = |bytes: &[u8]| {
            bytes.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            })
        };
        let decimal = |bytes: &[u8]| {
            bytes
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let forms = vec![
            TOKEN.to_owned(),
            URI_PASSWORD.to_owned(),
            hex(&seed),
            base58(&seed),
            base58(&numbers),
            decimal(&seed[..16]),
            decimal(&seed[..16]).replace(',', ", "),
        ];
        Self {
            inline_keypair,
            forms,
        }
    }

    /// The first planted secret `haystack` shows, in any of its forms.
    fn leaked(&self, extra: &[String], haystack: &str) -> Option<String> {
        self.forms
            .iter()
            .chain(extra)
            .find(|secret| haystack.contains(secret.as_str()))
            .cloned()
    }
}

/// Bitcoin-alphabet base58, as Solana tools print keys.
fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = u8::try_from(carry % 58).unwrap();
            carry /= 58;
        }
        while carry > 0 {
            digits.push(u8::try_from(carry % 58).unwrap());
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(
            digits
                .iter()
                .rev()
                .map(|&d| char::from(ALPHABET[usize::from(d)])),
        )
        .collect()
}

/// A copy of the contract suite's project in a temporary directory:
/// `tests/` holds config.yaml, workers.json and `data/`; the directory itself
/// is the project (its `.env` is the project's).
struct Project {
    dir: tempfile::TempDir,
    marker: String,
    database: String,
    ports: [u16; 2],
    mongo_uri: String,
}

impl Project {
    fn new(database: &str, mongo_uri: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tests/data")).unwrap();
        let marker = format!("fault-{}-{}", std::process::id(), dir.path().display());
        let project = Self {
            dir,
            marker,
            database: database.to_owned(),
            ports: [common::free_port(), common::free_port()],
            mongo_uri: mongo_uri.to_owned(),
        };
        project.write("config.yaml", &project.config_yaml());
        project.write("workers.json", &project.workers_json());
        project.write("data/todos.json", TWO_TODOS);
        project
    }

    fn config_yaml(&self) -> String {
        format!(
            "task_id: fault\nhealth_path: /health\nserver_entrypoint: {}\nrounds_collection: todos\n\
             mongodb:\n  database: {}\n  collections:\n    todos:\n      data_file: todos.json\n      required_count: 2\n",
            good_server().display(),
            self.database
        )
    }

    fn workers_json(&self) -> String {
        format!(
            "{{\n  \"worker1\": {{\"port\": {}, \"keypairs\": {{\"staking\": \"FAULT_STAKING\"}}, \"env_vars\": {{\"API_TOKEN\": \"FAULT_TOKEN\"}}}},\n  \"worker2\": {{\"port\": {}, \"role\": \"auditor\"}}\n}}\n",
            self.ports[0], self.ports[1]
        )
    }

    fn tests_dir(&self) -> PathBuf {
        self.dir.path().join("tests")
    }

    /// Writes `text` to `name`, relative to the tests directory.
    fn write(&self, name: &str, text: &str) {
        self.write_bytes(name, text.as_bytes());
    }

    fn write_bytes(&self, name: &str, bytes: &[u8]) {
        let path = self.tests_dir().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.tests_dir().join(name)).unwrap()
    }

    /// Replaces `from` by `to` in `name`; `from` must be there.
    fn edit(&self, name: &str, from: &str, to: &str) {
        let text = self.read(name);
        assert!(text.contains(from), "{name} holds no {from:?}");
        self.write(name, &text.replacen(from, to, 1));
    }

    fn state_path(&self) -> PathBuf {
        self.tests_dir().join("data/test_state.json")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("steps.log")
    }

    fn command(&self, binary: &str, args: &[&str], env: &[(String, String)]) -> Command {
        let mut cmd =
            common::suite_command(binary, INHERITED, &self.tests_dir().join("config.yaml"));
        cmd.args(args)
            .env("CONTRACT_LOG", self.log_path())
            .env("PT_CONTRACT_MARKER", &self.marker)
            .env("MONGO_URI", &self.mongo_uri)
            .env("FAULT_TOKEN", TOKEN)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn spawn(&self, binary: &str, args: &[&str], env: &[(String, String)]) -> Child {
        self.command(binary, args, env).spawn().unwrap()
    }

    /// `round:step` lines (and `hook`), in the order they ran; cleared after reading.
    fn take_log(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let _ = std::fs::remove_file(self.log_path());
        text.lines().map(str::to_owned).collect()
    }

    fn leftovers(&self) -> Vec<u32> {
        common::marked_processes(&self.marker)
    }

    /// Waits up to 10 s for every process of the run to be gone; kills and
    /// returns those that stayed.
    fn orphans(&self) -> Vec<u32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.leftovers();
            if left.is_empty() {
                return left;
            }
            if Instant::now() > deadline {
                for &pid in &left {
                    let _ = kill(Pid::from_raw(i32::try_from(pid).unwrap()), Signal::SIGKILL);
                }
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The last lines of `output`, to explain a failing case.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    lines[lines.len().saturating_sub(6)..].join(" | ")
}

fn suite_bin() -> &'static str {
    env!("CARGO_BIN_EXE_contract-suite")
}

fn hook_bin() -> &'static str {
    env!("CARGO_BIN_EXE_contract-suite-hook")
}

/// One private `mongod` and a runtime to talk to it.
struct Mongo {
    runtime: tokio::runtime::Runtime,
    server: Option<ManagedMongod>,
    client: Option<Client>,
}

impl Mongo {
    fn start() -> Self {
        let binary = find_or_provision_mongod(std::env::vars_os())
            .unwrap_or_else(|error| panic!("{error:#}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (server, client) = runtime
            .block_on(ManagedMongod::start(&binary))
            .unwrap_or_else(|error| panic!("{error:#}"));
        Self {
            runtime,
            server: Some(server),
            client: Some(client),
        }
    }

    fn uri(&self) -> String {
        self.server.as_ref().unwrap().uri()
    }

    fn db(&self, name: &str) -> Database {
        self.client.as_ref().unwrap().database(name)
    }

    /// Every document of every collection of `database`, by collection and `_id`.
    fn snapshot(&self, database: &str) -> Vec<(String, Vec<Document>)> {
        let db = self.db(database);
        self.runtime.block_on(common::all_documents(&db))
    }

    /// Fills `database` with `documents` by collection, plus a sentinel.
    fn plant(&self, database: &str, documents: &[(String, Vec<Document>)]) {
        let db = self.db(database);
        self.runtime.block_on(async {
            for (name, docs) in documents {
                if !docs.is_empty() {
                    db.collection::<Document>(name)
                        .insert_many(docs.clone())
                        .await
                        .unwrap();
                }
            }
            db.collection::<Document>("sentinel")
                .insert_one(doc! { "_id": "fault-sentinel", "planted": true })
                .await
                .unwrap();
        });
    }

    fn stop(mut self) {
        let client = self.client.take().unwrap();
        let server = self.server.take().unwrap();
        self.runtime.block_on(async {
            close_client(client).await;
            server.stop().await;
        });
    }
}

/// Runs `jobs` cases on `PARALLEL` threads; results come back in case order.
fn run_parallel<T: Send>(count: usize, job: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= count {
                        break;
                    }
                    let result = job(index);
                    results.lock().unwrap()[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

// ---------------------------------------------------------------------------
// Bad inputs
// ---------------------------------------------------------------------------

/// What a case expects of the run it breaks.
struct Expect {
    /// The exit codes accepted (one, but for usage errors).
    codes: Vec<i32>,
    /// Each group needs one of its strings in the output (file, field, line…).
    names: Vec<Vec<String>>,
    /// Whether the state file and the collections must stay as they were.
    untouched: bool,
    /// Secrets of this case besides the planted ones.
    secrets: Vec<String>,
}

/// A case's own check of the project after its run.
type AfterCheck = fn(&Project) -> Result<(), String>;

/// One broken run: the breaking, the arguments and variables, the expectation.
struct Setup {
    args: Vec<String>,
    env: Vec<(String, String)>,
    binary: &'static str,
    expect: Expect,
    /// Held while the run goes (a listener on a worker's port…).
    hold: Option<TcpListener>,
    /// A check of its own after the run.
    after: Option<AfterCheck>,
}

impl Setup {
    /// Exit 2, naming every string of `names` (each one required).
    fn fails(names: &[&str]) -> Self {
        Self::with(2, names.iter().map(|n| vec![(*n).to_owned()]).collect())
    }

    fn with(code: i32, names: Vec<Vec<String>>) -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            binary: suite_bin(),
            expect: Expect {
                codes: vec![code],
                names,
                untouched: true,
                secrets: Vec::new(),
            },
            hold: None,
            after: None,
        }
    }

    /// Also names one of `alternatives` (a line given as `line 3` or `:3:`…).
    fn or_names(mut self, alternatives: &[&str]) -> Self {
        self.expect
            .names
            .push(alternatives.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    fn args(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    fn secret(mut self, secret: &str) -> Self {
        self.expect.secrets.push(secret.to_owned());
        self
    }

    /// A usage error: libtest exits 101, argument parsers 2; both say so.
    fn usage(args: &[&str], names: &[&str]) -> Self {
        let mut setup = Self::with(101, vec![names.iter().map(|n| (*n).to_owned()).collect()]);
        setup.expect.codes.push(2);
        setup.args(args)
    }

    /// A run that goes on (exit 0) and may change the state and the database.
    fn passes() -> Self {
        let mut setup = Self::with(0, Vec::new());
        setup.expect.untouched = false;
        setup
    }
}

struct BadInput {
    group: &'static str,
    name: &'static str,
    breaks: fn(&Project, &Secrets) -> Setup,
}

macro_rules! cases {
    ($group:literal: $($name:literal => $breaks:expr,)*) => {
        vec![$(BadInput { group: $group, name: $name, breaks: $breaks }),*]
    };
}

fn config_cases() -> Vec<BadInput> {
    cases! { "config.yaml":
        "missing task_id" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "");
            Setup::fails(&["config.yaml", "task_id"])
        },
        "task_id not a string" => |p, _| {
            p.edit("config.yaml", "task_id: fault", "task_id: [a, b]");
            Setup::fails(&["config.yaml", "task_id"])
        },
        "max_rounds not a number" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nmax_rounds: two\n");
            Setup::fails(&["config.yaml", "max_rounds"])
        },
        "negative max_rounds" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nmax_rounds: -1\n");
            Setup::fails(&["config.yaml", "max_rounds"])
        },
        "base_port out of range" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nbase_port: 70000\n");
            Setup::fails(&["config.yaml", "base_port"])
        },
        "negative start_timeout" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nstart_timeout: -5\n");
            Setup::fails(&["config.yaml", "start_timeout"])
        },
        "negative step_timeout" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nstep_timeout: -1\n");
            Setup::fails(&["config.yaml", "step_timeout"])
        },
        "start_timeout not a number" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nstart_timeout: soon\n");
            Setup::fails(&["config.yaml", "start_timeout"])
        },
        "health_path not a string" => |p, _| {
            p.edit("config.yaml", "health_path: /health", "health_path: [/health]");
            Setup::fails(&["config.yaml", "health_path"])
        },
        "http_keep_alive not a boolean" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nhttp_keep_alive: sometimes\n");
            Setup::fails(&["config.yaml", "http_keep_alive"])
        },
        "required_count not a number" => |p, _| {
            p.edit("config.yaml", "required_count: 2", "required_count: many");
            Setup::fails(&["config.yaml", "required_count"])
        },
        "collections not a mapping" => |p, _| {
            p.edit("config.yaml", "  collections:\n", "  collections: [todos]\n  unused:\n");
            Setup::fails(&["config.yaml", "collections"])
        },
        "empty file" => |p, _| {
            p.write("config.yaml", "");
            Setup::fails(&["config.yaml", "task_id"])
        },
        "a list, not a mapping" => |p, _| {
            p.write("config.yaml", "- task_id\n- fault\n");
            Setup::fails(&["config.yaml"])
        },
        "invalid YAML" => |p, _| {
            p.edit("config.yaml", "health_path: /health\n", "health_path: [/health\n");
            Setup::fails(&["config.yaml"]).or_names(&["line", "config.yaml:"])
        },
        "near-miss key warns and runs" => |p, _| {
            p.edit("config.yaml", "task_id: fault\n", "task_id: fault\nmax_round: 3\n");
            let mut setup = Setup::passes();
            setup.expect.names = vec![vec!["config.yaml".into()], vec!["max_round".into()]];
            setup
        },
        "BOM accepted" => |p, _| {
            let text = p.read("config.yaml");
            p.write("config.yaml", &format!("\u{feff}{text}"));
            Setup::passes()
        },
    }
}

fn workers_cases() -> Vec<BadInput> {
    cases! { "workers.json":
        "invalid JSON names line and column" => |p, _| {
            p.edit("workers.json", "\"role\": \"auditor\"}", "\"role\": \"auditor\",}");
            Setup::fails(&["workers.json"]).or_names(&["workers.json:3:", "line 3"])
        },
        "not an object" => |p, _| {
            p.write("workers.json", "[\"worker1\", \"worker2\"]\n");
            Setup::fails(&["workers.json"])
        },
        "a worker not an object" => |p, _| {
            p.edit("workers.json", "\"worker2\": {", "\"worker2\": 5, \"unused\": {");
            Setup::fails(&["workers.json", "worker2"])
        },
        "unsafe name with a slash" => |p, _| {
            p.edit("workers.json", "\n}", ",\n  \"a/b\": {\"url\": \"http://127.0.0.1:9\"}\n}");
            Setup::fails(&["workers.json", "`a/b`"])
        },
        "unsafe name with dots" => |p, _| {
            p.edit("workers.json", "\n}", ",\n  \"../up\": {\"url\": \"http://127.0.0.1:9\"}\n}");
            Setup::fails(&["workers.json", "../up"])
        },
        "empty name" => |p, _| {
            p.edit("workers.json", "\n}", ",\n  \"\": {\"url\": \"http://127.0.0.1:9\"}\n}");
            Setup::fails(&["workers.json", "name"])
        },
        "duplicate ports" => |p, _| {
            let (a, b) = (p.ports[0].to_string(), p.ports[1].to_string());
            p.edit("workers.json", &format!("\"port\": {b}"), &format!("\"port\": {a}"));
            let setup = Setup::fails(&["workers.json", "port"]);
            setup.or_names(&[&a])
        },
        "port not a number" => |p, _| {
            let b = p.ports[1].to_string();
            p.edit("workers.json", &format!("\"port\": {b}"), "\"port\": \"high\"");
            Setup::fails(&["workers.json", "worker2", "port"])
        },
        "port zero" => |p, _| {
            let b = p.ports[1].to_string();
            p.edit("workers.json", &format!("\"port\": {b}"), "\"port\": 0");
            Setup::fails(&["workers.json", "worker2", "port"])
        },
        "command a string" => |p, _| {
            p.edit("workers.json", "\"role\": \"auditor\"", "\"role\": \"auditor\", \"command\": \"python3 server.py\"");
            Setup::fails(&["workers.json", "worker2", "command"])
        },
        "command with a number" => |p, _| {
            p.edit("workers.json", "\"role\": \"auditor\"", "\"role\": \"auditor\", \"command\": [\"python3\", 5]");
            Setup::fails(&["workers.json", "worker2", "command"])
        },
        "command empty" => |p, _| {
            p.edit("workers.json", "\"role\": \"auditor\"", "\"role\": \"auditor\", \"command\": []");
            Setup::fails(&["workers.json", "worker2", "command"])
        },
        "env_vars not an object" => |p, _| {
            p.edit("workers.json", "{\"API_TOKEN\": \"FAULT_TOKEN\"}", "[\"FAULT_TOKEN\"]");
            Setup::fails(&["workers.json", "worker1", "env_vars"])
        },
        "env_vars value not a string" => |p, _| {
            p.edit("workers.json", "\"FAULT_TOKEN\"}", "5}");
            Setup::fails(&["workers.json", "worker1", "env_vars"])
        },
        "env_vars names an unset variable" => |p, _| {
            p.edit("workers.json", "\"FAULT_TOKEN\"}", "\"FAULT_UNSET_TOKEN\"}");
            Setup::fails(&["workers.json", "worker1", "FAULT_UNSET_TOKEN"])
        },
    }
}

fn workers_keypair_cases() -> Vec<BadInput> {
    cases! { "workers.json":
        "keypair variable unset" => |p, _| {
            p.edit("workers.json", "\"staking\": \"FAULT_STAKING\"", "\"staking\": \"FAULT_STAKING\", \"main\": \"FAULT_MAIN_UNSET\"");
            Setup::fails(&["workers.json", "worker1", "FAULT_MAIN_UNSET"])
        },
        "keypair role unknown" => |p, _| {
            p.edit("workers.json", "\"staking\": \"FAULT_STAKING\"", "\"staking\": \"FAULT_STAKING\", \"admin\": \"FAULT_STAKING\"");
            Setup::fails(&["workers.json", "worker1", "admin"])
        },
        "inline keypair of the wrong length" => |_, s| {
            let short = s.inline_keypair.rsplit_once(',').unwrap().0.to_owned() + "]";
            let tail = short[short.len() - 40..].to_owned();
            Setup::fails(&["FAULT_STAKING"]).env("FAULT_STAKING", &short).secret(&tail)
        },
        "inline keypair not JSON" => |_, s| {
            let broken = s.inline_keypair.replacen(',', ";", 3);
            let tail = broken[broken.len() - 40..].to_owned();
            Setup::fails(&["FAULT_STAKING"]).env("FAULT_STAKING", &broken).secret(&tail)
        },
        "inline keypair with a byte out of range" => |_, s| {
            let (head, _) = s.inline_keypair.rsplit_once(',').unwrap();
            let bad = format!("{head},256]");
            let tail = bad[bad.len() - 40..].to_owned();
            Setup::fails(&["FAULT_STAKING"]).env("FAULT_STAKING", &bad).secret(&tail)
        },
    }
}

fn workers_file_cases() -> Vec<BadInput> {
    cases! { "workers.json":
        "worker the steps need is missing" => |p, _| {
            p.edit("workers.json", "\"worker2\"", "\"worker3\"");
            Setup::fails(&["worker2"])
        },
        "file missing" => |p, _| {
            std::fs::remove_file(p.tests_dir().join("workers.json")).unwrap();
            Setup::fails(&["workers.json"])
        },
        "worker exits during start" => |p, _| {
            p.edit("workers.json", "\"role\": \"auditor\"", "\"role\": \"auditor\", \"command\": [\"python3\", \"-c\", \"import sys; print('no luck'); sys.exit(4)\"]");
            Setup::fails(&["worker2"]).or_names(&["status 4", "exit status: 4", "code 4"])
        },
        "BOM accepted" => |p, _| {
            let text = p.read("workers.json");
            p.write("workers.json", &format!("\u{feff}{text}"));
            Setup::passes()
        },
    }
}

fn env_file_cases() -> Vec<BadInput> {
    cases! { ".env":
        "unterminated quote names the line" => |p, _| {
            p.write(".env", "# fault\nFAULT_OTHER=1\nFAULT_X=\"sec-unterminated-7d1\n");
            Setup::fails(&[".env"]).or_names(&["line 3", ".env:3"]).secret("sec-unterminated-7d1")
        },
        "line without a key" => |p, _| {
            p.write(".env", "FAULT_OTHER=1\n=sec-keyless-42a\n");
            Setup::fails(&[".env"]).or_names(&["line 2", ".env:2"]).secret("sec-keyless-42a")
        },
        "key not a name" => |p, _| {
            p.write(".env", "1BAD KEY=sec-badkey-9f0\n");
            Setup::fails(&[".env"]).or_names(&["line 1", ".env:1"]).secret("sec-badkey-9f0")
        },
        "line without '='" => |p, _| {
            p.write(".env", "FAULT_OTHER=1\n\nsec-no-equals-c3e\n");
            Setup::fails(&[".env"]).or_names(&["line 3", ".env:3"]).secret("sec-no-equals-c3e")
        },
        "project .env malformed" => |p, _| {
            std::fs::write(p.dir.path().join(".env"), "FAULT_P=\"sec-project-b72\n").unwrap();
            Setup::fails(&[".env"]).or_names(&["line 1", ".env:1"]).secret("sec-project-b72")
        },
        "not UTF-8" => |p, _| {
            p.write_bytes(".env", b"FAULT_OTHER=\xff\xfe\n");
            Setup::fails(&[".env"])
        },
        "BOM accepted" => |p, _| {
            // The mapped variable comes from the `.env` alone: a BOM that
            // spoiled the first name would leave it unset.
            p.edit("workers.json", "\"FAULT_TOKEN\"}", "\"FAULT_DOTENV_TOKEN\"}");
            p.write(".env", &format!("\u{feff}FAULT_DOTENV_TOKEN={TOKEN}\n"));
            Setup::passes()
        },
    }
}

fn keypair_file_cases() -> Vec<BadInput> {
    fn file_case(p: &Project, contents: &[u8]) -> Setup {
        p.write_bytes("keys/staking.json", contents);
        Setup::fails(&["staking.json", "FAULT_STAKING"]).env("FAULT_STAKING", "keys/staking.json")
    }
    cases! { "keypair file":
        "missing" => |_, _| {
            Setup::fails(&["absent.json", "FAULT_STAKING"]).env("FAULT_STAKING", "keys/absent.json")
        },
        "not JSON" => |p, _| file_case(p, b"this is not json"),
        "empty" => |p, _| file_case(p, b""),
        "an object" => |p, _| file_case(p, b"{\"secret\": [1, 2, 3]}"),
        "wrong length" => |p, s| {
            let short = s.inline_keypair.rsplit_once(',').unwrap().0.to_owned() + "]";
            file_case(p, short.as_bytes())
        },
        "byte out of range" => |p, s| {
            let (head, _) = s.inline_keypair.rsplit_once(',').unwrap();
            file_case(p, format!("{head},300]").as_bytes())
        },
        "negative byte" => |p, s| {
            let (head, _) = s.inline_keypair.rsplit_once(',').unwrap();
            file_case(p, format!("{head},-1]").as_bytes())
        },
        "a directory" => |p, _| {
            std::fs::create_dir_all(p.tests_dir().join("keys/dir.json")).unwrap();
            Setup::fails(&["dir.json", "FAULT_STAKING"]).env("FAULT_STAKING", "keys/dir.json")
        },
    }
}

fn fixture_cases() -> Vec<BadInput> {
    fn reset(names: &[&str]) -> Setup {
        Setup::fails(names).args(&["--reset"])
    }
    cases! { "fixtures":
        "bad $oid names line, column and field" => |p, _| {
            p.write("data/todos.json", "[\n  {\"title\": \"a\"},\n  {\"title\": \"b\",\n   \"_id\": {\"$oid\": \"not-an-object-id\"}}\n]\n");
            reset(&["todos.json:4:", "element", "_id.$oid"])
        },
        "bad $date names the field" => |p, _| {
            p.write("data/todos.json", "[\n  {\"title\": \"a\", \"due\": {\"$date\": \"yesterday\"}},\n  {\"title\": \"b\"}\n]\n");
            reset(&["todos.json:2:", "due.$date"])
        },
        "invalid JSON names line and column" => |p, _| {
            p.write("data/todos.json", "[\n  {\"title\": \"a\"},\n  {\"title\": }\n]");
            reset(&["todos.json:3:13"])
        },
        "duplicate _id" => |p, _| {
            p.write("data/todos.json", "[\n  {\"_id\": {\"$oid\": \"65a000000000000000000001\"}},\n  {\"_id\": {\"$oid\": \"65a000000000000000000001\"}}\n]\n");
            reset(&["todos.json", "_id"])
        },
        "fewer than required_count" => |p, _| {
            p.write("data/todos.json", "[{\"title\": \"only one\"}]\n");
            reset(&["todos", "required_count"])
        },
        "element not an object" => |p, _| {
            p.write("data/todos.json", "[\n  {\"title\": \"a\"},\n  7\n]\n");
            reset(&["todos.json:3:", "element"])
        },
        "a number, not documents" => |p, _| {
            p.write("data/todos.json", "42\n");
            reset(&["todos.json"])
        },
        "file missing" => |p, _| {
            std::fs::remove_file(p.tests_dir().join("data/todos.json")).unwrap();
            reset(&["todos.json"])
        },
        "BOM accepted" => |p, _| {
            p.write("data/todos.json", &format!("\u{feff}{TWO_TODOS}"));
            Setup::passes().args(&["--reset"])
        },
    }
}

fn state_cases() -> Vec<BadInput> {
    fn state(p: &Project, edit: impl FnOnce(&mut Value)) {
        let mut value: Value = serde_json::from_str(&p.read("data/test_state.json")).unwrap();
        edit(&mut value);
        p.write(
            "data/test_state.json",
            &serde_json::to_string_pretty(&value).unwrap(),
        );
    }
    cases! { "state":
        "corrupt JSON" => |p, _| {
            let text = p.read("data/test_state.json");
            p.write("data/test_state.json", &text[..text.len() / 2]);
            Setup::fails(&["test_state.json"])
        },
        "not an object" => |p, _| {
            p.write("data/test_state.json", "[1, 2]\n");
            Setup::fails(&["test_state.json"])
        },
        "current_round not a number" => |p, _| {
            state(p, |v| v["current_round"] = "two".into());
            Setup::fails(&["test_state.json"]).or_names(&["current_round", "line "])
        },
        "current_round zero" => |p, _| {
            state(p, |v| v["current_round"] = 0.into());
            Setup::fails(&["test_state.json", "current_round"])
        },
        "rounds not an object" => |p, _| {
            state(p, |v| v["rounds"] = serde_json::json!([1]));
            Setup::fails(&["test_state.json"]).or_names(&["rounds", "line "])
        },
        "unfinished round past max_rounds" => |p, _| {
            state(p, |v| v["current_round"] = 7.into());
            Setup::fails(&["test_state.json", "7", "3"])
        },
        "unknown last step" => |p, _| {
            state(p, |v| v["last_completed_step"] = "frobnicate".into());
            Setup::fails(&["test_state.json", "frobnicate"])
        },
        "last step not a string" => |p, _| {
            state(p, |v| v["last_completed_step"] = 3.into());
            Setup::fails(&["test_state.json"]).or_names(&["last_completed_step", "line "])
        },
        "stale temporary file removed" => |p, _| {
            p.write("data/.test_state.json.999999.tmp", "{\"half\": ");
            let mut setup = Setup::passes();
            setup.after = Some(|p| {
                if p.tests_dir().join("data/.test_state.json.999999.tmp").exists() {
                    Err("the stale .test_state.json.999999.tmp is still there".into())
                } else {
                    Ok(())
                }
            });
            setup
        },
    }
}

fn cli_cases() -> Vec<BadInput> {
    cases! { "command line":
        "unknown flag" => |_, _| {
            Setup::usage(&["--frobnicate"], &["frobnicate"])
        },
        "bad --format" => |_, _| {
            Setup::usage(&["--format", "xml"], &["xml"])
        },
        "bad --test-threads" => |_, _| {
            Setup::usage(&["--test-threads", "lots"], &["test-threads"])
        },
        "filter matching nothing" => |_, _| {
            let mut setup = Setup::with(0, vec![vec!["0 passed".into()]]).args(&["no_such_step"]);
            setup.after = Some(|p| {
                let log = p.take_log();
                if log.is_empty() { Ok(()) } else { Err(format!("steps ran: {log:?}")) }
            });
            setup
        },
    }
}

fn environment_cases() -> Vec<BadInput> {
    cases! { "environment":
        "MONGO_URI unreachable" => |_, _| {
            let port = common::free_port();
            let uri = format!("mongodb://fault:{URI_PASSWORD}@127.0.0.1:{port}/");
            Setup::fails(&["MONGO_URI"]).env("MONGO_URI", &uri)
        },
        "MONGO_URI not a URI" => |_, _| {
            Setup::fails(&["MONGO_URI"]).env("MONGO_URI", &format!("http://user:{URI_PASSWORD}@127.0.0.1/"))
        },
        "PROMETHEUS_TEST_MONGOD missing" => |p, _| {
            let missing = p.dir.path().join("no-mongod");
            Setup::fails(&["PROMETHEUS_TEST_MONGOD", "no-mongod"])
                .env("MONGO_URI", "")
                .env("PROMETHEUS_TEST_MONGOD", missing.to_str().unwrap())
        },
        "PROMETHEUS_TEST_MONGOD not executable" => |p, _| {
            let file = p.dir.path().join("mongod.txt");
            std::fs::write(&file, "not a program").unwrap();
            Setup::fails(&["PROMETHEUS_TEST_MONGOD", "mongod.txt"])
                .env("MONGO_URI", "")
                .env("PROMETHEUS_TEST_MONGOD", file.to_str().unwrap())
        },
        "PROMETHEUS_TEST_CONFIG missing" => |p, _| {
            let missing = p.tests_dir().join("other.yaml");
            Setup::fails(&["other.yaml"]).env("PROMETHEUS_TEST_CONFIG", missing.to_str().unwrap())
        },
        "a worker's port taken" => |p, _| {
            let listener = TcpListener::bind(("127.0.0.1", p.ports[0])).unwrap();
            let mut setup = Setup::fails(&["worker1", &p.ports[0].to_string()]);
            setup.hold = Some(listener);
            setup
        },
        "post_load hook fails" => |_, _| {
            let mut setup = Setup::fails(&["post_load", "asked to fail in the hook"])
                .env("CONTRACT_HOOK_FAIL", "1")
                .args(&["--reset"]);
            setup.binary = hook_bin();
            // The hook runs after the import: the collections change.
            setup.expect.untouched = false;
            setup
        },
    }
}

/// The saved run every case starts from: its data directory and collections.
struct Template {
    project: Project,
    documents: Vec<(String, Vec<Document>)>,
}

impl Template {
    /// Plays the first two steps of round 1, as a run that stopped there.
    fn make(mongo: &Mongo, secrets: &Secrets) -> Self {
        let project = Project::new("fault_template", &mongo.uri());
        let env = [("FAULT_STAKING".to_owned(), secrets.inline_keypair.clone())];
        let child = project.spawn(suite_bin(), &["steps::task::work", "--exact"], &env);
        let out = common::wait_with_timeout(child, Duration::from_secs(60)).unwrap();
        assert!(
            out.status.success(),
            "the template run failed: {}",
            text(&out)
        );
        assert!(project.orphans().is_empty());
        project.take_log();
        let documents = mongo.snapshot("fault_template");
        Self { project, documents }
    }

    /// A new project holding a copy of the saved run, with a sentinel planted.
    fn copy(&self, mongo: &Mongo, database: &str) -> Project {
        let project = Project::new(database, &mongo.uri());
        copy_dir(
            &self.project.tests_dir().join("data"),
            &project.tests_dir().join("data"),
        );
        mongo.plant(database, &self.documents);
        project
    }
}

/// Copies the files of `from` into `to`, leaving out lock and temporary files.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") || name.contains("lock") || name == "mongodb" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&*name));
        } else {
            std::fs::copy(entry.path(), to.join(&*name)).unwrap();
        }
    }
}

/// Runs one case; `Err` says every way it went wrong.
fn run_bad_input(
    case: &BadInput,
    index: usize,
    template: &Template,
    mongo: &Mongo,
    secrets: &Secrets,
) -> Result<(), String> {
    let database = format!("fault_case_{index}");
    let project = template.copy(mongo, &database);
    let mut setup = (case.breaks)(&project, secrets);
    if !setup.env.iter().any(|(k, _)| k == "FAULT_STAKING") {
        setup
            .env
            .push(("FAULT_STAKING".into(), secrets.inline_keypair.clone()));
    }
    let state_before = std::fs::read(project.state_path()).ok();
    let db_before = mongo.snapshot(&database);
    let args: Vec<&str> = setup.args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let child = project.spawn(setup.binary, &args, &setup.env);
    let output = common::wait_with_timeout(child, Duration::from_secs(60));
    let elapsed = started.elapsed();
    drop(setup.hold.take());
    let mut problems = Vec::new();
    let orphans = project.orphans();
    if !orphans.is_empty() {
        problems.push(format!("processes left: {orphans:?}"));
    }
    let output = match output {
        Ok(output) => output,
        Err(error) => return Err(format!("the run {error}")),
    };
    let all = text(&output);
    let code = output.status.code();
    if !code.is_some_and(|code| setup.expect.codes.contains(&code)) {
        problems.push(format!(
            "exit {code:?}, expected {:?} ({})",
            setup.expect.codes,
            tail(&all)
        ));
    }
    if setup.expect.codes == [2] && elapsed > Duration::from_secs(15) {
        problems.push(format!("took {elapsed:?} to fail"));
    }
    for group in &setup.expect.names {
        if !group.iter().any(|name| all.contains(name.as_str())) {
            problems.push(format!(
                "the output names none of {group:?} ({})",
                tail(&all)
            ));
        }
    }
    if all.contains("panicked") {
        problems.push(format!("a panic: {}", tail(&all)));
    }
    if let Some(secret) = secrets.leaked(&setup.expect.secrets, &all) {
        problems.push(format!("a planted secret shows: {secret}"));
    }
    if let Ok(state) = std::fs::read_to_string(project.state_path())
        && let Some(secret) = secrets.leaked(&setup.expect.secrets, &state)
    {
        problems.push(format!("a planted secret is in the state: {secret}"));
    }
    if setup.expect.untouched {
        if std::fs::read(project.state_path()).ok() != state_before {
            problems.push("the state file changed".into());
        }
        if mongo.snapshot(&database) != db_before {
            problems.push("the collections changed".into());
        }
    }
    if let Some(after) = setup.after
        && let Err(problem) = after(&project)
    {
        problems.push(problem);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// A second run while one holds the data folder fails naming the holder's PID.
fn locked_data_folder(template: &Template, mongo: &Mongo, secrets: &Secrets) -> Result<(), String> {
    let project = template.copy(mongo, "fault_case_lock");
    let env = [
        ("FAULT_STAKING".to_owned(), secrets.inline_keypair.clone()),
        ("CONTRACT_HANG".to_owned(), "audit:1".to_owned()),
    ];
    let first = project.spawn(suite_bin(), &[], &env);
    let holder = first.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(project.log_path())
        .unwrap_or_default()
        .contains("1:audit")
    {
        if Instant::now() > deadline {
            let _ = kill(
                Pid::from_raw(i32::try_from(holder).unwrap()),
                Signal::SIGKILL,
            );
            let _ = common::wait_with_timeout(first, Duration::from_secs(10));
            return Err("the first run never reached its hanging step".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let state_before = std::fs::read(project.state_path()).ok();
    let second = project.spawn(suite_bin(), &[], &env[..1]);
    let second = common::wait_with_timeout(second, Duration::from_secs(30));
    kill(
        Pid::from_raw(i32::try_from(holder).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let _ = common::wait_with_timeout(first, Duration::from_secs(20));
    let mut problems = Vec::new();
    let orphans = project.orphans();
    if !orphans.is_empty() {
        problems.push(format!("processes left: {orphans:?}"));
    }
    match second {
        Err(error) => problems.push(format!("the second run {error}")),
        Ok(out) => {
            let all = text(&out);
            if out.status.code() != Some(2) {
                problems.push(format!(
                    "exit {:?}, expected 2 ({})",
                    out.status.code(),
                    tail(&all)
                ));
            }
            if !all.contains(&holder.to_string()) {
                problems.push(format!(
                    "the output does not name PID {holder} ({})",
                    tail(&all)
                ));
            }
        }
    }
    if std::fs::read(project.state_path()).ok() != state_before {
        problems.push("the second run changed the state file".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn bad_inputs_stop_the_run_with_a_clear_error_and_touch_nothing() {
    let started = Instant::now();
    let mongo = Mongo::start();
    let secrets = Secrets::new();
    let template = Template::make(&mongo, &secrets);
    let cases: Vec<BadInput> = [
        config_cases(),
        workers_cases(),
        workers_keypair_cases(),
        workers_file_cases(),
        env_file_cases(),
        keypair_file_cases(),
        fixture_cases(),
        state_cases(),
        cli_cases(),
        environment_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut results = run_parallel(cases.len(), |i| {
        run_bad_input(&cases[i], i, &template, &mongo, &secrets)
    });
    results.push(locked_data_folder(&template, &mongo, &secrets));
    let names: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c.group, c.name))
        .chain([("environment", "data folder locked by another run")])
        .collect();
    let failures: Vec<String> = names
        .iter()
        .zip(&results)
        .filter_map(|((group, name), result)| {
            result
                .as_ref()
                .err()
                .map(|why| format!("{group}: {name}: {why}"))
        })
        .collect();
    let mut by_group: Vec<(&str, usize, usize)> = Vec::new();
    for ((group, _), result) in names.iter().zip(&results) {
        if by_group.last().is_none_or(|(g, _, _)| g != group) {
            by_group.push((group, 0, 0));
        }
        let row = by_group
            .iter_mut()
            .rev()
            .find(|(g, _, _)| g == group)
            .unwrap();
        row.1 += 1;
        row.2 += usize::from(result.is_ok());
    }
    for (group, count, clean) in &by_group {
        eprintln!("  {group}: {count} cases, {clean} clean");
    }
    mongo.stop();
    // Straight to stderr, past libtest's capture: the summary shows in every run.
    let _ = writeln!(
        std::io::stderr(),
        "bad inputs: {} cases, {} clean ({:.1} s)",
        results.len(),
        results.len() - failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Kill points
// ---------------------------------------------------------------------------

/// How many kill points the test plays.
const KILL_POINTS: usize = 30;
/// Rounds of the kill suite: two todos of the task, plus one.
const KILL_ROUNDS: u32 = 3;

/// `FAULT_SUITE_SEED`, else one drawn from the clock (printed by the tests
/// that use it, so a failure can be replayed).
fn seed() -> u64 {
    std::env::var("FAULT_SUITE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            u64::try_from(nanos & u128::from(u64::MAX)).unwrap()
        })
}

/// `SplitMix64`: small, seedable, good enough to spread delays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// One kill: after `delay` from the start, `signal` to the runner; or the
/// runner's SIGKILL of itself at a named point of its own code.
struct KillPoint {
    /// The step-log line (`hook`, `2:work`…) to wait for first; `None`: the start.
    after: Option<String>,
    delay: Duration,
    signal: Signal,
    /// `PROMETHEUS_TEST_FAILPOINT` for the run: it kills itself there.
    failpoint: Option<String>,
    /// A failpoint for a second run, started after the kill (a restore the
    /// second run is killed in); the next run then must end as one would.
    then: Option<String>,
}

impl KillPoint {
    /// SIGKILL at the named point (`name@n`: its n-th pass) of the runner.
    fn at(failpoint: &str) -> Self {
        Self {
            after: None,
            delay: Duration::ZERO,
            signal: Signal::SIGKILL,
            failpoint: Some(failpoint.to_owned()),
            then: None,
        }
    }

    /// A kill at `failpoint`, then one of the next run at `then`.
    fn then(self, then: &str) -> Self {
        Self {
            then: Some(then.to_owned()),
            ..self
        }
    }

    /// A quarter in the setup (from the start), a quarter in the worker
    /// start (from the `post_load` hook), half inside or between steps (from a
    /// step's first line).
    fn random(rng: &mut Rng) -> Self {
        let (after, delay_ms) = match rng.below(4) {
            0 => (None, rng.below(800)),
            1 => (Some("hook".to_owned()), rng.below(1500)),
            _ => {
                let steps = rounds_from(1, None);
                let step = &steps[usize::try_from(rng.below(steps.len() as u64)).unwrap()];
                (Some(step.clone()), rng.below(40))
            }
        };
        let signal = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGKILL]
            [usize::try_from(rng.below(3)).unwrap()];
        Self {
            after,
            delay: Duration::from_millis(delay_ms),
            signal,
            failpoint: None,
            then: None,
        }
    }

    fn describe(&self) -> String {
        if let Some(failpoint) = &self.failpoint {
            return match &self.then {
                Some(then) => format!("SIGKILL at {failpoint}, then at {then}"),
                None => format!("SIGKILL at {failpoint}"),
            };
        }
        format!(
            "{} {} ms after {}",
            self.signal.as_str(),
            self.delay.as_millis(),
            self.after.as_deref().unwrap_or("the start")
        )
    }
}

/// How a run ended: its exit code or its signal.
fn ending(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => Signal::try_from(signal).map_or_else(
            |_| format!("signal {signal}"),
            |s| format!("killed by {}", s.as_str()),
        ),
        (None, None) => format!("{status:?}"),
    }
}

/// The steps a fresh run plays: the hook, then every round.
fn full_plan() -> Vec<String> {
    std::iter::once("hook".to_owned())
        .chain(rounds_from(1, None))
        .collect()
}

/// The steps of rounds `round..=KILL_ROUNDS`, after `done` in `round`.
fn rounds_from(round: u32, done: Option<&str>) -> Vec<String> {
    let skip = done.map_or(0, |step| {
        ALL_STEPS
            .iter()
            .position(|s| *s == step)
            .map_or(0, |i| i + 1)
    });
    (round..=KILL_ROUNDS)
        .flat_map(|r| {
            let from = if r == round { skip } else { 0 };
            ALL_STEPS[from..].iter().map(move |s| format!("{r}:{s}"))
        })
        .collect()
}

/// Checks the state file a killed run left and returns how many steps of the
/// plan it says are done (`None`: the setup is not) and the plan the next run
/// must play from it.
fn rest_of_plan(project: &Project) -> Result<(Option<usize>, Vec<String>), String> {
    if !project.state_path().exists() {
        return Ok((None, full_plan()));
    }
    let data = project.tests_dir().join("data");
    let state =
        common::saved_state(&data).map_err(|e| format!("the saved state does not parse: {e}"))?;
    let round = state["current_round"]
        .as_u64()
        .and_then(|r| u32::try_from(r).ok())
        .filter(|r| (1..=KILL_ROUNDS).contains(r))
        .ok_or_else(|| format!("bad current_round in {state}"))?;
    if !state["rounds"].is_object() {
        return Err(format!("bad rounds in {state}"));
    }
    let last = match &state["last_completed_step"] {
        Value::Null => None,
        Value::String(step) if ALL_STEPS.contains(&step.as_str()) => Some(step.as_str()),
        other => return Err(format!("bad last_completed_step {other}")),
    };
    if state["setup"] == "pending" {
        return Ok((None, full_plan()));
    }
    let rest = rounds_from(round, last);
    let done = rounds_from(1, None).len() - rest.len();
    Ok((Some(done), if rest.is_empty() { full_plan() } else { rest }))
}

/// What happened at one kill point.
struct KillOutcome {
    /// Where the run was when the signal went: setup, worker start, a step.
    phase: String,
    /// How the killed run ended and how many steps the next one played.
    story: String,
    orphans: bool,
    corrupt: bool,
    problems: Vec<String>,
}

/// Waits until the step log shows `line`, or the run ends or stalls.
fn wait_for_line(project: &Project, child: &mut Child, line: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(project.log_path())
        .unwrap_or_default()
        .lines()
        .any(|l| l == line)
    {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            return Err(format!("the run ended or stalled before `{line}`"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// How the killed run ended, when that is not how `point` should end it:
/// the signal's own exit code or death by it, or exit 0 when the run was
/// already over; only death by SIGKILL at a failpoint.
fn unexpected_end(point: &KillPoint, out: &Output, phase: &str) -> Option<String> {
    use std::os::unix::process::ExitStatusExt as _;
    let expected = match point.signal {
        Signal::SIGINT => Some(130),
        Signal::SIGTERM => Some(143),
        _ => None,
    };
    let code = out.status.code();
    let by_signal = out.status.signal() == Some(point.signal as i32);
    let accepted = if point.failpoint.is_some() {
        by_signal
    } else {
        code == expected || code == Some(0) || by_signal
    };
    (!accepted).then(|| {
        format!(
            "exit {code:?} after {} in {phase} ({})",
            point.signal.as_str(),
            tail(&text(out))
        )
    })
}

fn run_kill_point(
    point: &KillPoint,
    index: usize,
    mongo: &Mongo,
    secrets: &Secrets,
) -> KillOutcome {
    let project = Project::new(&format!("fault_kill_{index}"), &mongo.uri());
    let env = [("FAULT_STAKING".to_owned(), secrets.inline_keypair.clone())];
    let mut outcome = KillOutcome {
        phase: String::new(),
        story: String::new(),
        orphans: false,
        corrupt: false,
        problems: Vec::new(),
    };
    let mut first_env = env.to_vec();
    first_env.extend(
        point
            .failpoint
            .clone()
            .map(|name| ("PROMETHEUS_TEST_FAILPOINT".to_owned(), name)),
    );
    let mut child = project.spawn(hook_bin(), &[], &first_env);
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    if let Some(line) = &point.after
        && let Err(problem) = wait_for_line(&project, &mut child, line)
    {
        outcome.problems.push(problem);
    }
    std::thread::sleep(point.delay);
    let seen = std::fs::read_to_string(project.log_path()).unwrap_or_default();
    let phase = match seen.lines().last() {
        None => "setup".to_owned(),
        Some("hook") => "worker start".to_owned(),
        Some(step) => format!("step {step}"),
    };
    outcome.phase.clone_from(&phase);
    if point.failpoint.is_none() {
        let _ = kill(pid, point.signal);
    }
    match common::wait_with_timeout(child, Duration::from_secs(30)) {
        Err(error) => outcome.problems.push(format!("the killed run {error}")),
        Ok(out) => {
            outcome.story = ending(out.status);
            if let Some(problem) = unexpected_end(point, &out, &phase) {
                outcome.problems.push(problem);
            }
        }
    }
    let orphans = project.orphans();
    if !orphans.is_empty() {
        outcome.orphans = true;
        outcome
            .problems
            .push(format!("processes left after {phase}: {orphans:?}"));
    }
    if let Some(then) = &point.then {
        kill_second_run(&project, &env, then, &mut outcome);
    }
    let entered = project.take_log().iter().filter(|l| *l != "hook").count();
    let expected = match rest_of_plan(&project) {
        Ok((done, plan)) => {
            // Steps log on entry: every entered step but the last is done.
            let consistent =
                done.map_or(entered == 0, |done| done <= entered && entered <= done + 1);
            if !consistent {
                outcome.problems.push(format!(
                    "the state says {done:?} steps are done, but the killed run entered {entered}"
                ));
            }
            plan
        }
        Err(problem) => {
            outcome.corrupt = true;
            outcome.problems.push(problem);
            return outcome;
        }
    };
    let next = project.spawn(hook_bin(), &[], &env);
    match common::wait_with_timeout(next, Duration::from_secs(90)) {
        Err(error) => outcome.problems.push(format!("the next run {error}")),
        Ok(out) if !out.status.success() => outcome.problems.push(format!(
            "the next run exited {:?} ({})",
            out.status.code(),
            tail(&text(&out))
        )),
        Ok(_) => {
            let ran = project.take_log();
            let _ = write!(outcome.story, "; the next run played {} steps", ran.len());
            if ran != expected {
                outcome.problems.push(format!(
                    "after {phase} the next run played {ran:?}, expected {expected:?}"
                ));
            }
        }
    }
    if !project.orphans().is_empty() {
        outcome.orphans = true;
        outcome
            .problems
            .push("processes left after the next run".into());
    }
    outcome
}

/// Starts the next run with the failpoint `then` and checks it was killed
/// there, leaving no process.
fn kill_second_run(
    project: &Project,
    env: &[(String, String)],
    then: &str,
    outcome: &mut KillOutcome,
) {
    let mut second_env = env.to_vec();
    second_env.push(("PROMETHEUS_TEST_FAILPOINT".to_owned(), then.to_owned()));
    match common::wait_with_timeout(
        project.spawn(hook_bin(), &[], &second_env),
        Duration::from_secs(30),
    ) {
        Err(error) => outcome.problems.push(format!("the second run {error}")),
        Ok(out) => {
            use std::os::unix::process::ExitStatusExt as _;
            if out.status.signal() != Some(Signal::SIGKILL as i32) {
                outcome.problems.push(format!(
                    "the second run was not killed at {then}: {} ({})",
                    ending(out.status),
                    tail(&text(&out))
                ));
            }
        }
    }
    if !project.orphans().is_empty() {
        outcome.orphans = true;
        outcome
            .problems
            .push("processes left after the second run".into());
    }
}

#[test]
fn random_kill_points_leave_no_process_and_a_run_that_resumes() {
    let started = Instant::now();
    let mongo = Mongo::start();
    let secrets = Secrets::new();
    // One full run sets the span the kill points spread over.
    let probe = Project::new("fault_kill_probe", &mongo.uri());
    let env = [("FAULT_STAKING".to_owned(), secrets.inline_keypair.clone())];
    let probe_start = Instant::now();
    let out =
        common::wait_with_timeout(probe.spawn(hook_bin(), &[], &env), Duration::from_secs(90))
            .unwrap();
    let span = probe_start.elapsed();
    assert!(out.status.success(), "the probe run failed: {}", text(&out));
    assert_eq!(probe.take_log(), full_plan());
    assert!(probe.orphans().is_empty());

    let seed = seed();
    let mut rng = Rng(seed);
    let points: Vec<KillPoint> = (0..KILL_POINTS)
        .map(|_| KillPoint::random(&mut rng))
        .collect();
    eprintln!(
        "kill points: seed {seed} (FAULT_SUITE_SEED={seed} replays them, FAULT_SUITE_KILL=<i> only point i); full run {} ms",
        span.as_millis()
    );
    let only: Option<usize> = std::env::var("FAULT_SUITE_KILL")
        .ok()
        .and_then(|s| s.parse().ok());
    let chosen: Vec<usize> = (0..KILL_POINTS)
        .filter(|i| only.is_none_or(|o| o == *i))
        .collect();
    let outcomes = run_parallel(chosen.len(), |n| {
        let i = chosen[n];
        run_kill_point(&points[i], i, &mongo, &secrets)
    });
    mongo.stop();
    let mut failures = Vec::new();
    for (outcome, &i) in outcomes.iter().zip(&chosen) {
        let point = &points[i];
        if !outcome.problems.is_empty() {
            failures.push(format!(
                "kill point {i} ({}): {}",
                point.describe(),
                outcome.problems.join("; ")
            ));
        }
    }
    for (outcome, &i) in outcomes.iter().zip(&chosen) {
        eprintln!(
            "  kill point {i}: {}, in {}: {}",
            points[i].describe(),
            outcome.phase,
            outcome.story
        );
    }
    let orphans = outcomes.iter().filter(|o| o.orphans).count();
    let corrupt = outcomes.iter().filter(|o| o.corrupt).count();
    let _ = writeln!(
        std::io::stderr(),
        "fault suite: {} cases, {} clean, {orphans} orphans, {corrupt} corrupt states ({:.1} s)",
        outcomes.len(),
        outcomes.len() - failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} kill points failed (seed {seed}):\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n")
    );
}

/// SIGKILL at exact points of the state's journal and of its folding into
/// the state file: a torn journal line, a fold killed before it writes the
/// state file, and one killed after its rename, before the journal is gone.
#[test]
fn kills_inside_journal_writes_and_folds_lose_nothing_and_resume_at_the_right_step() {
    let mongo = Mongo::start();
    let secrets = Secrets::new();
    let points = [
        "state.journal.torn@1",
        "state.journal.torn@6",
        "state.fold.before@3",
        "state.fold.renamed@2",
        "state.fold.renamed@4",
    ]
    .map(KillPoint::at);
    let outcomes = run_parallel(points.len(), |i| {
        run_kill_point(&points[i], 100 + i, &mongo, &secrets)
    });
    mongo.stop();
    assert_no_problems(&outcomes, &points);
}

/// SIGKILL inside snapshots and restores, at points and passes drawn from a
/// seed (`FAULT_SUITE_SEED`): a snapshot killed before its manifest, and a
/// resumed run killed while it restores the world (after its journal, after
/// the collections, after a file). The next run completes or redoes the
/// restore and plays exactly the rest of the plan.
#[test]
fn kills_inside_snapshots_and_restores_leave_no_half_world() {
    let mongo = Mongo::start();
    let secrets = Secrets::new();
    let seed = seed();
    let mut rng = Rng(seed);
    let mut torn = || format!("state.journal.torn@{}", 2 + rng.below(8));
    let torn: Vec<String> = (0..4).map(|_| torn()).collect();
    let points = [
        KillPoint::at(&format!(
            "snapshot.take.manifest@{}",
            1 + Rng(seed ^ 1).below(12)
        )),
        KillPoint::at(&torn[0]).then("snapshot.restore.journaled"),
        KillPoint::at(&torn[1]).then("snapshot.restore.collections"),
        KillPoint::at(&torn[2]).then("snapshot.restore.file"),
        KillPoint::at(&torn[3]).then("snapshot.restore.collections"),
    ];
    eprintln!("snapshot kill points: seed {seed} (FAULT_SUITE_SEED={seed} replays them)");
    let outcomes = run_parallel(points.len(), |i| {
        run_kill_point(&points[i], 200 + i, &mongo, &secrets)
    });
    mongo.stop();
    assert_no_problems(&outcomes, &points);
}

/// Fails with every problem of `outcomes`, each after its kill point.
fn assert_no_problems(outcomes: &[KillOutcome], points: &[KillPoint]) {
    let failures: Vec<String> = outcomes
        .iter()
        .zip(points)
        .filter(|(outcome, _)| !outcome.problems.is_empty())
        .map(|(outcome, point)| format!("{}: {}", point.describe(), outcome.problems.join("; ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The client against the example's fake LLM (`fake-llm/server.py`, which
//! needs `python3` and `openssl`), over HTTPS with a CA of its own, its host
//! name resolved to 127.0.0.1 by the client.

use std::io::{BufRead as _, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::*;

const HOST: &str = "llm.todo-task.test";

/// The fake LLM, stopped and its certificates removed on drop.
struct FakeLlm {
    child: Child,
    port: u16,
    certs: PathBuf,
}

impl FakeLlm {
    fn start() -> Self {
        let certs = std::env::temp_dir().join(format!("todo-task-llm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&certs);
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fake-llm/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--host", HOST, "--certs"])
            .arg(&certs)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start python3 fake-llm/server.py");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let server = Self { child, port, certs };
        assert_eq!(line.trim(), "ready", "the fake LLM did not start");
        server
    }

    fn settings(&self, path: &str, trusted: bool) -> LlmSettings {
        LlmSettings {
            url: format!("https://{HOST}:{}{path}", self.port),
            api_key: Some("test-key".to_owned()),
            cert_file: trusted.then(|| self.certs.join("ca.pem")),
        }
    }

    /// A client reaching the fake by its name, whatever proxy the
    /// environment names.
    fn client(&self, settings: &LlmSettings) -> Llm {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let builder = reqwest::Client::builder().no_proxy().resolve(HOST, address);
        Llm::with_builder(settings, builder).unwrap()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn summarises_over_https_trusting_the_cert_file_and_explains_failures() {
    let fake = FakeLlm::start();

    let llm = fake.client(&fake.settings("/v1/messages", true));
    let summary = llm
        .summarise("Write docs", "Explain the audit")
        .await
        .unwrap();
    assert_eq!(
        summary,
        "Summary: Summarise this todo in one line: Write docs: Explain the audit"
    );

    let missing = fake.client(&fake.settings("/v2/nothing", true));
    let err = missing.summarise("a", "b").await.unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "it answered 404 Not Found: {\"type\": \"error\", \"error\": {\"message\": \"no such path\"}}"
    );

    let untrusted = fake.client(&fake.settings("/v1/messages", false));
    let err = format!("{:#}", untrusted.summarise("a", "b").await.unwrap_err());
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn excerpts_cut_long_bodies_at_a_character() {
    assert_eq!(excerpt("short"), "short");
    let long = "é".repeat(BODY_EXCERPT + 5);
    assert_eq!(excerpt(&long), format!("{}…", "é".repeat(BODY_EXCERPT)));
}

//! Real clients through the proxy, configured as a worker is: curl, and
//! Python's `requests` from the environment [`client_env`] makes. A client
//! missing here skips its test with a notice, and fails it under CI.

use std::path::Path;
use std::process::Stdio;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio::process::Command;

use super::support::{PLAIN_HOST, Setup, Summary, TLS_HOST};
use crate::proxy::{CaFile, Loopback, client_env, write_bundle};
use crate::test_support::unavailable;

/// A command with a cleared environment but for what finds programs.
fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.env_clear().stdin(Stdio::null()).kill_on_drop(true);
    for name in ["PATH", "HOME", "PYENV_ROOT", "PYENV_VERSION"] {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
}

#[tokio::test]
async fn curl_goes_through_trusting_the_bundle() {
    let setup = Setup::start().await;
    let url = format!("https://{TLS_HOST}/echo");
    let output = match command("curl")
        .args(["-sS", "--fail-with-body", "--proxy"])
        .arg(format!("http://{}", setup.listener))
        .arg("--cacert")
        .arg(&setup.bundle)
        .args(["--data", "from curl", &url])
        .output()
        .await
    {
        Ok(output) => output,
        Err(error) => {
            return unavailable(&format!("cannot run curl: {error}"), "install curl");
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [Summary::forwarded("POST", &url, "from curl", &stdout)]
    );
}

const PYTHON_SCRIPT: &str = r#"
import sys, requests
for url, body in zip(sys.argv[1::2], sys.argv[2::2]):
    response = requests.post(url, data=body.encode(), timeout=10)
    response.raise_for_status()
    sys.stdout.write(response.text + "\n")
"#;

/// Nothing but the environment tells `requests` about the proxy and the CA.
#[tokio::test]
async fn python_requests_goes_through_with_the_client_env() {
    let setup = Setup::start().await;
    // The Python scripts/lib/clients.sh installs the clients in, else the system's.
    let python =
        std::env::var("PROMETHEUS_TEST_CLIENTS_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = command(&python)
        .args(["-c", "import requests"])
        .output()
        .await;
    if !probe.as_ref().is_ok_and(|probe| probe.status.success()) {
        return unavailable(
            "Python's `requests` cannot be imported",
            "scripts/lib/clients.sh ensure_http_clients installs it (PROMETHEUS_TEST_CLIENTS_PYTHON)",
        );
    }
    let https = format!("https://{TLS_HOST}/echo");
    let http = format!("http://{PLAIN_HOST}/echo");
    let output = command(&python)
        .envs(client_env(setup.listener, &setup.bundle, Loopback::Direct))
        .args(["-c", PYTHON_SCRIPT, &https, "one", &http, "two"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bodies: Vec<&str> = stdout.lines().collect();
    assert_eq!(bodies.len(), 2, "{stdout}");
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [
            Summary::forwarded("POST", &https, "one", bodies[0]),
            Summary::forwarded("POST", &http, "two", bodies[1]),
        ]
    );
}

fn certificates(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// System (or Mozilla's) roots first, then the extra files', then the
/// suite's CA.
#[tokio::test]
async fn the_bundle_holds_the_roots_the_extra_files_and_the_suite_ca() {
    let setup = Setup::start().await;
    let bundle = certificates(&setup.bundle);
    let upstream_ca = certificates(&setup.upstream_ca);
    assert!(bundle.len() > 2, "{} certificates", bundle.len());
    assert_eq!(
        bundle[bundle.len() - 2..],
        [upstream_ca[0].clone(), setup.suite_ca.clone()]
    );
    setup.stop().await;
}

#[test]
fn an_extra_file_that_cannot_be_read_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::proxy::Ca::load_or_create(dir.path()).unwrap();
    let missing = dir.path().join("missing.pem");
    let error = write_bundle(
        &ca,
        &[CaFile {
            named_by: "SSL_CERT_FILE".to_owned(),
            path: missing.clone(),
        }],
    )
    .unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!(
            "cannot read SSL_CERT_FILE {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn the_client_env_names_the_listener_and_the_bundle() {
    let env = client_env(
        "127.0.0.1:4567".parse().unwrap(),
        Path::new("/d/.proxy/ca-bundle.pem"),
        Loopback::Direct,
    );
    let proxy = "http://127.0.0.1:4567";
    let bundle = "/d/.proxy/ca-bundle.pem";
    let no_proxy = "localhost,127.0.0.1,::1";
    let expected = [
        ("HTTP_PROXY", proxy),
        ("HTTPS_PROXY", proxy),
        ("http_proxy", proxy),
        ("https_proxy", proxy),
        ("NO_PROXY", no_proxy),
        ("no_proxy", no_proxy),
        ("SSL_CERT_FILE", bundle),
        ("REQUESTS_CA_BUNDLE", bundle),
        ("CURL_CA_BUNDLE", bundle),
        ("NODE_EXTRA_CA_CERTS", bundle),
        ("GIT_SSL_CAINFO", bundle),
        ("NODE_USE_ENV_PROXY", "1"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    assert_eq!(env, expected);
    let routed = client_env(
        "127.0.0.1:4567".parse().unwrap(),
        Path::new("/d/.proxy/ca-bundle.pem"),
        Loopback::Routed,
    );
    let no_proxy: Vec<&(String, String)> = routed
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("no_proxy"))
        .collect();
    assert_eq!(no_proxy.len(), 2);
    assert!(no_proxy.iter().all(|(_, value)| value.is_empty()));
}

//! The `JUnit` report against Jenkins' published schema and a CI-style reader.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::record::model::Outcome;
use crate::record::{junit, sample};
use crate::tools::{artifact_dir, ensure, ignored, large_record, repo_root, run};

/// A real XML Schema validator.
enum Validator {
    /// libxml2's `xmllint --schema`.
    Xmllint(PathBuf),
    /// Python's `xmlschema` package, in a venv made here.
    Xmlschema(PathBuf),
}

impl Validator {
    /// xmllint (installed from Debian when missing), else `xmlschema` from
    /// `PyPI` in a venv under target/; `Err` says why neither can be had.
    fn find() -> Result<Self, String> {
        let xmllint_error = match ensure("ensure_xmllint", "PROMETHEUS_TEST_XMLLINT") {
            Ok(path) => return Ok(Self::Xmllint(path)),
            Err(why) => why,
        };
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xmlschema-venv");
        let python = venv.join("bin/python");
        let ready = |python: &Path| {
            Command::new(python)
                .args(["-c", "import xmlschema"])
                .output()
                .is_ok_and(|out| out.status.success())
        };
        if !ready(&python) {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .output()
                .is_ok_and(|out| out.status.success())
                && Command::new(&python)
                    .args(["-m", "pip", "install", "--quiet", "xmlschema"])
                    .output()
                    .is_ok_and(|out| out.status.success());
            if !made || !ready(&python) {
                return Err(format!(
                    "no XML Schema validator: {xmllint_error}; and python3 could not install xmlschema in a venv"
                ));
            }
        }
        Ok(Self::Xmlschema(python))
    }

    fn validate(&self, xsd: &Path, xml: &Path) -> Result<(), String> {
        let output = match self {
            Self::Xmllint(xmllint) => run(
                Command::new(xmllint)
                    .arg("--noout")
                    .arg("--schema")
                    .arg(xsd)
                    .arg(xml),
                Duration::from_secs(60),
            ),
            Self::Xmlschema(python) => run(
                Command::new(python)
                    .args([
                        "-c",
                        "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
                    ])
                    .arg(xsd)
                    .arg(xml),
                Duration::from_secs(60),
            ),
        };
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

fn schema() -> PathBuf {
    repo_root().join("prometheus-test/tests/report/jenkins-junit-4.xsd")
}

#[test]
fn junit_reports_validate_against_the_jenkins_schema() {
    let validator = match Validator::find() {
        Ok(validator) => validator,
        Err(why) => return ignored("junit_reports_validate_against_the_jenkins_schema", &why),
    };
    let dir = artifact_dir("junit");
    for (name, record) in [
        ("small", sample::small(true)),
        ("large", large_record().clone()),
    ] {
        let path = dir.join(format!("{name}.xml"));
        std::fs::write(&path, junit::render(&record)).expect("write the report");
        validator
            .validate(&schema(), &path)
            .unwrap_or_else(|err| panic!("{name}.xml does not validate: {err}"));
    }
    // The validator does reject what breaks the schema: a testcase without
    // its required name, and a skip reason given as an attribute.
    let xml = junit::render(&sample::small(true));
    for (what, broken) in [
        (
            "no name",
            xml.replacen(" name=\"steps::fetch_todo\"", "", 1),
        ),
        (
            "skipped with an attribute",
            xml.replacen("<skipped>", "<skipped message=\"x\">", 1),
        ),
    ] {
        assert_ne!(broken, xml, "{what}: the document changed");
        let path = dir.join("broken.xml");
        std::fs::write(&path, broken).expect("write");
        assert!(
            validator.validate(&schema(), &path).is_err(),
            "{what}: the validator accepted a broken report"
        );
    }
}

#[test]
fn a_ci_reader_counts_tests_failures_and_skips() {
    let record = sample::small(true);
    let dir = artifact_dir("junit-reader");
    let path = dir.join("small.xml");
    std::fs::write(&path, junit::render(&record)).expect("write the report");
    let output = run(
        Command::new("python3")
            .arg(repo_root().join("prometheus-test/tests/report/junit_consumer.py"))
            .arg(&path),
        Duration::from_secs(60),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let count = |f: fn(&Outcome) -> bool| record.steps().filter(|(_, s)| f(&s.outcome)).count();
    let expected = serde_json::json!({
        "tests": record.steps().count(),
        "failures": count(|o| matches!(o, Outcome::Failed { .. })),
        "skipped": count(|o| matches!(o, Outcome::Skipped { .. })),
    });
    assert_eq!(
        expected,
        serde_json::json!({"tests": 12, "failures": 1, "skipped": 1})
    );
    assert_eq!(read["counted"], expected);
    assert_eq!(read["declared"]["tests"], expected["tests"]);
    assert_eq!(read["declared"]["failures"], expected["failures"]);
    assert_eq!(read["declared"]["skipped"], expected["skipped"]);
    let cases = read["cases"].as_array().expect("cases");
    let failed: Vec<&serde_json::Value> =
        cases.iter().filter(|c| c["status"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["classname"], "round 3");
    assert_eq!(failed[0]["name"], "steps::audit");
    assert_eq!(
        failed[0]["message"],
        "audit of round 3 failed: HTTP 500 from worker2"
    );
    let out = failed[0]["system_out"].as_str().expect("system-out");
    assert!(
        out.contains("POST http://127.0.0.1:40222/audit/3 -> 500"),
        "{out}"
    );
    assert!(
        out.contains("\"action\":\"audit\""),
        "decoded payload: {out}"
    );
    assert!(out.contains("MongoServerError"), "worker log: {out}");
    let skipped = cases
        .iter()
        .find(|c| c["status"] == "skipped")
        .expect("a skip");
    assert_eq!(skipped["message"], "an earlier step of round 3 failed");
    assert_eq!(skipped["name"], "steps::distribution");
}

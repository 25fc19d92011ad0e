//! Planted secrets never reach any output of a sample record: every format is
//! searched for each secret as written and as base58, hex and base64, and
//! every long base58 run in the output is decoded and searched too. A value
//! config.yaml holds (the task id) stays visible in every output.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::record::body::CaptureLimits;
use crate::record::excerpt::{ExcerptLimits, failure_excerpt};
use crate::record::model::{LogLine, Outcome, RunRecord, RunStart, Stream};
use crate::record::recorder::{RawExchange, RawMessage, Recorder};
use crate::record::sample::{self, PLANTED};
use crate::record::secrets::{SuiteSecrets, WorkerSecrets, run_redactor, worker_keys};
use crate::record::{events, html, junit};
use crate::{Keypair, create_signature};

/// Everything a run can print or write about `record`.
fn every_output(record: &RunRecord) -> Vec<(String, String)> {
    let mut outputs = vec![
        ("html".to_owned(), html::render(record)),
        ("junit".to_owned(), junit::render(record)),
        (
            "record json".to_owned(),
            serde_json::to_string(record).expect("JSON"),
        ),
    ];
    for (round, step) in record.steps() {
        for limits in [ExcerptLimits::default(), ExcerptLimits::COMPLETE] {
            outputs.push((
                format!("excerpt of {}", step.id(round)),
                failure_excerpt(step, limits),
            ));
        }
        for exchange in &step.exchanges {
            outputs.push((
                format!("event of {}", step.id(round)),
                events::exchange_event(&step.path, round, &step.worker, exchange),
            ));
        }
    }
    outputs
}

/// Each planted secret as bytes, with a name for messages.
fn planted() -> Vec<(String, Vec<u8>)> {
    let mut secrets = vec![
        ("GITHUB_TOKEN".to_owned(), PLANTED.token.as_bytes().to_vec()),
        (
            "Mongo password".to_owned(),
            PLANTED.mongo_password.as_bytes().to_vec(),
        ),
        ("session".to_owned(), PLANTED.session.as_bytes().to_vec()),
    ];
    for (i, seed) in sample::seeds().into_iter().enumerate() {
        secrets.push((format!("seed {i}"), seed.to_vec()));
        let keypair = ed25519_dalek::SigningKey::from_bytes(&seed).to_keypair_bytes();
        secrets.push((format!("secret key {i}"), keypair.to_vec()));
    }
    secrets
}

fn forms(secret: &[u8]) -> Vec<(&'static str, String)> {
    let hex = secret.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let mut forms = vec![
        ("hex", hex.clone()),
        ("HEX", hex.to_ascii_uppercase()),
        ("base58", bs58::encode(secret).into_string()),
        (
            "decimal list",
            secret
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    ];
    if let Ok(text) = std::str::from_utf8(secret) {
        forms.push(("raw", text.to_owned()));
    }
    forms
}

/// Where each planted secret shows in `outputs`: "NAME as FORM in OUTPUT".
fn leaks(outputs: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, secret) in planted() {
        for (form, text) in forms(&secret) {
            for (output, produced) in outputs {
                if produced.contains(&text) {
                    found.push(format!("{name} as {form} in {output}"));
                }
            }
        }
        // Signed payloads carry their JSON in base58: decode every long run.
        for (output, produced) in outputs {
            for run in produced.split(|c: char| !c.is_ascii_alphanumeric()) {
                if run.len() >= 88
                    && let Ok(bytes) = bs58::decode(run).into_vec()
                    && bytes.windows(secret.len()).any(|w| w == secret.as_slice())
                {
                    found.push(format!("{name} inside base58 in {output}"));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_output_holds_a_planted_secret() {
    let leaked = leaks(&every_output(&sample::small(true)));
    assert!(
        leaked.is_empty(),
        "secrets in the output:\n{}",
        leaked.join("\n")
    );
}

#[test]
fn without_redaction_the_search_finds_every_secret() {
    // The control: the same run recorded with an empty redactor shows each
    // planted value, so the search above can fail.
    let leaked = leaks(&every_output(&sample::small(false)));
    for expected in [
        "GITHUB_TOKEN as raw in html",
        "GITHUB_TOKEN as raw in junit",
        "GITHUB_TOKEN inside base58 in html",
        "Mongo password as raw in junit",
        "session as raw in html",
        "seed 0 as hex in html",
    ] {
        assert!(
            leaked.iter().any(|l| l == expected),
            "{expected} not found; found:\n{}",
            leaked.join("\n")
        );
    }
}

#[test]
fn redacted_places_name_their_source() {
    let html = html::render(&sample::small(true));
    let mut labels: Vec<&str> = html
        .match_indices("[redacted")
        .filter_map(|(at, _)| Some(&html[at..=at + html[at..].find(']')?]))
        .collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(
        labels,
        [
            "[redacted: MONGO_URI credentials]",
            "[redacted: env GITHUB_TOKEN]",
            "[redacted: runner.secret session]",
            "[redacted: signed payload holding a secret]",
            "[redacted: worker1 staking keypair]",
            "[redacted]",
        ]
    );
}

/// The record of [`plain_task_id_run`], with the worker's public key and
/// the signed text that holds no secret (both appear in the reports).
struct PlainTaskIdRun {
    record: RunRecord,
    public_key: String,
    signed_plain: String,
}

const TASK_ID: &str = "task-7";
const TOKEN: &str = "tok_Secret0123456789";

/// A one-step run of a suite whose config.yaml holds `task_id: task-7` and
/// whose worker gets it as `TODO_TASK_ID`, with `API_TOKEN` and a staking
/// keypair: the step posts a payload signed with the task id, then one
/// holding the token too, and its worker prints the token and its seed.
fn plain_task_id_run() -> PlainTaskIdRun {
    let seed = [5; 32];
    let keypair = Keypair::from_seed(seed);
    let public_key = keypair.public_key().to_owned();
    let workers = [WorkerSecrets {
        name: "worker1",
        staking: Some(&keypair),
        main: None,
        env_vars: vec![("TODO_TASK_ID", TASK_ID), ("API_TOKEN", TOKEN)],
    }];
    let suite = SuiteSecrets {
        config_values: vec![("task_id", TASK_ID)],
        ..SuiteSecrets::default()
    };
    let mut recorder = Recorder::new(
        TASK_ID,
        0,
        RunStart::Fresh,
        &worker_keys(&workers),
        run_redactor(&suite, &workers),
        CaptureLimits::default(),
    );
    let signed_plain = create_signature(
        keypair.signing_key(),
        &json!({"taskId": TASK_ID, "roundNumber": 1}),
    )
    .expect("payload");
    let signed_token = create_signature(
        keypair.signing_key(),
        &json!({"taskId": TASK_ID, "token": TOKEN}),
    )
    .expect("payload");
    recorder.begin_round(1);
    recorder.begin_step("steps::submit", "worker1", 10);
    for (at, signed) in [(11, &signed_plain), (20, &signed_token)] {
        let body = json!({"signature": signed, "stakingKey": public_key}).to_string();
        recorder.exchange(&RawExchange {
            method: "POST",
            url: "http://127.0.0.1:9/submit",
            started_ms: at,
            duration_ms: 4,
            request: RawMessage {
                headers: &[],
                body: body.as_bytes(),
            },
            response: Ok((
                200,
                RawMessage {
                    headers: &[],
                    body: b"{\"ok\":true}",
                },
            )),
        });
    }
    recorder.worker_log(&LogLine::new(
        "worker1",
        Stream::Stdout,
        format!("task {TASK_ID}, token {TOKEN}, seed {}", hex::encode(seed)),
    ));
    recorder.finish_step(Outcome::Passed { attempts: 1 }, 40);
    PlainTaskIdRun {
        record: recorder.finish(50),
        public_key,
        signed_plain,
    }
}

#[test]
fn the_junit_report_shows_a_plain_task_id_but_not_the_token_or_the_keys() {
    let run = plain_task_id_run();
    let key = &run.public_key;
    assert_eq!(
        junit::render(&run.record),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="task-7" tests="1" failures="0" errors="0" time="0.050">
  <testsuite name="task-7" tests="1" failures="0" errors="0" skipped="0" time="0.050" timestamp="1970-01-01T00:00:00">
    <properties>
      <property name="task_id" value="task-7"/>
      <property name="start" value="fresh"/>
      <property name="workers" value="worker1"/>
    </properties>
    <testcase classname="round 1" name="steps::submit" time="0.030">
      <system-out>step steps::submit on worker1
  HTTP exchanges (2, newest first):
    POST http://127.0.0.1:9/submit -&gt; 200 (4 ms)
      signed payload at request/signature (verified, signed by worker1 ({key})): {{&quot;taskId&quot;:&quot;task-7&quot;,&quot;token&quot;:&quot;[redacted: env API_TOKEN]&quot;}}
      response body: {{&quot;ok&quot;:true}}
    POST http://127.0.0.1:9/submit -&gt; 200 (4 ms)
      signed payload at request/signature (verified, signed by worker1 ({key})): {{&quot;roundNumber&quot;:1,&quot;taskId&quot;:&quot;task-7&quot;}}
      response body: {{&quot;ok&quot;:true}}
  worker1 log (1 line):
    out| task task-7, token [redacted: env API_TOKEN], seed [redacted: worker1 staking keypair]
</system-out>
    </testcase>
  </testsuite>
</testsuites>
"#
        )
    );
}

#[test]
fn the_html_report_shows_signed_texts_without_secrets_and_their_task_id() {
    let run = plain_task_id_run();
    let data = html::embedded_data(&html::render(&run.record));
    assert_eq!(data["task_id"], TASK_ID);
    let exchanges = &data["rounds"][0]["steps"][0]["exchanges"];
    let bodies: Vec<&Value> = (0..2).map(|i| &exchanges[i]["request"]["body"]).collect();
    let sent = |signature: &str| {
        let text = json!({"signature": signature, "stakingKey": run.public_key}).to_string();
        json!({"kind": "text", "total_bytes": text.len(), "text": text, "truncated": false})
    };
    assert_eq!(
        bodies,
        [
            &sent(&run.signed_plain),
            &sent("[redacted: signed payload holding a secret]"),
        ]
    );
    let signatures: Vec<&Value> = (0..2).map(|i| &exchanges[i]["signatures"]).collect();
    let signer = json!({"worker": "worker1", "public_key": run.public_key});
    assert_eq!(
        signatures,
        [
            &json!([{"location": "request/signature", "payload": {"roundNumber": 1, "taskId": "task-7"}, "signer": signer}]),
            &json!([{"location": "request/signature", "payload": {"taskId": "task-7", "token": "[redacted: env API_TOKEN]"}, "signer": signer}]),
        ]
    );
}

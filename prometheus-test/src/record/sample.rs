//! Synthetic records for tests: a small realistic run with a failure and
//! signed payloads, and a large one of any size.

use std::fmt::Write as _;

use serde_json::json;

use super::body::CaptureLimits;
use super::model::{Fault, LogLine, Outcome, RunRecord, RunStart, Stream, WorkerEventKind};
use super::recorder::{RawExchange, RawMessage, Recorder};
use super::redact::Redactor;
use super::secrets::{SecretLists, SuiteSecrets, WorkerSecrets, run_redactor};
use crate::process::StopHow;
use crate::{Keypair, create_signature};

/// Values planted in the small run, which no report may show.
pub(crate) struct Planted {
    /// A mapped env var's value (`GITHUB_TOKEN`).
    pub(crate) token: &'static str,
    /// The MongoDB URI's password.
    pub(crate) mongo_password: &'static str,
    /// A value the suite marks secret while the run plays.
    pub(crate) session: &'static str,
}

pub(crate) const PLANTED: Planted = Planted {
    token: "ghp_PlantedToken0123456789abcdef",
    mongo_password: "Pl4nted-M0ngo-Pw",
    session: "sess-planted-7f3a9c2e41",
};

/// The small run's task id, plain: config.yaml holds it too.
pub(crate) const TASK_ID: &str = "todo-task-e2e";

/// The planted seeds: worker N's seed is `[N * 17; 32]`.
pub(crate) fn seeds() -> Vec<[u8; 32]> {
    (1..=3u8).map(|n| [n * 17; 32]).collect()
}

const JSON: &str = "application/json";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// A three-round run of three workers: round 2's submission pauses the
/// leader and resumes it, its audit kills worker1 and starts it again;
/// round 3's audit fails with a 500 after posting a signed payload, and the
/// distribution after it is skipped. Every
/// planted secret appears somewhere in what the workers and the server sent.
/// With `redact: false` the record keeps them (the control for the tests).
#[expect(clippy::too_many_lines, reason = "one story, told in order")]
pub(crate) fn small(redact: bool) -> RunRecord {
    let keypairs: Vec<Keypair> = seeds().into_iter().map(Keypair::from_seed).collect();
    let names = ["worker1", "worker2", "leader"];
    let workers: Vec<(String, Option<String>)> = names
        .iter()
        .zip(&keypairs)
        .map(|(name, keypair)| ((*name).to_owned(), Some(keypair.public_key().to_owned())))
        .collect();
    let mongo_uri = format!(
        "mongodb://admin:{}@127.0.0.1:27017/builder",
        PLANTED.mongo_password
    );
    let redactor = if redact {
        // As the example suite maps them: its task id (also config.yaml's
        // `task_id`, so plain), a token and MONGO_URI into every worker.
        let env_vars = vec![
            ("TODO_TASK_ID", TASK_ID),
            ("GITHUB_TOKEN", PLANTED.token),
            ("MONGO_URI", mongo_uri.as_str()),
        ];
        let workers: Vec<WorkerSecrets<'_>> = names
            .iter()
            .zip(&keypairs)
            .map(|(name, keypair)| WorkerSecrets {
                name,
                staking: Some(keypair),
                main: None,
                env_vars: env_vars.clone(),
            })
            .collect();
        let suite = SuiteSecrets {
            config_values: vec![("task_id", TASK_ID)],
            lists: SecretLists::default(),
            mongo_uri: Some(&mongo_uri),
        };
        run_redactor(&suite, &workers)
    } else {
        Redactor::new()
    };
    let mut rec = Recorder::new(
        TASK_ID,
        1_796_098_565_000,
        RunStart::Resumed {
            round: 1,
            step: None,
        },
        &workers,
        redactor,
        CaptureLimits::default(),
    );
    rec.set_step_order(
        ["fetch_todo", "submit", "audit", "distribution"]
            .map(|name| format!("steps::{name}"))
            .to_vec(),
    );
    for (i, name) in names.iter().enumerate() {
        rec.worker_event(name, 5 + 40 * i as u64, WorkerEventKind::Started);
    }
    let stranger = Keypair::from_seed([250; 32]);
    let mut clock = 200;
    for round in 1..=3u32 {
        rec.begin_round(round);
        // worker1 fetches a todo.
        rec.begin_step("steps::fetch_todo", "worker1", clock);
        let auth = format!("token {}", PLANTED.token);
        let request_headers = headers(&[("authorization", &auth), ("accept", JSON)]);
        let todo = json!({"todo": {"_id": format!("todo-{round}"), "title": "Write the report", "repo": "koii/todo", "assignee": keypairs[0].public_key()}})
            .to_string();
        rec.exchange(&RawExchange {
            method: "GET",
            url: &format!("http://127.0.0.1:40111/task/{round}"),
            started_ms: clock + 2,
            duration_ms: 14,
            request: RawMessage {
                headers: &request_headers,
                body: b"",
            },
            response: Ok((
                200,
                RawMessage {
                    headers: &headers(&[("content-type", JSON)]),
                    body: todo.as_bytes(),
                },
            )),
        });
        rec.worker_log(&LogLine::new(
            "worker1",
            Stream::Stdout,
            format!("fetched todo-{round}"),
        ));
        rec.worker_log(&LogLine::new(
            "worker1",
            Stream::Stdout,
            format!("connecting to {mongo_uri}"),
        ));
        clock += 30;
        rec.finish_step(Outcome::Passed { attempts: 1 }, clock);

        // worker1 submits a signed payload.
        rec.begin_step("steps::submit", "worker1", clock + 5);
        let payload = json!({"taskId": TASK_ID, "roundNumber": round, "action": "submit", "stakingKey": keypairs[0].public_key(), "githubToken": PLANTED.token});
        let signed = create_signature(keypairs[0].signing_key(), &payload).expect("payload");
        let body = json!({"signature": signed, "stakingKey": keypairs[0].public_key()}).to_string();
        rec.exchange(&RawExchange {
            method: "POST",
            url: &format!("http://127.0.0.1:40111/submission/{round}"),
            started_ms: clock + 6,
            duration_ms: 22,
            request: RawMessage {
                headers: &headers(&[("content-type", JSON), ("x-api-key", "k-123")]),
                body: body.as_bytes(),
            },
            response: Ok((
                200,
                RawMessage {
                    headers: &headers(&[
                        ("content-type", JSON),
                        ("set-cookie", &format!("session={}", PLANTED.session)),
                    ]),
                    body: format!("{{\"ok\":true,\"session\":\"{}\"}}", PLANTED.session).as_bytes(),
                },
            )),
        });
        let seed_hex: String = seeds()[0].iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        rec.worker_log(&LogLine::new(
            "worker1",
            Stream::Stderr,
            format!("debug: signing with seed {seed_hex}"),
        ));
        if redact {
            rec.secret("runner.secret session", PLANTED.session);
        }
        if round == 2 {
            rec.worker_event("leader", clock + 10, WorkerEventKind::Paused);
            rec.worker_event("leader", clock + 40, WorkerEventKind::Resumed);
        }
        clock += 60;
        rec.finish_step(Outcome::Passed { attempts: 1 }, clock);

        // worker2 audits worker1's submission.
        rec.begin_step("steps::audit", "worker2", clock + 5);
        let audit = json!({"taskId": TASK_ID, "roundNumber": round, "action": "audit", "submitter": keypairs[0].public_key()});
        let signed = create_signature(keypairs[1].signing_key(), &audit).expect("payload");
        let forged = create_signature(
            stranger.signing_key(),
            &json!({"roundNumber": round, "note": "signed by nobody we know"}),
        )
        .expect("payload");
        let body =
            json!({"signature": signed, "pubKey": keypairs[1].public_key(), "proof": forged})
                .to_string();
        let failing = round == 3;
        let (status, response) = if failing {
            (500, json!({"error": format!("submission for round {round} not found"), "db": mongo_uri}).to_string())
        } else {
            (200, json!({"valid": true}).to_string())
        };
        rec.exchange(&RawExchange {
            method: "POST",
            url: &format!("http://127.0.0.1:40222/audit/{round}"),
            started_ms: clock + 6,
            duration_ms: if failing { 120 } else { 35 },
            request: RawMessage {
                headers: &headers(&[("content-type", JSON)]),
                body: body.as_bytes(),
            },
            response: Ok((
                status,
                RawMessage {
                    headers: &headers(&[("content-type", JSON)]),
                    body: response.as_bytes(),
                },
            )),
        });
        rec.worker_log(&LogLine::new(
            "worker2",
            Stream::Stdout,
            format!("audit round {round}"),
        ));
        if round == 2 {
            let killed = WorkerEventKind::Stopped {
                how: StopHow::Kill,
                code: None,
                signal: Some(9),
            };
            rec.worker_event("worker1", clock + 8, killed);
            rec.worker_event("worker1", clock + 30, WorkerEventKind::Started);
        }
        if failing {
            rec.worker_log(&LogLine::new(
                "worker2",
                Stream::Stderr,
                "MongoServerError: no submission in round 3",
            ));
            clock += 140;
            rec.finish_step(
                Outcome::failed(format!("audit of round 3 failed: HTTP 500 from worker2\ncaused by: submission for round 3 not found (token {})", PLANTED.token)),
                clock,
            );
            rec.begin_step("steps::distribution", "leader", clock);
            rec.finish_step(
                Outcome::Skipped {
                    reason: "an earlier step of round 3 failed".into(),
                },
                clock,
            );
        } else {
            clock += 50;
            rec.finish_step(Outcome::Passed { attempts: 1 }, clock);
            rec.begin_step("steps::distribution", "leader", clock + 5);
            rec.worker_log(&LogLine::new(
                "leader",
                Stream::Stdout,
                "distribution list submitted",
            ));
            clock += 80;
            rec.finish_step(Outcome::Passed { attempts: 1 }, clock);
        }
        clock += 20;
    }
    rec.worker_event(
        "worker2",
        clock - 10,
        WorkerEventKind::Exited {
            code: Some(1),
            signal: None,
        },
    );
    rec.finish(clock + 50)
}

/// A one-round run of two workers that meets faults: one before the first
/// step; `submit`'s request to worker2 reset, its call to the outside
/// slowed; `audit`'s second attempt (its first failed) crashing worker1
/// with a partition a step set, which has a planted token in its path; one
/// between the two steps. `distribution` meets none.
#[expect(clippy::too_many_lines, reason = "one story, told in order")]
pub(crate) fn faulted() -> RunRecord {
    let mut redactor = Redactor::new();
    redactor.secret("env GITHUB_TOKEN", PLANTED.token);
    let workers = [("worker1".to_owned(), None), ("worker2".to_owned(), None)];
    let mut rec = Recorder::new(
        TASK_ID,
        1_796_098_565_000,
        RunStart::Fresh,
        &workers,
        redactor,
        CaptureLimits::default(),
    );
    let fault = |step: &str, at_ms: u64, link: Option<&str>, request: &str, fault: &str| Fault {
        round: 1,
        step: step.to_owned(),
        attempt: 0,
        link: link.map(str::to_owned),
        worker: None,
        n: link.map(|_| 0),
        request: link.map(|_| request.to_owned()),
        fault: fault.to_owned(),
        by: None,
        outcome: None,
        at_ms,
    };
    rec.set_step_order(
        ["submit", "audit", "distribution"]
            .map(|name| format!("steps::{name}"))
            .to_vec(),
    );
    rec.worker_event("worker1", 5, WorkerEventKind::Started);
    rec.worker_event("worker2", 6, WorkerEventKind::Started);
    rec.fault(Fault {
        round: 0,
        ..fault(
            "setup",
            8,
            Some("runner->worker1"),
            "GET /health",
            "error 503",
        )
    });
    rec.begin_round(1);
    rec.begin_step("steps::submit", "worker1", 100);
    let reset = fault(
        "steps::submit",
        110,
        Some("runner->worker2"),
        "POST /submission/1",
        "reset",
    );
    rec.fault(reset.clone());
    rec.fault(Fault {
        at_ms: 115,
        ..fault(
            "steps::submit",
            115,
            Some("worker1->api.anthropic.com"),
            "POST /v1/messages",
            "latency 230ms",
        )
    });
    rec.fault(Fault {
        outcome: Some("reset".to_owned()),
        at_ms: 112,
        ..reset
    });
    rec.finish_step(Outcome::Passed { attempts: 1 }, 400);
    rec.fault(fault(
        "after steps::submit",
        410,
        Some("worker2->worker1"),
        "GET /peer",
        "timeout",
    ));
    rec.begin_step("steps::audit", "worker2", 450);
    rec.fault(Fault {
        attempt: 1,
        worker: Some("worker1".to_owned()),
        ..fault("steps::audit", 520, None, "", "crash")
    });
    rec.worker_event(
        "worker1",
        521,
        WorkerEventKind::Stopped {
            how: StopHow::Kill,
            code: None,
            signal: Some(9),
        },
    );
    rec.fault(Fault {
        attempt: 1,
        by: Some("script".to_owned()),
        outcome: None,
        ..fault(
            "steps::audit",
            530,
            Some("runner->worker2"),
            &format!("GET /audit/{}", PLANTED.token),
            "partition",
        )
    });
    rec.finish_step(Outcome::Passed { attempts: 2 }, 600);
    rec.begin_step("steps::distribution", "worker1", 610);
    rec.finish_step(Outcome::Passed { attempts: 1 }, 650);
    rec.finish(700)
}

/// A passing run of `workers` workers, `rounds` rounds and `steps` steps per
/// round (step `i` on worker `i % workers`), each step with two exchanges (a
/// signed submission and a JSON answer) and three log lines; the middle
/// round's step 3 fails.
pub(crate) fn large(workers: usize, rounds: u32, steps: usize) -> RunRecord {
    large_with_detail_in(workers, rounds, steps, None)
}

/// [`large`], with the recorder keeping older rounds' detail in `detail_dir`.
pub(crate) fn large_with_detail_in(
    workers: usize,
    rounds: u32,
    steps: usize,
    detail_dir: Option<&std::path::Path>,
) -> RunRecord {
    let keypairs: Vec<Keypair> = (0..workers)
        .map(|i| Keypair::from_seed([u8::try_from(i % 250).unwrap_or(0) + 1; 32]))
        .collect();
    let names: Vec<(String, Option<String>)> = keypairs
        .iter()
        .enumerate()
        .map(|(i, keypair)| {
            (
                format!("worker{}", i + 1),
                Some(keypair.public_key().to_owned()),
            )
        })
        .collect();
    let mut rec = Recorder::new(
        "load-test",
        1_796_098_565_000,
        RunStart::Fresh,
        &names,
        Redactor::new(),
        CaptureLimits::default(),
    );
    if let Some(dir) = detail_dir {
        rec.keep_detail_in(dir);
    }
    for (name, _) in &names {
        rec.worker_event(name, 10, WorkerEventKind::Started);
    }
    let mut clock = 1_000;
    for round in 1..=rounds {
        rec.begin_round(round);
        for step in 0..steps {
            let worker = step % workers;
            let name = &names[worker].0;
            rec.begin_step(&format!("steps::step_{step:02}"), name, clock);
            let payload = json!({"taskId": "load-test", "roundNumber": round, "step": step, "cid": format!("bafy{round:04}{step:04}{}", "x".repeat(40))});
            let signed =
                create_signature(keypairs[worker].signing_key(), &payload).expect("payload");
            let body = json!({"signature": signed, "stakingKey": names[worker].1}).to_string();
            let answer = json!({"ok": true, "round": round, "items": (0..8).map(|i| json!({"id": i, "title": format!("item {i} of step {step}")})).collect::<Vec<_>>()}).to_string();
            let content = headers(&[("content-type", JSON)]);
            for (i, (method, request)) in [("POST", body.as_str()), ("GET", "")]
                .into_iter()
                .enumerate()
            {
                rec.exchange(&RawExchange {
                    method,
                    url: &format!("http://127.0.0.1:{}/r/{round}/{step}/{i}", 40_000 + worker),
                    started_ms: clock + 5 + 40 * i as u64,
                    duration_ms: 30,
                    request: RawMessage {
                        headers: &content,
                        body: request.as_bytes(),
                    },
                    response: Ok((
                        200,
                        RawMessage {
                            headers: &content,
                            body: answer.as_bytes(),
                        },
                    )),
                });
            }
            for line in 0..3 {
                rec.worker_log(&LogLine::new(
                    name,
                    Stream::Stdout,
                    format!("[{name}] round {round} step {step} line {line}"),
                ));
            }
            let duration = 90 + (u64::from(round) * 7 + step as u64 * 13) % 60;
            clock += duration;
            let outcome = if round == rounds.div_ceil(2) && step == 3 {
                Outcome::failed(format!("step_{step:02} failed in round {round}"))
            } else {
                Outcome::Passed { attempts: 1 }
            };
            rec.finish_step(outcome, clock);
            clock += 5;
        }
    }
    rec.finish(clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_run_has_a_failure_a_skip_and_decoded_signatures() {
        let record = small(true);
        let outcomes: Vec<&Outcome> = record.steps().map(|(_, step)| &step.outcome).collect();
        assert_eq!(outcomes.len(), 12);
        assert!(matches!(outcomes[10], Outcome::Failed { .. }));
        assert!(matches!(outcomes[11], Outcome::Skipped { .. }));
        let audit = &record.rounds[2].steps[2];
        assert_eq!(audit.id(3), "round3/steps::audit[worker2]");
        let signers: Vec<Option<&str>> = audit.exchanges[0]
            .signatures
            .iter()
            .map(|found| found.signer.as_ref().and_then(|s| s.worker.as_deref()))
            .collect();
        assert_eq!(signers, [Some("worker2"), None]);
    }

    #[test]
    fn the_large_run_has_every_step() {
        let record = large(4, 3, 5);
        assert_eq!(record.steps().count(), 15);
        assert_eq!(record.workers.len(), 4);
        let failed = record
            .steps()
            .filter(|(_, step)| matches!(step.outcome, Outcome::Failed { .. }))
            .count();
        assert_eq!(failed, 1);
    }
}

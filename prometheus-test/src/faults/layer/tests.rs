use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;

use super::*;
use crate::faults::history::same_faults;
use crate::faults::link::LinkPattern;
use crate::faults::schedule::{LinkFault, Rounds, Rule, Scope};
use crate::proxy::Seen;

/// The handler under the fault layer: answers every request with `reply`
/// and keeps what it is told.
struct Below {
    reply: Reply,
    completed: Mutex<Vec<Completed>>,
}

impl Below {
    fn forwarding() -> Arc<Self> {
        Self::answering(Reply::Forward(Shape::default()))
    }

    fn answering(reply: Reply) -> Arc<Self> {
        Arc::new(Self {
            reply,
            completed: Mutex::default(),
        })
    }
}

impl Handler for Below {
    fn decide<'a>(&'a self, _: &'a Outbound) -> BoxFuture<'a, Reply> {
        Box::pin(std::future::ready(self.reply.clone()))
    }

    fn completed(&self, exchange: Completed) {
        self.completed.lock().unwrap().push(exchange);
    }
}

const WORKERS: [&str; 3] = ["worker1", "worker2", "worker3"];

fn rule(link: &str, fault: LinkFault, probability: f64) -> Rule {
    let pattern = LinkPattern::parse(link).unwrap();
    let at = "config.yaml: line 1".to_owned();
    Rule::new(Scope::Link(pattern, fault), Rounds::ALL, probability, at)
}

fn layer_with(seed: u64, rules: Vec<Rule>, below: Arc<Below>) -> FaultLayer {
    let plan = Plan {
        seed: Seed(seed),
        schedule: Schedule { rules },
        known: Known::new(&WORKERS, &[]),
        peers: (1..=3)
            .map(|n| (format!("127.0.0.1:500{n}"), format!("worker{n}")))
            .collect(),
    };
    FaultLayer::new(plan, below, Arc::new(History::in_memory()))
}

fn layer(seed: u64, rules: Vec<Rule>) -> FaultLayer {
    layer_with(seed, rules, Below::forwarding())
}

fn request(client: &str, url: &str) -> Outbound {
    Outbound {
        client: client.to_owned(),
        method: "POST".to_owned(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: Bytes::new(),
    }
}

const API: &str = "https://api.anthropic.com/v1/messages?key=k";
const WORKER2: &str = "http://127.0.0.1:5002/audit";

/// What `layer` decides for `request`, at once (no fault here waits).
fn decide(layer: &FaultLayer, request: &Outbound) -> Reply {
    layer.decide(request).now_or_never().expect("no wait")
}

/// The history of `layer` as its file would hold it.
fn jsonl(layer: &FaultLayer) -> String {
    layer
        .history
        .entries()
        .iter()
        .map(|entry| serde_json::to_string(entry).unwrap() + "\n")
        .collect()
}

/// A schedule with a fault of every request kind at 30%.
fn mixed() -> Vec<Rule> {
    vec![
        rule("worker*->api.anthropic.com", LinkFault::Reset, 0.3),
        rule(
            "runner->worker*",
            LinkFault::Latency {
                ms: 200,
                jitter_ms: 50,
            },
            0.3,
        ),
    ]
}

/// Two rounds of two steps, each sending `per_link` requests on each of
/// three links (worker1's and worker3's calls out, the runner's to
/// worker2), interleaved as `order` says.
fn play(layer: &FaultLayer, per_link: usize, order: &[usize]) -> Vec<(String, Reply)> {
    let links = [
        request("worker1", API),
        request("worker3", API),
        request("runner", WORKER2),
    ];
    let mut replies = Vec::new();
    for round in 1..=2 {
        for step in ["steps::submit", "steps::audit[worker2]"] {
            layer.begin_step(round, step, 0);
            for _ in 0..per_link {
                for &index in order {
                    let reply = decide(layer, &links[index]);
                    replies.push((format!("{round} {step} {index}"), reply));
                }
            }
            layer.end_step();
        }
    }
    replies
}

#[test]
fn the_same_seed_draws_the_same_faults_and_another_seed_others() {
    let first = layer(8_841_274, mixed());
    let again = layer(8_841_274, mixed());
    let other = layer(8_841_275, mixed());
    let replies = play(&first, 10, &[0, 1, 2]);
    assert_eq!(play(&again, 10, &[0, 1, 2]), replies);
    assert_ne!(play(&other, 10, &[0, 1, 2]), replies);
    assert!(!first.history.entries().is_empty());
    assert_eq!(same_faults(&jsonl(&first), &jsonl(&again)), Ok(()));
    assert!(same_faults(&jsonl(&first), &jsonl(&other)).is_err());
}

#[test]
fn a_links_draws_do_not_depend_on_other_links_requests() {
    let alone = layer(3, mixed());
    let interleaved = layer(3, mixed());
    let only = |replies: Vec<(String, Reply)>, index: &str| -> Vec<(String, Reply)> {
        replies
            .into_iter()
            .filter(|(at, _)| at.ends_with(index))
            .collect()
    };
    let worker1_alone = only(play(&alone, 10, &[0]), " 0");
    let worker1_among = only(play(&interleaved, 10, &[2, 0, 1]), " 0");
    assert_eq!(worker1_alone, worker1_among);
    // The draws do vary along the link: they are not all the same reply.
    assert!(worker1_alone.iter().any(|(_, r)| *r == Reply::Reset));
    assert!(worker1_alone.iter().any(|(_, r)| *r != Reply::Reset));
}

#[test]
fn a_step_replayed_on_its_own_draws_what_it_drew_in_the_run() {
    let run = layer(11, mixed());
    let replies = play(&run, 10, &[0, 1, 2]);
    let from_round_2: Vec<(String, Reply)> = replies
        .into_iter()
        .filter(|(at, _)| at.starts_with("2 steps::audit"))
        .collect();
    let resumed = layer(11, mixed());
    resumed.begin_step(2, "steps::audit[worker2]", 0);
    let links = [
        request("worker1", API),
        request("worker3", API),
        request("runner", WORKER2),
    ];
    let mut replayed = Vec::new();
    for _ in 0..10 {
        for (index, link) in links.iter().enumerate() {
            let at = format!("2 steps::audit[worker2] {index}");
            replayed.push((at, decide(&resumed, link)));
        }
    }
    assert_eq!(replayed, from_round_2);
    // A retry is another attempt: it draws anew.
    let retried = layer(11, mixed());
    retried.begin_step(2, "steps::audit[worker2]", 1);
    let retry: Vec<Reply> = (0..30).map(|i| decide(&retried, &links[i % 3])).collect();
    let first: Vec<Reply> = replayed.into_iter().map(|(_, reply)| reply).collect();
    assert_ne!(retry, first);
}

#[test]
fn probability_zero_never_faults_and_one_always_does() {
    let never = layer(5, vec![rule("*->*", LinkFault::Reset, 0.0)]);
    let always = layer(5, vec![rule("*->*", LinkFault::Reset, 1.0)]);
    for seed_layer in [&never, &always] {
        seed_layer.begin_step(1, "steps::s", 0);
    }
    for _ in 0..1_000 {
        assert_eq!(
            decide(&never, &request("worker1", API)),
            Reply::Forward(Shape::default())
        );
        assert_eq!(decide(&always, &request("worker1", API)), Reply::Reset);
    }
    assert!(never.history.entries().is_empty());
}

#[test]
fn an_entry_applies_in_its_rounds_only() {
    let mut only_round_2 = rule("*->*", LinkFault::Reset, 1.0);
    only_round_2.rounds = Rounds { first: 2, last: 3 };
    let layer = layer(5, vec![only_round_2]);
    let replies: Vec<Reply> = (0..=4)
        .map(|round| {
            layer.begin_step(round, "steps::s", 0);
            decide(&layer, &request("worker1", API))
        })
        .collect();
    let forward = Reply::Forward(Shape::default());
    assert_eq!(
        replies,
        [
            forward.clone(),
            forward.clone(),
            Reply::Reset,
            Reply::Reset,
            forward
        ]
    );
}

#[test]
fn each_kind_makes_its_reply() {
    let canned = |status: u16, body: &'static str| Canned {
        status,
        headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
        body: vec![Chunk {
            after: Duration::ZERO,
            bytes: Bytes::from_static(body.as_bytes()),
        }],
    };
    let shape = |delay_ms, bytes_per_second, cut_after| {
        Reply::Forward(Shape {
            delay: Duration::from_millis(delay_ms),
            bytes_per_second,
            cut_after,
        })
    };
    let error = LinkFault::Error {
        status: 503,
        body: "busy".to_owned(),
    };
    let cases = [
        (LinkFault::Reset, Reply::Reset),
        (LinkFault::Timeout, Reply::Hang),
        (LinkFault::Partition, Reply::Reset),
        (error, Reply::Respond(canned(503, "busy"))),
        (
            LinkFault::Latency {
                ms: 200,
                jitter_ms: 0,
            },
            shape(200, None, None),
        ),
        (
            LinkFault::Bandwidth {
                bytes_per_second: 1_000,
            },
            shape(0, Some(1_000), None),
        ),
        (LinkFault::Cut { after_bytes: 10 }, shape(0, None, Some(10))),
    ];
    for (fault, expected) in cases {
        let layer = layer(1, vec![rule("worker1->*", fault.clone(), 1.0)]);
        assert_eq!(
            decide(&layer, &request("worker1", API)),
            expected,
            "{fault}"
        );
    }
}

#[test]
fn faults_shape_a_replayed_response_too() {
    let replayed = Reply::Respond(Canned {
        status: 200,
        headers: Vec::new(),
        body: vec![
            Chunk {
                after: Duration::ZERO,
                bytes: Bytes::from_static(b"0123456789"),
            },
            Chunk {
                after: Duration::from_millis(5),
                bytes: Bytes::from_static(b"abcdefghij"),
            },
        ],
    });
    let with = |fault: LinkFault| {
        let layer = layer_with(
            1,
            vec![rule("*->*", fault, 1.0)],
            Below::answering(replayed.clone()),
        );
        let Reply::Respond(canned) = decide(&layer, &request("worker1", API)) else {
            panic!("not a canned reply");
        };
        canned
            .body
            .iter()
            .map(|chunk| (chunk.after.as_millis(), chunk.bytes.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        with(LinkFault::Cut { after_bytes: 12 }),
        [
            (0, Bytes::from_static(b"0123456789")),
            (5, Bytes::from_static(b"ab"))
        ]
    );
    assert_eq!(
        with(LinkFault::Bandwidth {
            bytes_per_second: 100
        }),
        [
            (100, Bytes::from_static(b"0123456789")),
            (105, Bytes::from_static(b"abcdefghij"))
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_latency_delays_a_reply_the_proxy_does_not_forward() {
    let layer = layer_with(
        1,
        vec![rule(
            "*->*",
            LinkFault::Latency {
                ms: 300,
                jitter_ms: 0,
            },
            1.0,
        )],
        Below::answering(Reply::Reset),
    );
    let started = tokio::time::Instant::now();
    assert_eq!(layer.decide(&request("worker1", API)).await, Reply::Reset);
    assert_eq!(started.elapsed(), Duration::from_millis(300));
}

#[test]
fn jitter_stays_within_its_bounds_and_varies() {
    let layer = layer(
        9,
        vec![rule(
            "*->*",
            LinkFault::Latency {
                ms: 200,
                jitter_ms: 50,
            },
            1.0,
        )],
    );
    let delays: std::collections::BTreeSet<u128> = (0..200)
        .map(|_| match decide(&layer, &request("worker1", API)) {
            Reply::Forward(shape) => shape.delay.as_millis(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        delays.iter().all(|ms| (150..=250).contains(ms)),
        "{delays:?}"
    );
    assert!(delays.len() > 50, "{delays:?}");
}

#[test]
fn a_scripted_partition_holds_until_healed_or_the_step_ends() {
    let layer = layer(1, Vec::new());
    let to_worker2 = request("runner", WORKER2);
    let forward = Reply::Forward(Shape::default());
    layer.begin_step(1, "steps::cut", 0);
    layer.scripted().partition("worker2").unwrap();
    assert_eq!(decide(&layer, &to_worker2), Reply::Reset);
    assert_eq!(decide(&layer, &request("worker1", API)), forward);
    layer.scripted().heal("worker2").unwrap();
    assert_eq!(decide(&layer, &to_worker2), forward);
    layer.scripted().partition("worker2").unwrap();
    layer.end_step();
    assert_eq!(decide(&layer, &to_worker2), forward);
    layer.begin_step(1, "steps::slow", 0);
    layer
        .scripted()
        .delay("runner->worker2", Duration::from_millis(40))
        .unwrap();
    assert_eq!(
        decide(&layer, &to_worker2),
        Reply::Forward(Shape {
            delay: Duration::from_millis(40),
            ..Shape::default()
        })
    );
    let lines: Vec<String> = layer
        .history
        .entries()
        .into_iter()
        .map(|e| format!("{} {} {}", e.step, e.fault, e.by.unwrap_or_default()))
        .collect();
    assert_eq!(
        lines,
        [
            "steps::cut partition script",
            "steps::slow latency 40ms script"
        ]
    );
}

#[test]
fn a_faulted_exchange_is_told_below_and_its_end_written() {
    let below = Below::forwarding();
    let layer = layer_with(
        1,
        vec![rule(
            "worker1->*",
            LinkFault::Error {
                status: 503,
                body: "busy".to_owned(),
            },
            1.0,
        )],
        Arc::clone(&below),
    );
    layer.begin_step(2, "steps::audit[worker2]", 0);
    let faulted = request("worker1", API);
    decide(&layer, &faulted);
    let seen = |status| Seen {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let ended = |request: Outbound, served, status| Completed {
        request,
        served,
        response: Some(seen(status)),
        error: None,
        duration: Duration::ZERO,
    };
    layer.completed(ended(faulted, Served::Responded, 503));
    layer.completed(ended(request("worker2", API), Served::Forwarded, 200));
    assert_eq!(below.completed.lock().unwrap().len(), 2);
    let without_times: Vec<String> = jsonl(&layer)
        .lines()
        .map(|line| line.rsplit_once(",\"at_ms\"").unwrap().0.to_owned() + "}")
        .collect();
    assert_eq!(
        without_times,
        [
            r#"{"round":2,"step":"steps::audit[worker2]","link":"worker1->api.anthropic.com","n":0,"request":"POST /v1/messages","fault":"error 503"}"#,
            r#"{"round":2,"step":"steps::audit[worker2]","link":"worker1->api.anthropic.com","n":0,"request":"POST /v1/messages","fault":"error 503","outcome":"responded 503"}"#,
        ]
    );
}

#[test]
fn churn_is_drawn_once_a_step_and_written() {
    let crash = Rule::new(
        Scope::Worker("worker3".to_owned(), ChurnFault::Crash),
        Rounds { first: 3, last: 3 },
        1.0,
        "config.yaml: line 9".to_owned(),
    );
    let layer = layer(1, vec![crash]);
    layer.begin_step(2, "steps::audit[worker2]", 0);
    assert_eq!(layer.churn_for("worker3"), None);
    layer.begin_step(3, "steps::audit[worker2]", 0);
    assert_eq!(layer.churn_for("worker3"), Some(ChurnFault::Crash));
    assert_eq!(layer.churn_for("worker1"), None);
    let entries = layer.history.entries();
    assert_eq!(
        (
            entries.len(),
            entries[0].worker.as_deref(),
            entries[0].fault.as_str()
        ),
        (1, Some("worker3"), "crash")
    );
}

#[test]
fn a_partition_from_the_schedule_holds_for_the_whole_step() {
    let layer = layer(4, vec![rule("worker*->*", LinkFault::Partition, 0.5)]);
    let mut steps_cut = 0;
    for step in 0..40 {
        layer.begin_step(1, &format!("steps::s{step}"), 0);
        let replies: Vec<Reply> = (0..5)
            .flat_map(|_| {
                [
                    decide(&layer, &request("worker1", API)),
                    decide(&layer, &request("worker2", WORKER2)),
                ]
            })
            .collect();
        let cut = replies.iter().filter(|r| **r == Reply::Reset).count();
        assert!(cut == 0 || cut == replies.len(), "step {step}: {replies:?}");
        steps_cut += usize::from(cut > 0);
    }
    assert!((10..=30).contains(&steps_cut), "{steps_cut}");
}

#[test]
fn a_higher_probability_keeps_the_faults_of_a_lower_one() {
    let resets = |probability| -> Vec<bool> {
        let layer = layer(6, vec![rule("worker1->*", LinkFault::Reset, probability)]);
        layer.begin_step(1, "steps::submit", 0);
        (0..200)
            .map(|_| decide(&layer, &request("worker1", API)) == Reply::Reset)
            .collect()
    };
    let (low, high) = (resets(0.2), resets(0.4));
    assert!(low.iter().zip(&high).all(|(low, high)| !low || *high));
    assert!(high.iter().filter(|r| **r).count() > low.iter().filter(|r| **r).count());
}

/// What a seed draws may never change between builds: the first requests
/// of a link under seed 8841274 at 50%, `R` for a reset.
#[test]
fn a_seed_draws_the_same_faults_in_every_build() {
    let layer = layer(8_841_274, vec![rule("worker1->*", LinkFault::Reset, 0.5)]);
    layer.begin_step(1, "steps::submit", 0);
    let drawn: String = (0..24)
        .map(|_| match decide(&layer, &request("worker1", API)) {
            Reply::Reset => 'R',
            _ => '.',
        })
        .collect();
    assert_eq!(drawn, "RR.R...RR..R.RR.RRRR....");
}

#[test]
fn an_entry_with_a_request_pattern_faults_only_those_requests() {
    let audits =
        rule("runner->worker2", LinkFault::Reset, 1.0).for_requests("POST /audit*".to_owned());
    let layer = layer(7, vec![audits]);
    layer.begin_step(1, "steps::audit[worker2]", 1);
    assert!(matches!(
        decide(&layer, &request("runner", WORKER2)),
        Reply::Reset
    ));
    let task = request("runner", "http://127.0.0.1:5002/task/1");
    assert!(matches!(decide(&layer, &task), Reply::Forward(_)));
    let get = Outbound {
        method: "GET".to_owned(),
        ..request("runner", WORKER2)
    };
    assert!(matches!(decide(&layer, &get), Reply::Forward(_)));
    let entries = layer.history.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].request.as_deref(), Some("POST /audit"));
}

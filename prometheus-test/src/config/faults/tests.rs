use std::path::Path;

use super::*;
use crate::config::Config;

const FILE: &str = "/s/tests/config.yaml";

fn parse(text: &str) -> anyhow::Result<Schedule> {
    let text = format!("task_id: t\nmax_rounds: 1\n{text}");
    Config::parse(Path::new(FILE), &text).map(|c| c.faults.unwrap_or_default())
}

/// The problems of `text`, one per line, each without the file's name.
fn problems(text: &str) -> Vec<String> {
    let err = format!("{:#}", parse(text).unwrap_err());
    err.lines()
        .filter(|line| line.contains(FILE))
        .map(|line| {
            let (_, problem) = line.split_once(&format!("{FILE}: ")).unwrap();
            problem.to_owned()
        })
        .collect()
}

const EXAMPLE: &str = "\
faults:
  - link: \"worker*->api.anthropic.com\"
    rounds: 2..3
    probability: 0.2
    latency: { ms: 200, jitter_ms: 50 }
  - link: \"runner->worker2\"
    probability: 0.1
    reset: {}
  - link: \"worker3->*\"
    error: { status: 503, body: \"busy\" }
    probability: 0.05
  - worker: worker3
    rounds: 3
    probability: 0.5
    crash: {}
  - {link: 'worker1->api.example.com', cut: {after_bytes: 10}}
  - {link: '*->worker1', bandwidth: {bytes_per_second: 1000}, probability: 1}
  - {link: 'worker1->*', timeout: ~, rounds: 4}
  - {link: 'runner->worker1', partition: {}, probability: 0}
  - {worker: 'worker*', pause: {ms: 500}}
  - {worker: worker2, restart: {}}
";

#[test]
fn every_kind_is_read_with_its_entry_line() {
    let schedule = parse(EXAMPLE).unwrap();
    let read: Vec<String> = schedule
        .rules
        .iter()
        .map(|rule| {
            format!(
                "{} | {} | {} | {}",
                rule.scope,
                rule.rounds,
                rule.probability,
                rule.at.replace(FILE, "")
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            "worker*->api.anthropic.com latency 200ms±50ms | 2..3 | 0.2 | : line 4",
            "runner->worker2 reset | all | 0.1 | : line 8",
            "worker3->* error 503 \"busy\" | all | 0.05 | : line 11",
            "worker3 crash | 3 | 0.5 | : line 14",
            "worker1->api.example.com cut after 10B | all | 1 | : line 18",
            "*->worker1 bandwidth 1000B/s | all | 1 | : line 19",
            "worker1->* timeout | 4 | 1 | : line 20",
            "runner->worker1 partition | all | 0 | : line 21",
            "worker* pause 500ms | all | 1 | : line 22",
            "worker2 restart | all | 1 | : line 23",
        ]
    );
    assert_eq!(parse("").unwrap(), Schedule::default());
    assert_eq!(parse("faults:\n").unwrap(), Schedule::default());
    assert_eq!(parse("faults: []\n").unwrap(), Schedule::default());
}

#[test]
fn every_bad_entry_is_named_with_its_line() {
    let text = "\
faults:
  - link: runner->worker1
    probability: 1.5
    reset: {}
  - link: runner->worker1
    latncy: {ms: 5}
  - link: runner->worker1
    latency: {ms: 5}
    reset: {}
  - link: runner->worker1
    probability: 0.5
  - link: runner
    reset: {}
  - link: a->b.c
    crash: {}
  - worker: worker1
    latency: {ms: 1}
  - link: a->b.c
    worker: w
    reset:
  - rounds: 3..2
    reset: {}
  - link: a->b.c
    latency:
      jitter: 5
  - link: a->b.c
    error: {status: 700, body: 5}
  - link: a->b.c
    reset: {now: true}
  - link: a->b.c
    bandwidth: {bytes_per_second: 0}
  - worker: w
    pause: {}
  - 7
  - link: a->b.c
    cut: 10
";
    assert_eq!(
        problems(text),
        [
            "line 5: `faults[0].probability` must be a number from 0 to 1, found 1.5",
            "line 8: `faults[1].latncy` is unknown: an entry takes `link` (and `request`) or `worker`, `rounds`, \
             `probability` and one kind of fault: `latency`, `bandwidth`, `reset`, `timeout`, \
             `cut`, `error` or `partition` (a link's) or `crash`, `pause` or `restart` (a \
             worker's); did you mean `latency`?",
            "line 11: `faults[2]` has two kinds, `latency` and `reset`: an entry takes one \
             (write one entry each)",
            "line 12: `faults[3]` names no fault: give one of `latency`, `bandwidth`, `reset`, \
             `timeout`, `cut`, `error` or `partition` (a link's) or `crash`, `pause` or \
             `restart` (a worker's)",
            "line 14: `faults[4].link` must be `from->to` (such as \
             `worker1->api.anthropic.com`), found \"runner\"",
            "line 17: `faults[5].crash` is a worker's fault: it takes `worker`, not `link`",
            "line 19: `faults[6].latency` is a link's fault: it takes `link`, not `worker`",
            "line 21: `faults[7]` has both `link` and `worker`: an entry faults links or a worker",
            "line 23: `faults[8]` needs `link` (`from->to`) or `worker` (a worker's name)",
            "line 23: `faults[8].rounds` must be a round (an integer from 1) or a range such as \
             `2..3`, found \"3..2\"",
            "line 27: `faults[9].latency.jitter` is unknown: `latency` takes `ms` and \
             `jitter_ms`",
            "line 29: `faults[10].error.status` must be an HTTP status from 100 to 599, found 700",
            "line 29: `faults[10].error.body` must be text, found 5",
            "line 31: `faults[11].reset.now` is unknown: `reset` takes nothing",
            "line 33: `faults[12].bandwidth.bytes_per_second` must be an integer of 1 or more, \
             found 0",
            "line 35: `faults[13].pause` needs `ms`",
            "line 36: `faults[14]` must be a mapping with `link` or `worker`, a kind of fault \
             and its `probability`, found 7",
            "line 38: `faults[15].cut` must be a mapping with `after_bytes`, found 10",
        ]
    );
    assert_eq!(
        format!("{:#}", parse("faults: {link: a}\n").unwrap_err()),
        format!(
            "{FILE}: line 3: `faults` must be a list of faults or the name of one of \
             `fault_profiles`, found a mapping"
        )
    );
}

#[test]
fn names_are_checked_against_the_workers_with_each_entrys_line() {
    let schedule = parse(
        "faults:\n  - link: wrker1->api.example.com\n    reset: {}\n  \
         - {link: 'runner->worker9', timeout: {}}\n  - {worker: 'worker*', crash: {}}\n  \
         - {worker: w3, crash: {}}\n  - {link: 'worker1->middle', reset: {}}\n",
    )
    .unwrap();
    let known = Known::new(&["worker1", "worker2"], &["middle"]);
    let err = check_fault_names(&schedule, &known)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "3 problems:\n  \
             - {FILE}: line 4: `faults[0].link` `wrker1->api.example.com` names no link: \
               `wrker1` sends nothing: a link starts at `runner` or a worker (the workers are \
               `worker1`, `worker2`)\n  \
             - {FILE}: line 6: `faults[1].link` `runner->worker9` names no link: `worker9` is \
               no worker or service (the workers are `worker1`, `worker2`) and no host (a host \
               has a dot)\n  \
             - {FILE}: line 8: `faults[3].worker` `w3` names no worker (the workers are \
               `worker1`, `worker2`)"
        )
    );
    let fine = parse(EXAMPLE).unwrap();
    let known = Known::new(&["worker1", "worker2", "worker3"], &[]);
    assert!(check_fault_names(&fine, &known).is_ok());
}

#[test]
fn an_overridden_section_is_named_by_its_variable() {
    let overrides = crate::config::Overrides::from_vars([(
        "PROMETHEUS_TEST_SET_FAULTS",
        "[{link: 'a->b.c', probability: 2, reset: {}}]",
    )])
    .map_err(|p| p.to_string())
    .unwrap();
    let err =
        Config::parse_with(Path::new(FILE), "task_id: t\nmax_rounds: 1\n", &overrides).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "PROMETHEUS_TEST_SET_FAULTS (overriding {FILE}): `faults[0].probability` must be a \
             number from 0 to 1, found 2"
        )
    );
}

const PROFILES: &str = "\
fault_profiles:
  calm: []
  chaos:
    - link: \"runner->*\"
      request: \"POST /audit/*\"
      probability: 0.3
      reset: {}
    - {worker: worker2, rounds: 3, crash: {}}
";

#[test]
fn faults_may_name_a_profile() {
    let chaos = parse(&format!("{PROFILES}faults: chaos\n")).unwrap();
    assert_eq!(chaos.rules.len(), 2);
    let audit = &chaos.rules[0];
    assert_eq!(audit.requests.as_deref(), Some("POST /audit/*"));
    assert_eq!(audit.name, "fault_profiles.chaos[0]");
    assert_eq!(audit.at, format!("{FILE}: line 6"));
    assert_eq!(chaos.rules[1].at, format!("{FILE}: line 10"));
    assert!(
        parse(&format!("{PROFILES}faults: calm\n"))
            .unwrap()
            .rules
            .is_empty()
    );
    // Without `faults`, the profiles are checked but none is used.
    assert!(
        Config::parse(
            Path::new(FILE),
            &format!("task_id: t\nmax_rounds: 1\n{PROFILES}")
        )
        .unwrap()
        .faults
        .is_none()
    );
}

#[test]
fn a_profile_is_picked_by_its_variable() {
    let overrides = crate::config::Overrides::from_vars([("PROMETHEUS_TEST_SET_FAULTS", "chaos")])
        .map_err(|p| p.to_string())
        .unwrap();
    let text = format!("task_id: t\nmax_rounds: 1\n{PROFILES}");
    let config = Config::parse_with(Path::new(FILE), &text, &overrides).unwrap();
    assert_eq!(config.faults.unwrap().rules.len(), 2);
}

#[test]
fn a_profile_that_is_not_defined_is_named() {
    assert_eq!(
        problems(&format!("{PROFILES}faults: choas\n")),
        [
            "line 11: `faults` names the profile `choas`, which `fault_profiles` does not define: \
          did you mean `chaos`?"
        ]
    );
    assert_eq!(
        problems(&format!("{PROFILES}faults: storm\n")),
        [
            "line 11: `faults` names the profile `storm`, which `fault_profiles` does not define: \
          it defines `calm` or `chaos`"
        ]
    );
    assert_eq!(
        problems("faults: chaos\n"),
        [
            "line 3: `faults` names the profile `chaos`, which `fault_profiles` does not define: \
          config.yaml has no `fault_profiles`"
        ]
    );
}

#[test]
fn a_profile_not_picked_is_checked_too() {
    let text = "fault_profiles:\n  chaos:\n    - {link: 'a->b.c', probability: 3, reset: {}}\n  \
                storm: {link: 'a->b.c'}\n";
    assert_eq!(
        problems(text),
        [
            "line 5: `fault_profiles.chaos[0].probability` must be a number from 0 to 1, found 3",
            "line 6: `fault_profiles.storm` must be a list of faults, found a mapping",
        ]
    );
}

#[test]
fn a_request_pattern_is_checked() {
    assert_eq!(
        problems(
            "faults:\n  - {link: 'runner->*', request: '/audit', reset: {}}\n  \
             - {worker: w, request: 'POST /a', crash: {}}\n  \
             - {link: 'runner->*', request: 5, reset: {}}\n"
        ),
        [
            "line 4: `faults[0].request` must be `METHOD /path` (`*`: any run of characters, \
             such as `POST /audit/*` or `* /health`), found \"/audit\"",
            "line 5: `faults[1].request` picks a link's requests: it takes `link`, not `worker`",
            "line 6: `faults[2].request` must be `METHOD /path` (`*`: any run of characters, \
             such as `POST /audit/*` or `* /health`), found 5",
        ]
    );
}

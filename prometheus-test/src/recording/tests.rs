//! The recording as the proxy and the harness drive it, with synthetic
//! requests and responses and cassettes in a temporary folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::handler::UNMATCHED_STATUS;
use super::layout::OUTSIDE_STEPS;
use super::secrets::Redact;
use super::*;
use crate::config::{Pace, RecordMode as Mode};
use crate::proxy::{Canned, Chunk, Completed, Handler as _, Outbound, Reply, Seen, Served, Shape};
use crate::record::model::Handling;

/// The variable that rewrites the golden files instead of comparing.
const BLESS: &str = "PROMETHEUS_TEST_BLESS";

const MESSAGES: &str = "https://api.anthropic.com/v1/messages";

fn request(
    client: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Outbound {
    Outbound {
        client: client.to_owned(),
        method: method.to_owned(),
        url: url.to_owned(),
        headers: pairs(headers),
        body: Bytes::copy_from_slice(body),
    }
}

fn post(client: &str, body: &str) -> Outbound {
    request(
        client,
        "POST",
        MESSAGES,
        &[
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-0123456789"),
        ],
        body.as_bytes(),
    )
}

fn pairs(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn chunks(pieces: &[(u64, &[u8])]) -> Vec<Chunk> {
    pieces
        .iter()
        .map(|(after, bytes)| Chunk {
            after: Duration::from_millis(*after),
            bytes: Bytes::copy_from_slice(bytes),
        })
        .collect()
}

fn response(status: u16, headers: &[(&str, &str)], pieces: &[(u64, &[u8])]) -> Seen {
    Seen {
        status,
        headers: pairs(headers),
        body: chunks(pieces),
    }
}

fn json_response(body: &str) -> Seen {
    response(
        200,
        &[("content-type", "application/json")],
        &[(40, body.as_bytes())],
    )
}

fn options(pace: Pace) -> Options {
    Options {
        pace,
        settle: Duration::from_millis(50),
        ..Options::default()
    }
}

fn recording(mode: Mode, dir: &Path, options: Options) -> Arc<Recording> {
    Recording::new(mode, dir.to_owned(), options).expect("the recording")
}

fn step(round: u32, name: &str) -> StepKey {
    StepKey {
        round,
        name: name.to_owned(),
    }
}

/// Sends `request` through `recording` as the proxy would: a forwarded
/// request gets `upstream`, a canned one its own response. Returns the reply.
async fn exchange(recording: &Recording, request: Outbound, upstream: Seen) -> Reply {
    let reply = recording.decide(&request).await;
    let (served, response) = match &reply {
        Reply::Forward(_) => (Served::Forwarded, upstream),
        Reply::Respond(canned) => (
            Served::Responded,
            Seen {
                status: canned.status,
                headers: canned.headers.clone(),
                body: canned.body.clone(),
            },
        ),
        other => panic!("unexpected reply {other:?}"),
    };
    recording.completed(Completed {
        request,
        served,
        response: Some(response),
        error: None,
        duration: Duration::from_millis(120),
    });
    reply
}

/// Plays `calls` as one step of round 1 in `mode`.
async fn play_step(
    dir: &Path,
    mode: Mode,
    options: Options,
    calls: Vec<(Outbound, Seen)>,
) -> (Vec<Reply>, StepTape) {
    let recording = recording(mode, dir, options);
    recording
        .begin_step(step(1, "steps::ask[worker1]"))
        .unwrap();
    let mut replies = Vec::new();
    for (request, upstream) in calls {
        replies.push(exchange(&recording, request, upstream).await);
    }
    (
        replies,
        recording.end_step().await.expect("a step was open"),
    )
}

fn cassette_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("round-001/steps.ask[worker1].json")).unwrap()
}

fn canned(reply: &Reply) -> &Canned {
    match reply {
        Reply::Respond(canned) => canned,
        other => panic!("not answered from the cassette: {other:?}"),
    }
}

fn body_text(reply: &Reply) -> String {
    let canned = canned(reply);
    canned
        .body
        .iter()
        .map(|chunk| String::from_utf8_lossy(&chunk.bytes).into_owned())
        .collect()
}

#[tokio::test]
async fn a_recorded_response_is_replayed_as_it_came_without_unrecorded_headers() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = response(
        201,
        &[
            ("content-type", "application/json"),
            ("content-length", "16"),
            ("set-cookie", "session=abc"),
            ("x-request-id", "req_1"),
        ],
        &[(35, br#"{"id":"msg_1","n":2}"#)],
    );
    let call = post("worker1", r#"{"model":"claude"}"#);
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Recorded),
        vec![(call.clone(), upstream)],
    )
    .await;
    let (replies, tape) = play_step(
        dir.path(),
        Mode::Replay,
        options(Pace::Recorded),
        vec![(call, json_response("unused"))],
    )
    .await;
    assert_eq!(
        (canned(&replies[0]), tape.failure()),
        (
            &Canned {
                status: 201,
                headers: pairs(&[
                    ("content-type", "application/json"),
                    ("x-request-id", "req_1")
                ]),
                body: chunks(&[(35, br#"{"id":"msg_1","n":2}"#)]),
            },
            None
        )
    );
}

#[tokio::test]
async fn a_stream_is_replayed_in_its_pieces_at_the_recorded_pace_or_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let events: [(u64, &[u8]); 3] = [
        (5, b"event: message_start\ndata: {}\n\n"),
        (
            250,
            b"event: content_block_delta\ndata: {\"text\":\"Hi\"}\n\n",
        ),
        (30, b"event: message_stop\ndata: {}\n\n"),
    ];
    let stream = response(200, &[("content-type", "text/event-stream")], &events);
    let call = post("worker1", r#"{"stream":true}"#);
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Recorded),
        vec![(call.clone(), stream)],
    )
    .await;
    let mut bodies = Vec::new();
    for pace in [Pace::Recorded, Pace::Instant] {
        let (replies, _) = play_step(
            dir.path(),
            Mode::Replay,
            options(pace),
            vec![(call.clone(), json_response("unused"))],
        )
        .await;
        bodies.push(canned(&replies[0]).body.clone());
    }
    let at_once: Vec<(u64, &[u8])> = events.iter().map(|(_, bytes)| (0, *bytes)).collect();
    assert_eq!(bodies, [chunks(&events), chunks(&at_once)]);
}

#[tokio::test]
async fn json_bodies_match_whatever_their_key_order_spacing_and_ignored_parts() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = r#"{"model":"claude","messages":[{"role":"user","content":"Hi"}],"metadata":{"request_id":"r1"}}"#;
    let url = "https://api.github.com/search?q=a&q=b&page=1";
    let call = |body: &str, url: &str| request("worker1", "POST", url, &[], body.as_bytes());
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![(call(recorded, url), json_response(r#"{"ok":true}"#))],
    )
    .await;
    let reordered = r#"{ "metadata": {"request_id": "r2"},
        "messages": [ {"content": "Hi", "role": "user"} ], "model": "claude" }"#;
    let other_query = "https://api.github.com:443/search?page=1&q=b&q=a";
    let ignoring = Options {
        ignore_body: vec!["/metadata/request_id".into()],
        ..options(Pace::Instant)
    };
    let (with_ignore, _) = play_step(
        dir.path(),
        Mode::Replay,
        ignoring,
        vec![(call(reordered, other_query), json_response("unused"))],
    )
    .await;
    let (without, tape) = play_step(
        dir.path(),
        Mode::Replay,
        options(Pace::Instant),
        vec![(call(reordered, other_query), json_response("unused"))],
    )
    .await;
    assert_eq!(
        (
            canned(&with_ignore[0]).status,
            canned(&without[0]).status,
            tape.mismatches[0]
                .closest
                .as_ref()
                .unwrap()
                .differences
                .clone()
        ),
        (
            200,
            UNMATCHED_STATUS,
            vec![r#"body /metadata/request_id: "r2" ≠ recorded "r1""#.to_owned()]
        )
    );
}

#[tokio::test]
async fn identical_requests_get_the_recorded_answers_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let call = post("worker1", r#"{"n":1}"#);
    let calls = ["first", "second", "third"].map(|answer| {
        (
            call.clone(),
            json_response(&format!(r#"{{"a":"{answer}"}}"#)),
        )
    });
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        calls.to_vec(),
    )
    .await;
    let again = vec![(call.clone(), json_response("unused")); 4];
    let (replies, tape) = play_step(dir.path(), Mode::Replay, options(Pace::Instant), again).await;
    let bodies: Vec<String> = replies.iter().take(3).map(body_text).collect();
    assert_eq!(
        (bodies, tape.failure()),
        (
            vec![
                r#"{"a":"first"}"#.to_owned(),
                r#"{"a":"second"}"#.to_owned(),
                r#"{"a":"third"}"#.to_owned()
            ],
            Some(format!(
                "worker1 POST {MESSAGES} matches no unused entry of cassette \
                 round-001/steps.ask[worker1].json: it is entry 1, served already (the \
                 request came more often than when recorded)"
            ))
        )
    );
}

#[tokio::test]
async fn workers_may_come_in_another_order_and_get_only_their_own_entries() {
    let dir = tempfile::tempdir().unwrap();
    let call = |client| post(client, r#"{"same":true}"#);
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![
            (call("worker1"), json_response(r#"{"for":"worker1"}"#)),
            (call("worker2"), json_response(r#"{"for":"worker2"}"#)),
        ],
    )
    .await;
    let recording = recording(Mode::Replay, dir.path(), options(Pace::Instant));
    recording
        .begin_step(step(1, "steps::ask[worker1]"))
        .unwrap();
    let sent = ["worker3", "worker2", "worker1"].map(|client| {
        let recording = Arc::clone(&recording);
        tokio::spawn(
            async move { exchange(&recording, call(client), json_response("unused")).await },
        )
    });
    let mut bodies = Vec::new();
    for reply in sent {
        bodies.push(body_text(&reply.await.unwrap()));
    }
    let tape = recording.end_step().await.unwrap();
    assert_eq!(
        (bodies[1..].to_vec(), tape.failure()),
        (
            vec![
                r#"{"for":"worker2"}"#.to_owned(),
                r#"{"for":"worker1"}"#.to_owned()
            ],
            Some(format!(
                "worker3 POST {MESSAGES} matches no unused entry of cassette \
                 round-001/steps.ask[worker1].json, which has no entry of worker3"
            ))
        )
    );
}

#[tokio::test]
async fn a_mismatch_names_the_closest_entry_and_what_differs_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let with = |url: &str, headers: &[(&str, &str)], body: &str| {
        request("worker1", "POST", url, headers, body.as_bytes())
    };
    let summarise = r#"{"model":"claude","messages":[{"role":"user","content":"Summarise Y"}]}"#;
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![
            (
                with("https://api.openai.com/v1/chat?model=a", &[], "{}"),
                json_response("{}"),
            ),
            (
                with(
                    &format!("{MESSAGES}?model=m1&beta=true"),
                    &[("x-foo", "1")],
                    summarise,
                ),
                json_response("{}"),
            ),
        ],
    )
    .await;
    let matching = Options {
        match_headers: vec!["X-Foo".into(), "x-bar".into()],
        ..options(Pace::Instant)
    };
    let sent = with(
        &format!("{MESSAGES}?model=m2&beta=true"),
        &[("x-bar", "2")],
        r#"{"model":"claude","messages":[{"role":"user","content":"Summarise X"}],"stream":false}"#,
    );
    let (replies, tape) = play_step(
        dir.path(),
        Mode::Replay,
        matching,
        vec![(sent, json_response("{}"))],
    )
    .await;
    let expected = format!(
        "worker1 POST {MESSAGES}?model=m2&beta=true matches no unused entry of cassette \
         round-001/steps.ask[worker1].json; the closest, entry 2 (worker1 POST \
         {MESSAGES}?model=m1&beta=true), differs in:
  query model: \"m2\" ≠ recorded \"m1\"
  header x-bar: \"2\" not recorded
  header x-foo missing (recorded \"1\")
  body /messages/0/content: \"Summarise X\" ≠ recorded \"Summarise Y\"
  body /stream: false not recorded"
    );
    assert_eq!(
        (body_text(&replies[0]), tape.failure()),
        (
            format!("prometheus-test replay: {expected}\n"),
            Some(expected.clone())
        )
    );
}

#[tokio::test]
async fn replay_never_forwards_inside_or_outside_steps() {
    let dir = tempfile::tempdir().unwrap();
    let recording = recording(Mode::Replay, dir.path(), options(Pace::Instant));
    let mut replies = vec![exchange(&recording, post("worker1", "{}"), json_response("{}")).await];
    recording
        .begin_step(step(1, "steps::ask[worker1]"))
        .unwrap();
    replies.push(exchange(&recording, post("worker1", "{}"), json_response("{}")).await);
    let tape = recording.end_step().await.unwrap();
    let outside = recording.take_outside();
    let statuses: Vec<u16> = replies.iter().map(|reply| canned(reply).status).collect();
    assert_eq!(
        (
            statuses,
            tape.mismatches.len(),
            outside.mismatches.len(),
            std::fs::read_dir(dir.path()).unwrap().count()
        ),
        (vec![UNMATCHED_STATUS; 2], 1, 1, 0)
    );
}

#[tokio::test]
async fn record_replays_what_is_on_tape_and_forwards_and_records_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (known, new) = (post("worker1", r#"{"n":1}"#), post("worker1", r#"{"n":2}"#));
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![(known.clone(), json_response(r#"{"a":1}"#))],
    )
    .await;
    let (replies, tape) = play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![
            (known.clone(), json_response(r#"{"a":"changed"}"#)),
            (new.clone(), json_response(r#"{"a":2}"#)),
        ],
    )
    .await;
    let (again, _) = play_step(
        dir.path(),
        Mode::Replay,
        options(Pace::Instant),
        vec![
            (known, json_response("unused")),
            (new, json_response("unused")),
        ],
    )
    .await;
    let handlings: Vec<(Handling, Option<usize>)> = tape
        .exchanges
        .iter()
        .map(|e| (e.handling, e.entry))
        .collect();
    assert_eq!(
        (
            body_text(&replies[0]),
            &replies[1],
            handlings,
            again.iter().map(body_text).collect::<Vec<_>>()
        ),
        (
            r#"{"a":1}"#.to_owned(),
            &Reply::Forward(Shape::default()),
            vec![(Handling::Replayed, Some(1)), (Handling::Recorded, None)],
            vec![r#"{"a":1}"#.to_owned(), r#"{"a":2}"#.to_owned()]
        )
    );
}

#[tokio::test]
async fn all_rewrites_the_steps_cassette_and_removes_it_when_nothing_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (post("worker1", r#"{"n":1}"#), post("worker1", r#"{"n":2}"#));
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        vec![
            (a.clone(), json_response(r#"{"old":1}"#)),
            (b, json_response(r#"{"old":2}"#)),
        ],
    )
    .await;
    let (replies, _) = play_step(
        dir.path(),
        Mode::All,
        options(Pace::Instant),
        vec![(a.clone(), json_response(r#"{"new":1}"#))],
    )
    .await;
    let (again, _) = play_step(
        dir.path(),
        Mode::Replay,
        options(Pace::Instant),
        vec![(a, json_response("unused"))],
    )
    .await;
    let entries =
        serde_json::from_str::<serde_json::Value>(&cassette_text(dir.path())).unwrap()["entries"]
            .as_array()
            .unwrap()
            .len();
    play_step(dir.path(), Mode::All, options(Pace::Instant), Vec::new()).await;
    assert_eq!(
        (
            &replies[0],
            entries,
            body_text(&again[0]),
            dir.path()
                .join("round-001/steps.ask[worker1].json")
                .exists()
        ),
        (
            &Reply::Forward(Shape::default()),
            1,
            r#"{"new":1}"#.to_owned(),
            false
        )
    );
}

#[tokio::test]
async fn off_forwards_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (replies, tape) = play_step(
        dir.path(),
        Mode::Off,
        options(Pace::Instant),
        vec![(post("worker1", "{}"), json_response("{}"))],
    )
    .await;
    assert_eq!(
        (
            &replies[0],
            tape.exchanges[0].handling,
            std::fs::read_dir(dir.path()).unwrap().count()
        ),
        (&Reply::Forward(Shape::default()), Handling::Forwarded, 0)
    );
}

#[tokio::test]
async fn a_cassette_holding_a_known_secret_is_refused_naming_the_place_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "ghp_0123456789abcdef";
    let redact: Redact =
        Arc::new(move |text: &str| text.replace(secret, "[redacted: GITHUB_TOKEN]"));
    let with_secret = Options {
        redact,
        ..options(Pace::Instant)
    };
    let call = request(
        "worker1",
        "POST",
        &format!("https://api.github.com/repos?token={secret}"),
        &[("authorization", &format!("Bearer {secret}"))],
        br#"{"title":"t"}"#,
    );
    let in_body = request(
        "worker1",
        "POST",
        "https://api.github.com/repos",
        &[("authorization", &format!("Bearer {secret}"))],
        format!(r#"{{"repo":{{"token":"{secret}"}}}}"#).as_bytes(),
    );
    let (_, in_url) = play_step(
        dir.path(),
        Mode::Record,
        with_secret.clone(),
        vec![(call, json_response("{}"))],
    )
    .await;
    let (_, in_json) = play_step(
        dir.path(),
        Mode::Record,
        with_secret,
        vec![(in_body, json_response("{}"))],
    )
    .await;
    let errors: Vec<String> = [in_url, in_json]
        .iter()
        .map(|tape| tape.failure().unwrap())
        .collect();
    assert_eq!(
        (
            errors,
            std::fs::read_dir(dir.path()).map_or(0, Iterator::count)
        ),
        (
            vec![
                "cassette round-001/steps.ask[worker1].json not written: entry 1 (worker1 POST \
                 https://api.github.com/repos?token=[redacted: GITHUB_TOKEN]) holds a secret of \
                 the run in its request url"
                    .to_owned(),
                "cassette round-001/steps.ask[worker1].json not written: entry 1 (worker1 POST \
                 https://api.github.com/repos) holds a secret of the run in its request body \
                 /repo/token"
                    .to_owned(),
            ],
            0
        )
    );
}

#[tokio::test(start_paused = true)]
async fn the_end_of_a_step_waits_for_its_exchanges_then_lists_the_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let recording = recording(
        Mode::Record,
        dir.path(),
        Options {
            settle: Duration::from_secs(5),
            ..options(Pace::Instant)
        },
    );
    recording
        .begin_step(step(1, "steps::ask[worker1]"))
        .unwrap();
    let (slow, stuck) = (
        post("worker1", r#"{"n":"slow"}"#),
        post("worker1", r#"{"n":"stuck"}"#),
    );
    recording.decide(&slow).await;
    recording.decide(&stuck).await;
    let late = Arc::clone(&recording);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        late.completed(Completed {
            request: slow,
            served: Served::Forwarded,
            response: Some(json_response("{}")),
            error: None,
            duration: Duration::from_secs(2),
        });
    });
    let tape = recording.end_step().await.unwrap();
    assert_eq!(
        (
            tape.exchanges
                .iter()
                .map(|e| e.handling)
                .collect::<Vec<_>>(),
            tape.unfinished,
            cassette_text(dir.path()).contains(r#""n": "slow""#)
        ),
        (
            vec![Handling::Recorded],
            vec![format!("worker1 POST {MESSAGES}")],
            true
        )
    );
}

/// The calls of the golden cassette: JSON, a stream, text and binary, from
/// two workers, one request outside steps.
fn golden_calls() -> Vec<(Outbound, Seen)> {
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0, 0xff];
    vec![
        (
            request(
                "worker2",
                "GET",
                "https://api.github.com/repos/koii/task/pulls?state=open",
                &[
                    ("accept", "application/vnd.github+json"),
                    ("authorization", "Bearer t"),
                ],
                b"",
            ),
            response(200, &[("content-type", "image/png")], &[(12, png)]),
        ),
        (
            post(
                "worker1",
                r#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#,
            ),
            response(
                200,
                &[("content-type", "text/event-stream"), ("set-cookie", "s=1")],
                &[
                    (5, b"event: message_start\ndata: {}\n\n"),
                    (250, b"event: message_stop\ndata: {}\n\n"),
                ],
            ),
        ),
        (
            request(
                "worker1",
                "POST",
                "http://localhost:9000/log",
                &[("content-type", "text/plain")],
                b"line one\n",
            ),
            response(
                200,
                &[("content-type", "application/json")],
                &[(3, br#"{"ok":true,"ids":[1,2]}"#)],
            ),
        ),
    ]
}

#[tokio::test]
async fn the_cassette_is_the_golden_one_and_recording_the_same_calls_again_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, tape) = play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        golden_calls(),
    )
    .await;
    assert_eq!(tape.failure(), None);
    let first = cassette_text(dir.path());
    assert_golden("round-001.steps.ask[worker1].json", &first);
    play_step(
        dir.path(),
        Mode::All,
        options(Pace::Instant),
        golden_calls(),
    )
    .await;
    let rerecorded = cassette_text(dir.path());
    play_step(
        dir.path(),
        Mode::Record,
        options(Pace::Instant),
        golden_calls(),
    )
    .await;
    assert_eq!(
        (rerecorded, cassette_text(dir.path())),
        (first.clone(), first)
    );
}

#[tokio::test]
async fn requests_outside_steps_have_a_cassette_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = recording(Mode::Record, dir.path(), options(Pace::Instant));
    exchange(
        &recorder,
        post("worker1", r#"{"at":"start-up"}"#),
        json_response(r#"{"a":0}"#),
    )
    .await;
    let outside = recorder.take_outside();
    let player = recording(Mode::Replay, dir.path(), options(Pace::Instant));
    let reply = exchange(
        &player,
        post("worker1", r#"{"at":"start-up"}"#),
        json_response("unused"),
    )
    .await;
    assert_eq!(
        (
            outside.cassette,
            outside.error,
            body_text(&reply),
            dir.path().join(OUTSIDE_STEPS).exists()
        ),
        (
            PathBuf::from(OUTSIDE_STEPS),
            None,
            r#"{"a":0}"#.to_owned(),
            true
        )
    );
}

/// Fails unless `actual` is the file `golden/<name>`; with
/// `PROMETHEUS_TEST_BLESS=1` writes it instead.
fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/recording/golden")
        .join(name);
    if std::env::var_os(BLESS).is_some_and(|value| value == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; write it with {BLESS}=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "the cassette differs from {}; if the change is deliberate, rewrite it with {BLESS}=1 \
         and review its diff\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

//! Requests forwarded upstream: plain and intercepted, kept alive,
//! streamed, shaped, failed.

use std::time::{Duration, Instant};

use super::support::{BIG, PATIENCE, PLAIN_HOST, Setup, Summary, TLS_HOST, read_response, send};
use crate::proxy::{Reply, Served, Shape};

#[tokio::test]
async fn plain_http_is_forwarded_and_reported_once() {
    let setup = Setup::start().await;
    let url = format!("http://{PLAIN_HOST}/echo?x=1");
    let response = setup
        .client()
        .post(&url)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echo: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (&echo["method"], &echo["uri"], &echo["body"]),
        (
            &serde_json::json!("POST"),
            &serde_json::json!("/echo?x=1"),
            &serde_json::json!("hello")
        )
    );
    assert_eq!(setup.plain_upstream.hits(), 1);
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [Summary::forwarded("POST", &url, "hello", &echo.to_string())]
    );
}

/// The client trusts the suite's CA only, so the certificate it got was
/// the suite's for `api.example.test`; the upstream has a CA of its own,
/// which only the proxy's upstream client trusts.
#[tokio::test]
async fn https_is_intercepted_with_a_certificate_of_the_suite_ca() {
    let setup = Setup::start().await;
    let url = format!("https://{TLS_HOST}/echo");
    let response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let echo: serde_json::Value = response.json().await.unwrap();
    assert_eq!(echo["uri"], "/echo");
    assert_eq!(setup.tls_upstream.hits(), 1);
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [Summary::forwarded("GET", &url, "", &echo.to_string())]
    );
}

#[tokio::test]
async fn two_requests_share_one_tunnel() {
    let setup = Setup::start().await;
    let mut tunnel = setup.tunnel().await;
    let mut bodies = Vec::new();
    for path in ["/first", "/second"] {
        send(
            &mut tunnel,
            &format!("GET {path} HTTP/1.1\r\nHost: {TLS_HOST}\r\nAccept: */*\r\n\r\n"),
        )
        .await;
        let (head, body) = read_response(&mut tunnel).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        bodies.push(body);
    }
    let reported = setup.stop().await;
    let urls: Vec<&str> = reported
        .iter()
        .map(|summary| summary.url.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "https://api.example.test/first",
            "https://api.example.test/second"
        ]
    );
    assert_eq!(
        reported
            .iter()
            .map(|summary| &summary.response_body)
            .collect::<Vec<_>>(),
        bodies.iter().collect::<Vec<_>>()
    );
}

/// The upstream sends its second event only once the client has the first:
/// a proxy that held the body back would never pass the first on.
#[tokio::test]
async fn a_stream_reaches_the_client_as_it_arrives() {
    let setup = Setup::start().await;
    let url = format!("https://{TLS_HOST}/events");
    let mut response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(PATIENCE, response.chunk())
        .await
        .expect("the first event did not come before the second was sent")
        .unwrap()
        .unwrap();
    assert_eq!(first, "data: one\n\n");
    setup.tls_upstream.release.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"data: two\n\n");
    let exchange = setup.handler.wait_for(1).await.remove(0);
    let pieces: Vec<&[u8]> = exchange
        .response
        .as_ref()
        .unwrap()
        .body
        .iter()
        .map(|chunk| chunk.bytes.as_ref())
        .collect();
    assert_eq!(pieces, [&b"data: one\n\n"[..], b"data: two\n\n"]);
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [Summary::forwarded(
            "GET",
            &url,
            "",
            "data: one\n\ndata: two\n\n"
        )]
    );
}

/// Sent with the raw headers a client could send; the upstream sees the
/// end-to-end ones only (and no header the client did not send).
#[tokio::test]
async fn hop_by_hop_headers_and_accept_encoding_are_not_passed_up() {
    let setup = Setup::start().await;
    let mut stream = setup.connect().await;
    send(
        &mut stream,
        &format!(
            "POST http://{PLAIN_HOST}/echo HTTP/1.1\r\n\
             Host: {PLAIN_HOST}\r\n\
             Accept: application/json\r\n\
             Accept-Encoding: gzip, br\r\n\
             X-End-To-End: yes\r\n\
             Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\
             Proxy-Connection: keep-alive\r\n\
             Connection: keep-alive, X-Private\r\n\
             X-Private: secret\r\n\
             Keep-Alive: timeout=5\r\n\
             TE: trailers\r\n\
             Transfer-Encoding: chunked\r\n\
             \r\n\
             5\r\nhello\r\n0\r\n\r\n"
        ),
    )
    .await;
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut seen: Vec<String> = echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            format!(
                "{}: {}",
                pair[0].as_str().unwrap(),
                pair[1].as_str().unwrap()
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "accept: application/json".to_owned(),
            "content-length: 5".to_owned(),
            format!("host: {PLAIN_HOST}"),
            "x-end-to-end: yes".to_owned(),
        ]
    );
    assert_eq!(echo["body"], "hello");
    let exchange = setup.handler.wait_for(1).await.remove(0);
    assert_eq!(
        exchange.request.headers,
        [
            ("host", PLAIN_HOST),
            ("accept", "application/json"),
            ("accept-encoding", "gzip, br"),
            ("x-end-to-end", "yes"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
    );
    setup.stop().await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_answered_with_a_502() {
    let setup = Setup::start().await;
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/echo");
    let response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 502);
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with(&format!(
            "prometheus-test proxy: cannot reach the upstream of {url}: "
        )) && text.contains("Connection refused"),
        "{text}"
    );
    let reported = setup.stop().await;
    assert_eq!(reported.len(), 1);
    assert_eq!(
        (
            reported[0].served,
            reported[0].status,
            reported[0].error.as_deref()
        ),
        (
            Served::Forwarded,
            None,
            Some(
                text.trim_end()
                    .strip_prefix("prometheus-test proxy: ")
                    .unwrap()
            )
        )
    );
}

#[tokio::test]
async fn cut_after_closes_the_connection_mid_body() {
    let setup = Setup::start().await;
    setup.handler.reply(Reply::Forward(Shape {
        cut_after: Some(1000),
        ..Shape::default()
    }));
    let url = format!("https://{TLS_HOST}/big");
    let mut response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(
        response.headers()["content-length"],
        BIG.to_string().as_str()
    );
    let mut got = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got += chunk.len(),
            Ok(None) => panic!("the whole body came ({got} bytes)"),
            Err(error) => break error,
        }
    };
    assert_eq!(got, 1000, "{error}");
    let reported = setup.stop().await;
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].response_body.len(), 1000);
    assert_eq!(
        reported[0].error.as_deref(),
        Some("the response was cut after 1000 bytes of its body, as the handler asked")
    );
}

/// 0.2 s of delay, then 20 000 bytes at 40 000 bytes a second: half a
/// second at least; unshaped, the same request takes milliseconds.
#[tokio::test]
async fn a_delay_and_a_bandwidth_slow_the_response() {
    let setup = Setup::start().await;
    let url = format!("http://{PLAIN_HOST}/big");
    let started = Instant::now();
    let whole = setup
        .client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let unshaped = started.elapsed();
    setup.handler.reply(Reply::Forward(Shape {
        delay: Duration::from_millis(200),
        bytes_per_second: Some(40_000),
        cut_after: Some(20_000),
    }));
    let started = Instant::now();
    let response = setup.client().get(&url).send().await.unwrap();
    let head_after = started.elapsed();
    let mut response = response;
    let mut got = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        got += chunk.len();
    }
    let shaped = started.elapsed();
    assert_eq!((whole.len(), got), (BIG, 20_000));
    assert!(head_after >= Duration::from_millis(200), "{head_after:?}");
    assert!(
        shaped >= Duration::from_millis(650) && unshaped < Duration::from_millis(500),
        "shaped {shaped:?}, unshaped {unshaped:?}"
    );
    setup.stop().await;
}

//! Requests the handler answers itself: canned responses, resets, hangs;
//! and what stopping the proxy does to open exchanges.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::support::{PATIENCE, PLAIN_HOST, Setup, Summary, TLS_HOST, send};
use crate::proxy::{Canned, Chunk, Reply, Served};

fn canned(content_type: &str, pieces: &[(u64, &'static str)]) -> Reply {
    Reply::Respond(Canned {
        status: 201,
        headers: vec![("content-type".to_owned(), content_type.to_owned())],
        body: pieces
            .iter()
            .map(|&(after_ms, text)| Chunk {
                after: Duration::from_millis(after_ms),
                bytes: Bytes::from_static(text.as_bytes()),
            })
            .collect(),
    })
}

fn responded(url: &str, body: &str) -> Summary {
    Summary {
        served: Served::Responded,
        status: Some(201),
        ..Summary::forwarded("GET", url, "", body)
    }
}

/// The second piece comes 300 ms after the first, which the client has
/// long before; the upstream is never asked.
#[tokio::test]
async fn a_canned_response_comes_in_paced_chunks() {
    let setup = Setup::start().await;
    setup
        .handler
        .reply(canned("text/plain", &[(0, "first "), (300, "second")]));
    let url = format!("https://{TLS_HOST}/v1/messages");
    let started = Instant::now();
    let mut response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let first = response.chunk().await.unwrap().unwrap();
    let first_after = started.elapsed();
    let second = response.chunk().await.unwrap().unwrap();
    let second_after = started.elapsed();
    assert_eq!(
        (first.as_ref(), second.as_ref()),
        (&b"first "[..], &b"second"[..])
    );
    assert!(
        first_after < Duration::from_millis(250) && second_after >= Duration::from_millis(300),
        "first after {first_after:?}, second after {second_after:?}"
    );
    assert_eq!(setup.tls_upstream.hits(), 0);
    let reported = setup.stop().await;
    assert_eq!(reported, [responded(&url, "first second")]);
}

#[tokio::test]
async fn a_canned_response_of_one_piece_has_a_content_length() {
    let setup = Setup::start().await;
    setup
        .handler
        .reply(canned("application/json", &[(0, "{}")]));
    let url = format!("http://{PLAIN_HOST}/x");
    let response = setup.client().get(&url).send().await.unwrap();
    assert_eq!(response.headers()["content-length"], "2");
    assert_eq!(response.text().await.unwrap(), "{}");
    let reported = setup.stop().await;
    assert_eq!(reported, [responded(&url, "{}")]);
}

/// Through a tunnel and not: the client's request fails as a connection
/// error, and the upstream is never asked.
#[tokio::test]
async fn a_reset_is_a_connection_error() {
    let setup = Setup::start().await;
    let urls = [
        format!("https://{TLS_HOST}/echo"),
        format!("http://{PLAIN_HOST}/echo"),
    ];
    for url in &urls {
        setup.handler.reply(Reply::Reset);
        let error = setup.client().get(url).send().await.unwrap_err();
        assert!(error.is_request() && !error.is_timeout(), "{error:?}");
    }
    assert_eq!(setup.tls_upstream.hits() + setup.plain_upstream.hits(), 0);
    let reported = setup.stop().await;
    let expected = urls.map(|url| Summary {
        served: Served::Reset,
        status: None,
        ..Summary::forwarded("GET", &url, "", "")
    });
    assert_eq!(reported, expected);
}

/// On a raw connection: the proxy closes it with a reset, not an answer.
#[tokio::test]
async fn a_reset_closes_the_tcp_connection_with_a_reset() {
    let setup = Setup::start().await;
    setup.handler.reply(Reply::Reset);
    let mut stream = setup.connect().await;
    send(
        &mut stream,
        &format!("GET http://{PLAIN_HOST}/ HTTP/1.1\r\nHost: {PLAIN_HOST}\r\n\r\n"),
    )
    .await;
    let mut buffer = [0; 16];
    let read = tokio::io::AsyncReadExt::read(&mut stream, &mut buffer).await;
    assert_eq!(
        read.map_err(|error| error.kind()),
        Err(std::io::ErrorKind::ConnectionReset)
    );
    setup.stop().await;
}

/// The client gives up after 300 ms; the exchange is reported once it has.
#[tokio::test]
async fn a_hang_is_the_clients_timeout() {
    let setup = Setup::start().await;
    setup.handler.reply(Reply::Hang);
    let url = format!("https://{TLS_HOST}/echo");
    let client = setup
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get(&url).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    drop(client);
    let exchange = setup.handler.wait_for(1).await.remove(0);
    // From the request's arrival, a little after the client's clock started.
    assert!(
        exchange.duration >= Duration::from_millis(250),
        "{exchange:?}"
    );
    let reported = setup.stop().await;
    assert_eq!(
        reported,
        [Summary {
            served: Served::Hung,
            status: None,
            ..Summary::forwarded("GET", &url, "", "")
        }]
    );
}

/// A stream still open and a hung request when the proxy stops: both
/// clients see their connection end, both exchanges are reported, and the
/// listener is gone.
#[tokio::test]
async fn shutdown_ends_open_exchanges_and_the_listeners() {
    let setup = Setup::start().await;
    let events_url = format!("https://{TLS_HOST}/events");
    let mut stream = setup.client().get(&events_url).send().await.unwrap();
    assert_eq!(stream.chunk().await.unwrap().unwrap(), "data: one\n\n");
    setup.handler.reply(Reply::Hang);
    let mut hung = setup.connect().await;
    send(
        &mut hung,
        &format!("GET http://{PLAIN_HOST}/hang HTTP/1.1\r\nHost: {PLAIN_HOST}\r\n\r\n"),
    )
    .await;
    // The hung request has reached the handler once its reply is taken.
    tokio::time::timeout(PATIENCE, async {
        while !setup.handler.replies_taken() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    let listener = setup.listener;
    setup.proxy.shutdown().await;
    assert!(stream.chunk().await.is_err());
    let mut rest = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut hung, &mut rest).await;
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?} {rest:?}");
    assert!(tokio::net::TcpStream::connect(listener).await.is_err());
    let mut reported = setup
        .handler
        .completed()
        .iter()
        .map(Summary::of)
        .collect::<Vec<_>>();
    reported.sort_by(|a, b| a.url.cmp(&b.url));
    assert_eq!(
        reported,
        [
            Summary {
                served: Served::Hung,
                status: None,
                ..Summary::forwarded("GET", &format!("http://{PLAIN_HOST}/hang"), "", "")
            },
            Summary {
                error: Some("the proxy stopped before the response ended".to_owned()),
                ..Summary::forwarded("GET", &events_url, "", "data: one\n\n")
            },
        ]
    );
}

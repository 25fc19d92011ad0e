//! The recording HTTP handle steps get from [`Runner::http`](crate::Runner::http).
//!
//! Every request sent through it goes on the run's event stream as it was
//! sent and received ([`Event::HttpExchanged`]); the recording stage files it
//! against the step (and round) that made it: method, URL, status, duration,
//! headers and bodies, with Koii signatures decoded, secrets redacted before
//! anything is stored or shown. The
//! bytes sent are exactly those the step built; the response body is read in
//! full once (to record it) and handed back to the step as a normal
//! [`reqwest::Response`].
//!
//! Requests a step makes with its own client, or through
//! [`Http::client`], are not recorded.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{IntoUrl, Method, ResponseBuilderExt as _};
use serde::Serialize;

use crate::config::Config;
use crate::events::{Event, Events};
use crate::proxy::UNREACHABLE_HEADER;
use crate::record::recorder::{OwnedExchange, OwnedResponse};

/// An HTTP client that records what it sends and receives.
///
/// Built on the runner's [`reqwest::Client`]; the request builder offers the
/// usual `header`, `json`, `body`, `bearer_auth`, `timeout` … and its
/// [`send`](RequestBuilder::send) returns a [`reqwest::Response`]. A request
/// that sets no [`timeout`](RequestBuilder::timeout) of its own gets
/// config.yaml's `http_timeout` (30 s by default).
///
/// ```no_run
/// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
/// let url = format!("{}/submit", runner.worker("worker1")?.url());
/// let response = runner.http().post(url).json(&serde_json::json!({"round": 1})).send().await?;
/// let text = response.error_for_status()?.text().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// The client without the fault proxy, when `client` goes through it.
    direct: Option<reqwest::Client>,
    events: Option<Events>,
    timeout: TimeLimit,
}

/// A request's time limit, and where it was set (for the error of a request
/// that ran past it).
#[derive(Debug, Clone)]
pub(crate) struct TimeLimit {
    pub(crate) limit: Duration,
    /// "config.yaml `http_timeout`", "the request's `.timeout(…)`", …
    pub(crate) source: Arc<str>,
}

impl TimeLimit {
    /// config.yaml's `http_timeout`.
    pub(crate) fn of_the_run(config: &Config) -> Self {
        Self {
            limit: config.http_timeout,
            source: config.http_timeout_source().into(),
        }
    }

    /// `http_timeout`'s default, for a client outside a run.
    pub(crate) fn by_default() -> Self {
        Self {
            limit: Config::DEFAULT_HTTP_TIMEOUT,
            source: Config::DEFAULT_HTTP_TIMEOUT_SOURCE.into(),
        }
    }

    /// The limit a request's own `.timeout(limit)` sets.
    fn of_the_request(limit: Duration) -> Self {
        Self {
            limit,
            source: "the request's `.timeout(…)`".into(),
        }
    }
}

impl Http {
    /// A client on `client` whose requests without a timeout of their own
    /// get `timeout`; each exchange goes on `events`, when there are any.
    pub(crate) fn new(client: reqwest::Client, events: Option<Events>, timeout: TimeLimit) -> Self {
        Self {
            client,
            direct: None,
            events,
            timeout,
        }
    }

    /// The same recording client on `proxied`, a client through the fault
    /// proxy; a request the proxy could not deliver (a worker that is down)
    /// is sent again directly, so that the step sees the refused connection.
    pub(crate) fn through_proxy(&self, proxied: reqwest::Client) -> Self {
        Self {
            direct: Some(self.client.clone()),
            client: proxied,
            ..self.clone()
        }
    }

    /// A `GET` request to `url`.
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A `POST` request to `url`.
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A `PUT` request to `url`.
    pub fn put<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A `PATCH` request to `url`.
    pub fn patch<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A `DELETE` request to `url`.
    pub fn delete<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A `HEAD` request to `url`.
    pub fn head<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any `method` to `url`.
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        RequestBuilder {
            inner: self.client.request(method, url),
            direct: self.direct.clone(),
            events: self.events.clone(),
            timeout: self.timeout.clone(),
        }
    }

    /// The underlying client. Requests sent with it are **not recorded**
    /// and get no `http_timeout` (use it for streaming bodies the
    /// transcript should not buffer).
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("recording", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

/// A request being built; [`send`](Self::send) sends and records it.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    inner: reqwest::RequestBuilder,
    direct: Option<reqwest::Client>,
    events: Option<Events>,
    /// The limit when the request sets none of its own.
    timeout: TimeLimit,
}

impl RequestBuilder {
    fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        Self {
            inner: f(self.inner),
            ..self
        }
    }

    /// Adds a header.
    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        reqwest::header::HeaderName: TryFrom<K>,
        <reqwest::header::HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        reqwest::header::HeaderValue: TryFrom<V>,
        <reqwest::header::HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.map(|b| b.header(key, value))
    }

    /// Adds headers.
    pub fn headers(self, headers: reqwest::header::HeaderMap) -> Self {
        self.map(|b| b.headers(headers))
    }

    /// Sends `json` as the body, with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|b| b.json(json))
    }

    /// Sends `body` as it is.
    pub fn body<T: Into<reqwest::Body>>(self, body: T) -> Self {
        self.map(|b| b.body(body))
    }

    /// Sends an `Authorization: Bearer` header (recorded as `[redacted]`).
    pub fn bearer_auth<T: fmt::Display>(self, token: T) -> Self {
        self.map(|b| b.bearer_auth(token))
    }

    /// Sends an `Authorization: Basic` header (recorded as `[redacted]`).
    pub fn basic_auth<U: fmt::Display, P: fmt::Display>(
        self,
        username: U,
        password: Option<P>,
    ) -> Self {
        self.map(|b| b.basic_auth(username, password))
    }

    /// Fails the request when it takes longer than `timeout` (body included),
    /// in place of config.yaml's `http_timeout`.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }

    /// Sends the request and reads the whole response body, records the
    /// exchange against the running step, and returns the response (its
    /// body still readable).
    ///
    /// An error holds the [`reqwest::Error`]: `error.downcast_ref::<reqwest::Error>()`
    /// tells a refused connection (`is_connect`) from the rest. A request
    /// that ran past its time limit says which and where it was set, e.g.
    ///
    /// ```text
    /// GET http://127.0.0.1:5001/ timed out after 30s (config.yaml `http_timeout`)
    /// ```
    ///
    /// A request whose future is dropped before it ends (a
    /// `tokio::time::timeout` around it, say) is recorded as cancelled.
    pub async fn send(self) -> anyhow::Result<reqwest::Response> {
        let (client, request) = self.inner.build_split();
        let mut request = request?;
        let limit = if let Some(own) = request.timeout() {
            TimeLimit::of_the_request(*own)
        } else {
            *request.timeout_mut() = Some(self.timeout.limit);
            self.timeout
        };
        let shown = Shown::of(&request);
        let route = Route {
            client,
            direct: self.direct,
        };
        let Some(events) = self.events else {
            return route
                .execute(request)
                .await
                .map_err(|error| shown.error(error, &limit));
        };
        let sending = Sending::start(events, &request);
        let result = receive(route.execute(request).await).await;
        let response = match &result {
            Ok(received) => Ok((
                received.status.as_u16(),
                header_pairs(&received.headers),
                received.body.clone(),
            )),
            Err(error) => Err(error_chain(error)),
        };
        sending.finish(response);
        result
            .map(Received::into_response)
            .map_err(|error| shown.error(error, &limit))
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder").finish_non_exhaustive()
    }
}

/// The client a request goes through, and the direct one when that is the
/// fault proxy.
struct Route {
    client: reqwest::Client,
    direct: Option<reqwest::Client>,
}

impl Route {
    /// Sends `request`; one the fault proxy could not connect upstream (see
    /// [`UNREACHABLE_HEADER`]) is sent again directly: it never reached the
    /// worker, and the step gets the refused connection a worker that is
    /// down gives.
    async fn execute(&self, request: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        let Some(direct) = &self.direct else {
            return self.client.execute(request).await;
        };
        let again = request.try_clone();
        let response = self.client.execute(request).await?;
        match again {
            Some(again) if response.headers().contains_key(UNREACHABLE_HEADER) => {
                direct.execute(again).await
            }
            _ => Ok(response),
        }
    }
}

/// A request as its errors name it: method and URL, without credentials.
struct Shown(String);

impl Shown {
    fn of(request: &reqwest::Request) -> Self {
        let mut url = request.url().clone();
        // Fails only for URLs that cannot hold credentials.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Self(format!("{} {url}", request.method()))
    }

    /// `error` of this request; one that ran past `limit` says so.
    fn error(&self, error: reqwest::Error, limit: &TimeLimit) -> anyhow::Error {
        let timed_out = error.is_timeout() && !error.is_connect();
        let error = anyhow::Error::new(error);
        if timed_out {
            error.context(format!(
                "{} timed out after {:?} ({})",
                self.0, limit.limit, limit.source
            ))
        } else {
            error
        }
    }
}

/// A request on its way: on the event stream when it ends, or as cancelled
/// when its future is dropped first.
struct Sending {
    events: Events,
    /// The exchange so far; `None` once emitted.
    exchange: Option<OwnedExchange>,
    started: Instant,
}

impl Sending {
    /// Says `request` is in flight, from now.
    fn start(events: Events, request: &reqwest::Request) -> Self {
        let method = request.method().to_string();
        let url = request.url().to_string();
        events.emit(&Event::HttpSending {
            method: method.clone(),
            url: url.clone(),
        });
        let exchange = OwnedExchange {
            request_headers: header_pairs(request.headers()),
            request_body: request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            started_ms: 0,
            duration_ms: 0,
            response: Err(String::new()),
            method,
            url,
            origin: None,
        };
        Self {
            events,
            exchange: Some(exchange),
            started: Instant::now(),
        }
    }

    /// Emits the exchange with `response` (or the transport error).
    fn finish(mut self, response: Result<OwnedResponse, String>) {
        self.emit(|_| response);
    }

    fn emit(&mut self, response: impl FnOnce(u64) -> Result<OwnedResponse, String>) {
        let Some(mut exchange) = self.exchange.take() else {
            return;
        };
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        exchange.duration_ms = duration_ms;
        exchange.response = response(duration_ms);
        self.events.emit(&Event::HttpExchanged(Box::new(exchange)));
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        self.emit(|ms| {
            Err(format!(
                "cancelled after {ms} ms (the request's future was dropped)"
            ))
        });
    }
}

/// A response read in full.
struct Received {
    status: reqwest::StatusCode,
    version: reqwest::Version,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

async fn receive(sent: reqwest::Result<reqwest::Response>) -> reqwest::Result<Received> {
    let response = sent?;
    let status = response.status();
    let version = response.version();
    let url = response.url().clone();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok(Received {
        status,
        version,
        url,
        headers,
        body,
    })
}

impl Received {
    fn into_response(self) -> reqwest::Response {
        let mut builder = http::Response::builder()
            .status(self.status)
            .version(self.version)
            .url(self.url);
        if let Some(headers) = builder.headers_mut() {
            *headers = self.headers;
        }
        match builder.body(self.body.clone()) {
            Ok(response) => reqwest::Response::from(response),
            // Status, version and headers came from a valid response.
            Err(_) => reqwest::Response::from(http::Response::new(self.body)),
        }
    }
}

fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::{Http, TimeLimit};
    use crate::events::Event;
    use crate::events::testing::{Collect, id};
    use crate::record::model::{Outcome, RunRecord};
    use crate::record::redact::Redactor;
    use crate::record::shared::SharedRecorder;
    use crate::{Keypair, create_signature};

    /// A run's recording stage on `recorder`, with step `steps::s` of round
    /// 1 running, and an [`Http`] whose exchanges go on its event stream and
    /// whose requests get `timeout`.
    struct Recording {
        recorder: Arc<SharedRecorder>,
        /// What the stage passed on.
        seen: Collect,
        http: Http,
        _data: tempfile::TempDir,
    }

    impl Recording {
        fn new(recorder: SharedRecorder, timeout: TimeLimit) -> Self {
            let recorder = Arc::new(recorder);
            let data = tempfile::tempdir().unwrap();
            let (events, seen) = crate::harness::recording_for_tests(recorder.clone(), data.path());
            events.emit(&Event::RoundStarted { round: 1 });
            events.emit(&Event::StepStarted(id("steps::s", 1)));
            let http = Http::new(
                crate::http_client::default_client(false).unwrap(),
                Some(events.clone()),
                timeout,
            );
            Self {
                recorder,
                seen,
                http,
                _data: data,
            }
        }

        /// Ends the step and the run: the record.
        fn finish(&self) -> RunRecord {
            self.recorder
                .with(|r| r.finish_step(Outcome::Passed { attempts: 1 }, 5));
            self.recorder.take().unwrap()
        }

        /// The in-flight lines the stage passed on, in order.
        fn in_flight(&self) -> Vec<Option<String>> {
            self.seen
                .0
                .lock()
                .unwrap()
                .iter()
                .filter_map(|event| match event {
                    Event::InFlight(line) => Some(line.clone()),
                    _ => None,
                })
                .collect()
        }

        /// Whether any raw HTTP event got past the stage.
        fn raw_events_passed_on(&self) -> bool {
            self.seen
                .0
                .lock()
                .unwrap()
                .iter()
                .any(|event| matches!(event, Event::HttpSending { .. } | Event::HttpExchanged(_)))
        }
    }

    /// A server on 127.0.0.1 that answers every POST with the body it got.
    async fn echo_server() -> String {
        let app = axum::Router::new().route(
            "/echo",
            axum::routing::post(|headers: axum::http::HeaderMap, body: String| async move {
                let token = headers
                    .get("x-token")
                    .map(|v| v.to_str().unwrap_or_default().to_owned())
                    .unwrap_or_default();
                (
                    axum::http::StatusCode::CREATED,
                    [
                        ("content-type", "application/json"),
                        ("x-seen-token", "yes"),
                    ],
                    format!("{{\"got\":{body},\"token\":\"{token}\"}}"),
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn a_request_is_sent_as_built_recorded_and_its_response_stays_readable() {
        let worker1 = Keypair::from_seed([4; 32]);
        let mut redactor = Redactor::new();
        redactor.secret("token", "tok-0123456789");
        let run = Recording::new(
            SharedRecorder::new(
                "unit",
                &[("worker1".into(), Some(worker1.public_key().into()))],
                redactor,
            ),
            TimeLimit::by_default(),
        );
        let http = &run.http;
        let url = echo_server().await;
        let signature = create_signature(worker1.signing_key(), &json!({"round": 1})).unwrap();
        let sent = json!({"signature": signature});
        let response = http
            .post(format!("{url}/echo"))
            .header("x-token", "tok-0123456789")
            .json(&sent)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.url().as_str(), format!("{url}/echo"));
        assert_eq!(response.headers()["x-seen-token"], "yes");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"got": sent, "token": "tok-0123456789"}),
            "the server got exactly what the step built, and the step reads the whole reply"
        );
        let refused = http
            .get("http://127.0.0.1:1/?token=tok-0123456789")
            .send()
            .await;
        assert!(refused.is_err());
        assert_eq!(
            run.in_flight(),
            [
                Some(format!("POST {url}/echo")),
                None,
                Some("GET http://127.0.0.1:1/?token=[redacted: token]".to_owned()),
                None
            ],
            "the live line learns each request redacted, and its end"
        );
        assert!(
            !run.raw_events_passed_on(),
            "no writer after the stage sees a raw exchange"
        );
        let record = run.finish();
        let step = &record.rounds[0].steps[0];
        assert_eq!(step.exchanges.len(), 2);
        let exchange = &step.exchanges[0];
        assert_eq!(
            (exchange.method.as_str(), exchange.status),
            ("POST", Some(201))
        );
        assert!(
            exchange
                .request
                .headers
                .contains(&("x-token".into(), "[redacted: token]".into()))
        );
        let response_text = exchange.response.as_ref().unwrap().body.text().unwrap();
        assert!(
            response_text.ends_with(r#""token":"[redacted: token]"}"#),
            "{response_text}"
        );
        let signers: Vec<_> = exchange
            .signatures
            .iter()
            .map(|s| {
                (
                    s.location.as_str(),
                    s.signer.as_ref().and_then(|s| s.worker.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            signers,
            [
                ("request/signature", Some("worker1")),
                ("response/got/signature", Some("worker1"))
            ]
        );
        let failed = &step.exchanges[1];
        assert_eq!(failed.status, None);
        assert!(
            failed
                .error
                .as_deref()
                .unwrap()
                .contains("error sending request"),
            "{failed:?}"
        );
    }

    /// A server on 127.0.0.1 that accepts connections and never answers, as a
    /// paused worker's kernel does.
    async fn silent_server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slow", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((connection, _)) = listener.accept().await {
                held.push(connection);
            }
        });
        url
    }

    /// [`Recording`] with no secrets, whose requests get `timeout`
    /// (config.yaml `http_timeout`).
    fn recording(timeout: std::time::Duration) -> Recording {
        let limit = TimeLimit {
            limit: timeout,
            source: "config.yaml `http_timeout`".into(),
        };
        Recording::new(SharedRecorder::new("unit", &[], Redactor::new()), limit)
    }

    #[tokio::test]
    async fn a_request_that_gets_no_answer_fails_after_http_timeout_or_its_own() {
        let url = silent_server().await;
        let run = recording(std::time::Duration::from_millis(300));
        let by_default = run.http.get(&url).send().await.unwrap_err();
        let own = run
            .http
            .post(&url)
            .timeout(std::time::Duration::from_millis(100))
            .send()
            .await
            .unwrap_err();
        let unrecorded = Http::new(
            crate::http_client::default_client(false).unwrap(),
            None,
            TimeLimit::by_default(),
        )
        .get(&url)
        .timeout(std::time::Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
        assert_eq!(
            [by_default, own, unrecorded].map(|error| format!("{error:#}")),
            [
                format!(
                    "GET {url} timed out after 300ms (config.yaml `http_timeout`): error sending \
                     request for url ({url}): operation timed out"
                ),
                format!(
                    "POST {url} timed out after 100ms (the request's `.timeout(…)`): error \
                     sending request for url ({url}): operation timed out"
                ),
                format!(
                    "GET {url} timed out after 100ms (the request's `.timeout(…)`): error \
                     sending request for url ({url}): operation timed out"
                ),
            ]
        );
        let record = run.finish();
        let errors: Vec<_> = record.rounds[0].steps[0]
            .exchanges
            .iter()
            .map(|e| (e.method.as_str(), e.error.clone()))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    "GET",
                    Some("error sending request for url (URL): operation timed out".to_owned())
                ),
                (
                    "POST",
                    Some("error sending request for url (URL): operation timed out".to_owned())
                ),
            ]
            .map(|(method, error)| (method, error.map(|e| e.replace("URL", &url)))),
            "the recorder keeps reqwest's words"
        );
    }

    #[tokio::test]
    async fn a_request_whose_future_is_dropped_is_recorded_as_cancelled() {
        let url = silent_server().await;
        let run = recording(std::time::Duration::from_secs(30));
        let sent = run
            .http
            .post(&url)
            .header("x-round", "1")
            .body("{\"round\":1}");
        let waited = tokio::time::timeout(std::time::Duration::from_millis(200), sent.send()).await;
        assert!(waited.is_err(), "the server never answers");
        let in_flight = run.in_flight().last().cloned().flatten();
        let record = run.finish();
        let [exchange] = record.rounds[0].steps[0].exchanges.as_slice() else {
            panic!("one exchange: {:?}", record.rounds[0].steps[0].exchanges);
        };
        let ms = exchange.duration_ms;
        assert!(ms >= 200, "{ms} ms");
        assert_eq!(
            (
                exchange.method.as_str(),
                exchange.url.as_str(),
                exchange.status,
                exchange.request.headers.clone(),
                exchange.request.body.text(),
                exchange.response.is_none(),
                exchange.error.clone(),
            ),
            (
                "POST",
                url.as_str(),
                None,
                vec![("x-round".to_owned(), "1".to_owned())],
                Some("{\"round\":1}"),
                true,
                Some(format!(
                    "cancelled after {ms} ms (the request's future was dropped)"
                )),
            )
        );
        assert_eq!(in_flight, None, "the live line no longer shows it");
    }

    #[tokio::test]
    async fn the_raw_client_is_not_recorded() {
        let run = recording(std::time::Duration::from_secs(30));
        let url = echo_server().await;
        run.http
            .client()
            .post(format!("{url}/echo"))
            .body("1")
            .send()
            .await
            .unwrap();
        assert!(run.in_flight().is_empty());
        let record = run.finish();
        assert!(record.rounds[0].steps[0].exchanges.is_empty());
    }
}

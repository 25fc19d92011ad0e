//! The recording HTTP handle steps get from [`Runner::http`](crate::Runner::http).
//!
//! Every request sent through it is recorded against the step (and round)
//! that made it: method, URL, status, duration, headers and bodies, with Koii
//! signatures decoded. Secrets are redacted before anything is stored. The
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

use crate::record::recorder::OwnedExchange;
use crate::record::shared::SharedRecorder;

/// An HTTP client that records what it sends and receives.
///
/// Built on the runner's [`reqwest::Client`]; the request builder offers the
/// usual `header`, `json`, `body`, `bearer_auth`, `timeout` … and its
/// [`send`](RequestBuilder::send) returns a [`reqwest::Response`].
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
    recorder: Option<Arc<SharedRecorder>>,
}

impl Http {
    pub(crate) fn new(client: reqwest::Client, recorder: Option<Arc<SharedRecorder>>) -> Self {
        Self { client, recorder }
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
            recorder: self.recorder.clone(),
        }
    }

    /// The underlying client. Requests sent with it are **not recorded**
    /// (use it for streaming bodies the transcript should not buffer).
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("recording", &self.recorder.is_some())
            .finish_non_exhaustive()
    }
}

/// A request being built; [`send`](Self::send) sends and records it.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    inner: reqwest::RequestBuilder,
    recorder: Option<Arc<SharedRecorder>>,
}

impl RequestBuilder {
    fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        Self {
            inner: f(self.inner),
            recorder: self.recorder,
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

    /// Fails the request when it takes longer than `timeout` (body included).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|b| b.timeout(timeout))
    }

    /// Sends the request and reads the whole response body, records the
    /// exchange against the running step, and returns the response (its
    /// body still readable).
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let Some(recorder) = self.recorder else {
            return self.inner.send().await;
        };
        let (client, request) = self.inner.build_split();
        let request = request?;
        let method = request.method().to_string();
        let url = request.url().to_string();
        let request_headers = header_pairs(request.headers());
        let request_body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        recorder.set_in_flight(&method, Some(&url));
        let started_ms = recorder.now_ms();
        let started = Instant::now();
        let result = receive(client.execute(request).await).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        recorder.set_in_flight(&method, None);
        let (response, received) = match result {
            Ok(received) => (
                Ok((
                    received.status.as_u16(),
                    header_pairs(&received.headers),
                    received.body.clone(),
                )),
                Ok(received),
            ),
            Err(error) => (Err(error_chain(&error)), Err(error)),
        };
        recorder.with(|r| {
            r.defer_exchange(OwnedExchange {
                method,
                url,
                started_ms,
                duration_ms,
                request_headers,
                request_body,
                response,
            });
        });
        received.map(Received::into_response)
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder").finish_non_exhaustive()
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

/// An [`Http`] on `client` recording into a run of its own, with a step of
/// `worker1` running in round 1: its redactor searches for the `workers`'
/// keypairs and the `secrets` (label, value), and signatures are attributed to
/// the workers. The `http_recording` bench's recording client; not public API.
#[must_use]
pub fn recording_in_a_step(
    client: reqwest::Client,
    workers: &[(&str, &crate::Keypair)],
    secrets: &[(&str, &str)],
) -> Http {
    let mut redactor = crate::record::redact::Redactor::new();
    for (name, keypair) in workers {
        redactor.keypair(&format!("{name} staking keypair"), keypair);
    }
    for (label, value) in secrets {
        redactor.secret(label, value);
    }
    let keys: Vec<(String, Option<String>)> = workers
        .iter()
        .map(|(name, keypair)| ((*name).to_owned(), Some(keypair.public_key().to_owned())))
        .collect();
    let recorder = Arc::new(SharedRecorder::new("bench", &keys, redactor));
    recorder.with(|r| {
        r.begin_round(1);
        r.begin_step("steps::bench", "worker1", 0);
    });
    Http::new(client, Some(recorder))
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

    use super::Http;
    use crate::record::model::Outcome;
    use crate::record::redact::Redactor;
    use crate::record::shared::SharedRecorder;
    use crate::{Keypair, create_signature};

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
        let recorder = Arc::new(SharedRecorder::new(
            "unit",
            &[("worker1".into(), Some(worker1.public_key().into()))],
            redactor,
        ));
        let http = Http::new(
            crate::http_client::default_client(false).unwrap(),
            Some(recorder.clone()),
        );
        let url = echo_server().await;
        recorder.with(|r| {
            r.begin_round(1);
            r.begin_step("steps::submit", "worker1", 0);
        });
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
        let refused = http.get("http://127.0.0.1:1/").send().await;
        assert!(refused.is_err());
        recorder.with(|r| r.finish_step(Outcome::Passed, 5));
        let record = recorder.take().unwrap();
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

    #[tokio::test]
    async fn the_raw_client_is_not_recorded() {
        let recorder = Arc::new(SharedRecorder::new("unit", &[], Redactor::new()));
        let http = Http::new(
            crate::http_client::default_client(false).unwrap(),
            Some(recorder.clone()),
        );
        let url = echo_server().await;
        recorder.with(|r| {
            r.begin_round(1);
            r.begin_step("steps::s", "worker1", 0);
        });
        http.client()
            .post(format!("{url}/echo"))
            .body("1")
            .send()
            .await
            .unwrap();
        let record = recorder.take().unwrap();
        assert!(record.rounds[0].steps[0].exchanges.is_empty());
    }
}

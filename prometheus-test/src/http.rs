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

use crate::record::recorder::{RawExchange, RawMessage};
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
        let started_ms = recorder.now_ms();
        let started = Instant::now();
        let result = receive(client.execute(request).await).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let request = RawMessage {
            headers: &request_headers,
            body: &request_body,
        };
        match result {
            Ok(received) => {
                let headers = header_pairs(&received.headers);
                recorder.with(|r| {
                    r.exchange(&RawExchange {
                        method: &method,
                        url: &url,
                        started_ms,
                        duration_ms,
                        request,
                        response: Ok((
                            received.status.as_u16(),
                            RawMessage {
                                headers: &headers,
                                body: &received.body,
                            },
                        )),
                    });
                });
                Ok(received.into_response())
            }
            Err(error) => {
                let text = error_chain(&error);
                recorder.with(|r| {
                    r.exchange(&RawExchange {
                        method: &method,
                        url: &url,
                        started_ms,
                        duration_ms,
                        request,
                        response: Err(&text),
                    });
                });
                Err(error)
            }
        }
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

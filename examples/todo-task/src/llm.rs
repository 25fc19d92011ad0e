//! The LLM a worker asks for a one-line summary of the todo it claimed
//! (`LLM_URL`): an Anthropic-style Messages API, asked to stream its answer.
//!
//! The client honours `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (reqwest's
//! default), so a recording proxy in front of the worker sees every call.

mod sse;

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::json;

use crate::config::LlmSettings;
use crate::tls;
use sse::StreamedText;

/// The model asked for; the service may ignore it.
const MODEL: &str = "todo-summarizer";
/// The Messages API version this client speaks.
const API_VERSION: &str = "2023-06-01";
/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole call may take, the stream included.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an error answer's body a message shows.
const BODY_EXCERPT: usize = 300;

/// The prompt for a todo's summary.
pub(crate) fn prompt(title: &str, description: &str) -> String {
    format!("Summarise this todo in one line: {title}: {description}")
}

/// A client of the LLM at one URL.
#[derive(Debug)]
pub(crate) struct Llm {
    url: String,
    /// Sent as `x-api-key`; never printed.
    api_key: Option<String>,
    client: reqwest::Client,
}

impl Llm {
    /// A client for `settings`, trusting the usual roots and the
    /// certificates of `SSL_CERT_FILE`.
    pub(crate) fn new(settings: &LlmSettings) -> anyhow::Result<Self> {
        Self::with_builder(settings, reqwest::Client::builder())
    }

    /// A client for `settings` built from `builder` (tests resolve the
    /// service's name with it).
    fn with_builder(
        settings: &LlmSettings,
        mut builder: reqwest::ClientBuilder,
    ) -> anyhow::Result<Self> {
        tls::install_crypto_provider();
        // On Linux the platform verifier reads `SSL_CERT_FILE` as OpenSSL
        // does; on macOS and Windows a Rust client does not read it by itself.
        // Its certificates are added as roots, besides the usual ones, so a
        // recording proxy's CA is trusted everywhere.
        if let Some(file) = &settings.cert_file {
            builder = builder.tls_certs_merge(tls::roots_of(file)?);
        }
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build()
            .context("cannot build the LLM's HTTP client")?;
        Ok(Self {
            url: settings.url.clone(),
            api_key: settings.api_key.clone(),
            client,
        })
    }

    /// The URL the client calls, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A one-line summary of the todo: the streamed answer's text, read as
    /// it arrives.
    pub(crate) async fn summarise(&self, title: &str, description: &str) -> anyhow::Result<String> {
        let body = json!({
            "model": MODEL,
            "max_tokens": 100,
            "stream": true,
            "messages": [{"role": "user", "content": prompt(title, description)}],
        });
        let mut request = self
            .client
            .post(&self.url)
            .header("anthropic-version", API_VERSION)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", key);
        }
        let mut response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("it answered {status}: {}", excerpt(text.trim()));
        }
        let mut text = StreamedText::default();
        while let Some(chunk) = response.chunk().await? {
            text.push(&chunk)?;
        }
        let text = text.finish()?;
        let summary = text.trim();
        if summary.is_empty() {
            bail!("it answered {status} with no text (expected `text_delta` events)");
        }
        Ok(summary.to_owned())
    }
}

/// The start of `text`, cut at a character boundary.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;

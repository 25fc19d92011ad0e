//! The task's middle server (`MIDDLE_SERVER_URL`), told of each submission
//! the worker answers, as a Prometheus task's worker tells its middle server.

use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::tls;
use crate::todos::Submission;

/// How long a call to the middle server may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the middle server.
#[derive(Debug)]
pub(crate) struct Middle {
    url: String,
    client: reqwest::Client,
}

impl Middle {
    /// A client of the middle server at `url` (honouring `HTTP_PROXY` and
    /// `NO_PROXY`, as the worker's other client does).
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .context("cannot build the middle server's HTTP client")?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    /// The middle server's URL, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Records `submission` with the middle server (a repeated one replaces
    /// the worker's submission of the round there).
    pub(crate) async fn submit(&self, submission: &Submission) -> anyhow::Result<()> {
        let response = self
            .client
            .post(format!("{}/submissions", self.url))
            .json(submission)
            .send()
            .await
            .context("no answer")?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("it answered {status}: {body}");
        }
        Ok(())
    }
}

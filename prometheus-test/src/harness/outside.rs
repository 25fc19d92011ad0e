//! The workers' calls to the outside world (config.yaml `recording`): the
//! proxy the run starts for them, with the recording deciding what each
//! call gets; the variables that send each worker's calls through it; the
//! step each call belongs to; and each exchange, as it ends, on the run's
//! event stream (the recording stage redacts it into the reports).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures_util::future::BoxFuture;

use super::wording::counted;
use crate::Runner;
use crate::config::{PROXY_DIR, RecordingSettings};
use crate::events::{Event, Events, StepId};
use crate::http_client::ExtraRoots;
use crate::proxy::{self, Ca, CaFile, Completed, Handler, Outbound, Proxy, Reply};
use crate::record::model::{Handling, Origin};
use crate::record::recorder::OwnedExchange;
use crate::record::secrets::SecretLists;
use crate::recording::{Options, Recording, StepKey, StepTape};

/// The recording proxy of a run.
pub(super) struct Outside {
    proxy: Proxy,
    recording: Arc<Recording>,
    /// Each worker's variables: its listener, the CA bundle.
    env: BTreeMap<String, Vec<(String, String)>>,
    settings: RecordingSettings,
    /// What the recording did so far, for the run's last note.
    tally: Mutex<Tally>,
}

/// The workers' calls of a run by how they were answered, and the
/// cassettes they came from or went to.
#[derive(Debug, Default)]
struct Tally {
    calls: BTreeMap<&'static str, usize>,
    cassettes: BTreeSet<PathBuf>,
}

impl Tally {
    fn add(&mut self, tape: &StepTape) {
        for exchange in &tape.exchanges {
            *self.calls.entry(exchange.handling.name()).or_default() += 1;
        }
        if !tape.exchanges.is_empty() {
            self.cassettes.insert(tape.cassette.clone());
        }
    }

    /// `recording (replay): 12 calls of the workers, 11 replayed and 1 not
    /// on tape, from 4 cassettes in tests/cassettes`.
    fn note(&self, settings: &RecordingSettings) -> String {
        let total: usize = self.calls.values().sum();
        let mut line = format!(
            "recording ({}): {}",
            settings.mode.name(),
            counted(total, "call")
        );
        if total > 0 {
            let parts: Vec<String> = self
                .calls
                .iter()
                .map(|(handling, n)| format!("{n} {handling}"))
                .collect();
            let _ = write!(
                line,
                " of the workers ({}), {} in {}",
                parts.join(", "),
                counted(self.cassettes.len(), "cassette"),
                settings.cassettes.display()
            );
        }
        line
    }
}

impl Outside {
    /// Starts the proxy when config.yaml's `recording` asks for it, with a
    /// listener for each worker the run starts.
    pub(super) async fn start(runner: &Runner, events: &Events) -> anyhow::Result<Option<Self>> {
        let settings = &runner.config().recording;
        if !settings.enabled() {
            return Ok(None);
        }
        let ca = Ca::load_or_create(&runner.data_dir().join(PROXY_DIR))?;
        let extra: Vec<CaFile> = runner
            .env()
            .get("SSL_CERT_FILE")
            .map(|path| CaFile {
                named_by: "SSL_CERT_FILE".to_owned(),
                path: path.into(),
            })
            .into_iter()
            .collect();
        let bundle = proxy::write_bundle(&ca, &extra)?;
        let upstreams = settings.upstreams.iter().cloned().collect();
        let roots = ExtraRoots::for_run(runner.config(), runner.env())?;
        let upstream = proxy::upstream_client(&upstreams, roots, &[])?;
        let recording = Recording::new(
            settings.mode,
            settings.cassettes.clone(),
            options(runner, settings),
        )
        .context("cannot open the cassettes")?;
        let handler = Arc::new(OnTheStream {
            recording: recording.clone(),
            events: events.clone(),
        });
        let proxy = Proxy::start(handler, ca, upstream);
        let mut env = BTreeMap::new();
        for worker in runner.workers() {
            let listener = proxy.listen_for(worker.name()).await?;
            env.insert(
                worker.name().to_owned(),
                proxy::client_env(listener, &bundle),
            );
        }
        Ok(Some(Self {
            proxy,
            recording,
            env,
            settings: settings.clone(),
            tally: Mutex::default(),
        }))
    }

    /// The variables that send `worker`'s calls through the proxy.
    pub(super) fn env_of(&self, worker: &str) -> &[(String, String)] {
        self.env.get(worker).map_or(&[], Vec::as_slice)
    }

    /// From now on the workers' calls belong to `step`.
    pub(super) fn begin_step(&self, step: &StepId) -> anyhow::Result<()> {
        self.recording
            .begin_step(StepKey {
                round: step.round,
                name: step.name.clone(),
            })
            .map_err(anyhow::Error::new)
    }

    /// Ends the step: its failure when the recording fails it (a call not
    /// on tape, a cassette that cannot be written).
    pub(super) async fn end_step(&self) -> Option<String> {
        let tape = self.recording.end_step().await?;
        self.tally().add(&tape);
        tape.failure()
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops the proxy of `outside`, if any, and writes the cassette of the
    /// calls outside steps; the failure of those calls (not on tape) or of
    /// that cassette, which fails the run.
    pub(super) async fn stop(outside: Option<Self>, events: &Events) -> Option<String> {
        let outside = outside?;
        outside.proxy.shutdown().await;
        let tape = outside.recording.take_outside();
        let mut tally = outside.tally();
        tally.add(&tape);
        events.note(tally.note(&outside.settings));
        let failure = tape.failure()?;
        Some(format!("the workers' calls outside steps: {failure}"))
    }

    /// Stops the proxy of `outside`, if any, on a run that did not start:
    /// what it taped is of no use.
    pub(super) async fn stop_quietly(outside: Option<Self>) {
        if let Some(outside) = outside {
            outside.proxy.shutdown().await;
        }
    }
}

/// The recording's options from config.yaml and the run's secrets.
fn options(runner: &Runner, settings: &RecordingSettings) -> Options {
    let recorder = runner.recorder().clone();
    Options {
        match_headers: settings.match_headers.clone(),
        ignore_headers: settings.ignore_headers.clone(),
        ignore_body: settings.ignore_body.clone(),
        secret_headers: SecretLists::from_extra(&runner.config().file, &runner.config().extra)
            .map(|lists| lists.secret_headers)
            .unwrap_or_default(),
        pace: settings.pace,
        // Once the reports are written nothing redacts: the text as it is.
        redact: Arc::new(move |text: &str| recorder.redact_or(text, text)),
        ..Options::default()
    }
}

/// The recording, with each exchange it hears of put on the event stream.
struct OnTheStream {
    recording: Arc<Recording>,
    events: Events,
}

impl Handler for OnTheStream {
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply> {
        self.recording.decide(request)
    }

    fn completed(&self, exchange: Completed) {
        // A call the recording never decided (its client left first) was
        // answered by nobody: reported as forwarded, as it was meant to be.
        let origin = self.recording.finish(&exchange).unwrap_or_else(|| Origin {
            worker: exchange.request.client.clone(),
            handling: Handling::Forwarded,
            entry: None,
        });
        self.events
            .emit(&Event::HttpExchanged(Box::new(owned(exchange, origin))));
    }
}

/// `exchange`, made by `origin`, as the recording stage takes it.
fn owned(exchange: Completed, origin: Origin) -> OwnedExchange {
    let Completed {
        request,
        response,
        error,
        duration,
        ..
    } = exchange;
    let duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let response = match (response, error) {
        (Some(seen), _) => Ok((
            seen.status,
            seen.headers,
            seen.body
                .iter()
                .flat_map(|chunk| chunk.bytes.iter().copied())
                .collect::<Vec<u8>>()
                .into(),
        )),
        (None, error) => Err(error.unwrap_or_else(|| "no response".to_owned())),
    };
    OwnedExchange {
        method: request.method,
        url: request.url,
        started_ms: 0,
        duration_ms,
        request_headers: request.headers,
        request_body: request.body.to_vec(),
        response,
        origin: Some(origin),
    }
}

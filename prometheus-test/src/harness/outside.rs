//! The proxy between the workers and the outside world, and between the
//! runner and the workers: started when config.yaml's `recording` asks for
//! it or its `faults` section is there. The recording decides what each
//! worker's outside call gets (each exchange, as it ends, goes on the run's
//! event stream; the recording stage redacts it into the reports); the
//! fault layer, in front, decides which requests meet a fault. The
//! variables that send each worker's calls through it, the listener the
//! runner's own calls go through, and the step each call belongs to are
//! kept here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures_util::future::BoxFuture;

use super::passthrough::{Forward, LocalApart};
use super::wording::counted;
use crate::Runner;
use crate::config::{PROXY_DIR, RecordingSettings};
use crate::events::{Event, Events, StepId};
use crate::faults::history::History;
use crate::faults::layer::{FaultLayer, Plan};
use crate::faults::link::{Known, RUNNER};
use crate::faults::schedule::{ChurnFault, Schedule};
use crate::faults::scripted::Scripted;
use crate::faults::seed::Seed;
use crate::http_client::ExtraRoots;
use crate::keeper::Link;
use crate::proxy::{self, Ca, CaFile, Completed, Handler, Loopback, Outbound, Proxy, Reply};
use crate::record::model::{Handling, Origin};
use crate::record::recorder::OwnedExchange;
use crate::recording::{Options, Recording, StepKey, StepTape};

/// The proxy of a run.
pub(super) struct Outside {
    proxy: Proxy,
    /// The recording, when config.yaml's `recording` is on.
    taping: Option<Taping>,
    /// The fault layer, when config.yaml has `faults`.
    faults: Option<Faulting>,
    /// Each worker's variables: its listener, the CA bundle.
    env: BTreeMap<String, Vec<(String, String)>>,
}

/// The recording of the workers' outside calls.
struct Taping {
    recording: Arc<Recording>,
    settings: RecordingSettings,
    /// What the recording did so far, for the run's last note.
    tally: Mutex<Tally>,
}

/// The faults of the run.
struct Faulting {
    layer: Arc<FaultLayer>,
    history: Arc<History>,
    /// The listener the runner's calls to the workers go through.
    runner: SocketAddr,
    /// The workers a step's churn is drawn for.
    workers: Vec<String>,
}

/// What the run's faults are drawn from, when config.yaml has `faults`.
pub(super) struct FaultRun {
    pub(super) seed: Seed,
    /// A fresh run starts `faults.jsonl` anew, a resumed one continues it.
    pub(super) fresh: bool,
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
    /// Starts the proxy when config.yaml's `recording` asks for it or
    /// `faults` (with `faults`) is given, with a listener for each worker
    /// the run starts and, with faults, one for the runner.
    pub(super) async fn start(
        runner: &Runner,
        events: &Events,
        faults: Option<FaultRun>,
        keeper: Option<&Link>,
    ) -> anyhow::Result<Option<Self>> {
        let settings = &runner.config().recording;
        let schedule = runner.config().faults.as_ref();
        if !settings.enabled() && schedule.is_none() {
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
        let taping = if settings.enabled() {
            let recording = Recording::new(
                settings.mode,
                settings.cassettes.clone(),
                options(runner, settings),
            )
            .context("cannot open the cassettes")?;
            Some(Taping {
                recording,
                settings: settings.clone(),
                tally: Mutex::default(),
            })
        } else {
            None
        };
        let workers_handler: Arc<dyn Handler> = match &taping {
            Some(taping) => Arc::new(OnTheStream {
                recording: taping.recording.clone(),
                events: events.clone(),
            }),
            None => Arc::new(Forward),
        };
        let (handler, layer) = match (schedule, faults) {
            (Some(schedule), Some(run)) => {
                let (layer, history) =
                    fault_layer(runner, schedule, &run, workers_handler, events)?;
                (
                    Arc::clone(&layer) as Arc<dyn Handler>,
                    Some((layer, history)),
                )
            }
            _ => (workers_handler, None),
        };
        let proxy = Proxy::start(handler, ca, upstream);
        // With faults, the workers' calls to each other and to local
        // services go through their listeners too, on links faults reach.
        let loopback = if layer.is_some() {
            Loopback::Routed
        } else {
            Loopback::Direct
        };
        let mut env = BTreeMap::new();
        let mut ports = BTreeMap::new();
        for worker in runner.workers() {
            let kept_port = keeper.and_then(|keeper| keeper.proxy_port(worker.name()));
            let listener = proxy.listen_for_at(worker.name(), kept_port).await?;
            ports.insert(worker.name().to_owned(), listener.port());
            env.insert(
                worker.name().to_owned(),
                proxy::client_env(listener, &bundle, loopback),
            );
        }
        let faults = match layer {
            Some((layer, history)) => Some(Faulting {
                layer,
                history,
                runner: proxy.listen_for(RUNNER).await?,
                workers: runner
                    .workers()
                    .iter()
                    .map(|w| w.name().to_owned())
                    .collect(),
            }),
            None => None,
        };
        let outside = Self {
            proxy,
            taping,
            faults,
            env,
        };
        if let Some(keeper) = keeper {
            keeper.remember_proxy_ports(ports)?;
        }
        Ok(Some(outside))
    }

    /// The variables that send `worker`'s calls through the proxy.
    pub(super) fn env_of(&self, worker: &str) -> &[(String, String)] {
        self.env.get(worker).map_or(&[], Vec::as_slice)
    }

    /// The listener the runner's calls go through, when the run has faults.
    pub(super) fn runner_listener(&self) -> Option<SocketAddr> {
        self.faults.as_ref().map(|faults| faults.runner)
    }

    /// The faults steps script, when the run has faults.
    pub(super) fn scripted(&self) -> Option<Arc<Scripted>> {
        self.faults.as_ref().map(|faults| faults.layer.scripted())
    }

    /// From now on the workers' calls belong to `step`.
    pub(super) fn begin_step(&self, step: &StepId) -> anyhow::Result<()> {
        let Some(taping) = &self.taping else {
            return Ok(());
        };
        taping
            .recording
            .begin_step(StepKey {
                round: step.round,
                name: step.name.clone(),
            })
            .map_err(anyhow::Error::new)
    }

    /// Before attempt `attempt` (from 1) of `step`: its requests are
    /// counted from 0; returns the churn the schedule draws for each worker.
    pub(super) fn begin_attempt(&self, step: &StepId, attempt: u32) -> Vec<(String, ChurnFault)> {
        let Some(faults) = &self.faults else {
            return Vec::new();
        };
        faults
            .layer
            .begin_step(step.round, &step.name, attempt.saturating_sub(1));
        faults
            .workers
            .iter()
            .filter_map(|worker| Some((worker.clone(), faults.layer.churn_for(worker)?)))
            .collect()
    }

    /// After an attempt: the faults it scripted are healed.
    pub(super) fn end_attempt(&self) {
        if let Some(faults) = &self.faults {
            faults.layer.end_step();
        }
    }

    /// Ends the step: its failure when the recording fails it (a call not
    /// on tape, a cassette that cannot be written).
    pub(super) async fn end_step(&self) -> Option<String> {
        let taping = self.taping.as_ref()?;
        let tape = taping.recording.end_step().await?;
        taping.tally().add(&tape);
        tape.failure()
    }

    /// Stops the proxy of `outside`, if any, and writes the cassette of the
    /// calls outside steps; the failure of those calls (not on tape) or of
    /// that cassette, or of the fault history, which fails the run.
    pub(super) async fn stop(outside: Option<Self>, events: &Events) -> Option<String> {
        let outside = outside?;
        outside.proxy.shutdown().await;
        let history = outside
            .faults
            .as_ref()
            .and_then(|faults| faults.history.write_error())
            .map(|error| format!("the fault history is incomplete: {error}"));
        let Some(taping) = &outside.taping else {
            return history;
        };
        let tape = taping.recording.take_outside();
        let mut tally = taping.tally();
        tally.add(&tape);
        events.note(tally.note(&taping.settings));
        match tape.failure() {
            Some(failure) => Some(format!("the workers' calls outside steps: {failure}")),
            None => history,
        }
    }

    /// Stops the proxy of `outside`, if any, on a run that did not start:
    /// what it taped is of no use.
    pub(super) async fn stop_quietly(outside: Option<Self>) {
        if let Some(outside) = outside {
            outside.proxy.shutdown().await;
        }
    }
}

impl Taping {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The fault layer of `run` in front of `workers` (the runner's calls kept
/// from the recording), with its history, whose entries go on `events` too.
fn fault_layer(
    runner: &Runner,
    schedule: &Schedule,
    run: &FaultRun,
    workers: Arc<dyn Handler>,
    events: &Events,
) -> anyhow::Result<(Arc<FaultLayer>, Arc<History>)> {
    let names: Vec<&str> = runner.workers().iter().map(crate::Worker::name).collect();
    let services: Vec<&str> = runner
        .config()
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let peers = runner
        .workers()
        .iter()
        .map(|worker| (worker.url(), worker.name()))
        .chain(
            runner
                .config()
                .services
                .iter()
                .map(|service| (service.url.as_str(), service.name.as_str())),
        )
        .flat_map(|(url, name)| {
            spellings(url)
                .into_iter()
                .map(move |address| (address, name.to_owned()))
        })
        .collect();
    let plan = Plan {
        seed: run.seed,
        schedule: schedule.clone(),
        known: Known::new(&names, &services),
        peers,
    };
    let data_dir = runner.data_dir();
    let history = if run.fresh {
        History::fresh(data_dir)
    } else {
        History::append(data_dir)
    };
    let history = Arc::new(
        history
            .with_context(|| format!("cannot open the fault history in {}", data_dir.display()))?
            .emitting(events.clone())
            .redacting(redact_with(runner)),
    );
    let inner = Arc::new(LocalApart { outside: workers });
    let layer = FaultLayer::new(plan, inner, Arc::clone(&history));
    Ok((Arc::new(layer), history))
}

/// `host[:port]` of a worker's URL as requests to it may name it: a
/// loopback one under each of its names (a peer may call `127.0.0.1:5002`
/// the worker whose URL says `localhost:5002`).
fn spellings(url: &str) -> Vec<String> {
    let Ok(url) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let port = url
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let loopback = ["localhost", "127.0.0.1", "[::1]"];
    if loopback.contains(&host) {
        loopback
            .iter()
            .map(|name| format!("{name}{port}"))
            .collect()
    } else {
        vec![format!("{host}{port}")]
    }
}

/// The recording's options from config.yaml and the run's secrets.
fn options(runner: &Runner, settings: &RecordingSettings) -> Options {
    let recorder = runner.recorder().clone();
    Options {
        match_headers: settings.match_headers.clone(),
        ignore_headers: settings.ignore_headers.clone(),
        ignore_body: settings.ignore_body.clone(),
        secret_headers: recorder
            .with(|r| r.redactor().secret_headers())
            .unwrap_or_default(),
        pace: settings.pace,
        redact: redact_with(runner),
        ..Options::default()
    }
}

/// Redaction with the run's secrets, those steps add included. Once the
/// reports are written nothing redacts: the text as it is.
fn redact_with(runner: &Runner) -> Arc<dyn Fn(&str) -> String + Send + Sync> {
    let recorder = runner.recorder().clone();
    Arc::new(move |text: &str| recorder.redact_or(text, text))
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

#[cfg(test)]
mod tests {
    use super::spellings;

    #[test]
    fn a_workers_address_is_named_as_requests_to_it_may_name_it() {
        assert_eq!(
            spellings("http://localhost:5002"),
            ["localhost:5002", "127.0.0.1:5002", "[::1]:5002"]
        );
        assert_eq!(
            spellings("http://127.0.0.1:5002/"),
            ["localhost:5002", "127.0.0.1:5002", "[::1]:5002"]
        );
        assert_eq!(spellings("http://Worker.local/api"), ["worker.local"]);
        assert!(spellings("not a url").is_empty());
    }
}

//! The run's recorder, shared between the harness (steps start and finish,
//! worker lines) and the runner's HTTP handle (exchanges).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::body::CaptureLimits;
use super::model::RunStart;
use super::recorder::Recorder;
use super::redact::Redactor;

/// A [`Recorder`] behind a lock, with the instant the run's times count from.
#[derive(Debug)]
pub(crate) struct SharedRecorder {
    origin: Instant,
    recorder: Mutex<Option<Recorder>>,
    /// The request being sent, redacted (`POST http://…`), for the live line.
    in_flight: Mutex<Option<String>>,
}

impl SharedRecorder {
    /// Starts recording the run of `task_id`; `workers` are (name, base58
    /// staking public key).
    pub(crate) fn new(
        task_id: &str,
        workers: &[(String, Option<String>)],
        redactor: Redactor,
    ) -> Self {
        let started_at_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let recorder = Recorder::new(
            task_id,
            started_at_unix_ms,
            RunStart::Fresh,
            workers,
            redactor,
            CaptureLimits::default(),
        );
        Self {
            origin: Instant::now(),
            recorder: Mutex::new(Some(recorder)),
            in_flight: Mutex::new(None),
        }
    }

    /// Milliseconds since the run started.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs `f` on the recorder (nothing once the record is taken).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Recorder) -> R) -> Option<R> {
        self.lock().as_mut().map(f)
    }

    /// Notes the request being sent (`None`: it is back).
    pub(crate) fn set_in_flight(&self, method: &str, url: Option<&str>) {
        let line = url.and_then(|url| self.with(|r| format!("{method} {}", r.redact(url))));
        *self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = line;
    }

    /// The request being sent, if any.
    pub(crate) fn in_flight(&self) -> Option<String> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The finished record; later calls to [`with`](Self::with) do nothing.
    pub(crate) fn take(&self) -> Option<super::model::RunRecord> {
        let duration = self.now_ms();
        self.lock().take().map(|recorder| recorder.finish(duration))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Recorder>> {
        self.recorder.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

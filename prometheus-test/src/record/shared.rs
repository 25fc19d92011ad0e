//! The run's recorder, shared between the recording stage (which files
//! everything the event stream says), the runner (the secrets steps name)
//! and the harness (which redacts with it at the source), and the clock its
//! times come from.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::body::CaptureLimits;
use super::model::RunStart;
use super::recorder::Recorder;
use super::redact::Redactor;

/// Where a run's times come from.
pub(crate) trait Clock: fmt::Debug + Send + Sync {
    /// When the run started, in milliseconds since the Unix epoch.
    fn started_at_unix_ms(&self) -> u64;
    /// Milliseconds since the run started.
    fn now_ms(&self) -> u64;
}

/// The machine's clocks: the wall clock for the start, a monotonic one for
/// the times after it.
#[derive(Debug)]
pub(crate) struct SystemClock {
    origin: Instant,
    started_at_unix_ms: u64,
}

impl SystemClock {
    /// A clock whose run starts now.
    pub(crate) fn start() -> Self {
        let started_at_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            origin: Instant::now(),
            started_at_unix_ms,
        }
    }
}

impl Clock for SystemClock {
    fn started_at_unix_ms(&self) -> u64 {
        self.started_at_unix_ms
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that moves only when told: whole-output tests compare records
/// made on it.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct ManualClock {
    started_at_unix_ms: u64,
    now_ms: std::sync::atomic::AtomicU64,
}

#[cfg(test)]
impl ManualClock {
    /// A clock at the start of a run that started at `started_at_unix_ms`.
    pub(crate) fn new(started_at_unix_ms: u64) -> Self {
        Self {
            started_at_unix_ms,
            now_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Moves the clock `ms` milliseconds on.
    pub(crate) fn advance(&self, ms: u64) {
        self.now_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn started_at_unix_ms(&self) -> u64 {
        self.started_at_unix_ms
    }

    fn now_ms(&self) -> u64 {
        self.now_ms.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A [`Recorder`] behind a lock, with the clock the run's times come from.
#[derive(Debug)]
pub(crate) struct SharedRecorder {
    clock: Arc<dyn Clock>,
    recorder: Mutex<Option<Recorder>>,
}

impl SharedRecorder {
    /// Starts recording the run of `task_id`, which starts now; `workers`
    /// are (name, base58 staking public key).
    pub(crate) fn new(
        task_id: &str,
        workers: &[(String, Option<String>)],
        redactor: Redactor,
    ) -> Self {
        Self::with_clock(task_id, workers, redactor, Arc::new(SystemClock::start()))
    }

    /// [`new`](Self::new), with the run's times taken from `clock`.
    pub(crate) fn with_clock(
        task_id: &str,
        workers: &[(String, Option<String>)],
        redactor: Redactor,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let recorder = Recorder::new(
            task_id,
            clock.started_at_unix_ms(),
            RunStart::Fresh,
            workers,
            redactor,
            CaptureLimits::default(),
        );
        Self {
            clock,
            recorder: Mutex::new(Some(recorder)),
        }
    }

    /// Milliseconds since the run started.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Runs `f` on the recorder (nothing once the record is taken).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Recorder) -> R) -> Option<R> {
        self.lock().as_mut().map(f)
    }

    /// `text` with the run's secrets replaced; once the record is taken
    /// (the reports are written), `after` instead: nothing redacts any more,
    /// so nothing is shown.
    pub(crate) fn redact_or(&self, text: &str, after: &str) -> String {
        self.with(|r| r.redact(text))
            .unwrap_or_else(|| after.to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::junit;
    use crate::record::model::Outcome;

    #[test]
    fn text_is_redacted_until_the_record_is_taken_and_then_not_shown() {
        let mut redactor = Redactor::new();
        redactor.secret("token", "tok-0123456789");
        let shared = SharedRecorder::new("task-1", &[], redactor);
        assert_eq!(
            shared.redact_or("sent tok-0123456789", "(gone)"),
            "sent [redacted: token]"
        );
        shared.take();
        assert_eq!(shared.redact_or("sent tok-0123456789", "(gone)"), "(gone)");
    }

    #[test]
    fn the_record_takes_its_times_from_the_clock() {
        let clock = Arc::new(ManualClock::new(1_796_098_565_000));
        let shared = SharedRecorder::with_clock(
            "task-1",
            &[("worker1".into(), None)],
            Redactor::new(),
            clock.clone(),
        );
        clock.advance(250);
        let at = shared.now_ms();
        shared.with(|r| {
            r.begin_round(1);
            r.begin_step("steps::a", "worker1", at);
        });
        clock.advance(1_234);
        let at = shared.now_ms();
        shared.with(|r| r.finish_step(Outcome::Passed { attempts: 1 }, at));
        clock.advance(16);
        let record = shared.take().expect("the record");
        assert_eq!(
            junit::render(&record),
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="task-1" tests="1" failures="0" errors="0" time="1.500">
  <testsuite name="task-1" tests="1" failures="0" errors="0" skipped="0" time="1.500" timestamp="2026-12-01T04:16:05">
    <properties>
      <property name="task_id" value="task-1"/>
      <property name="start" value="fresh"/>
      <property name="workers" value="worker1"/>
    </properties>
    <testcase classname="round 1" name="steps::a" time="1.234">
    </testcase>
  </testsuite>
</testsuites>
"#
        );
    }
}

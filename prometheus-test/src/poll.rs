//! Waiting for asynchronous work: call a check again and again, pausing for a
//! twentieth of the time waited so far, until it answers, fails for good, or a
//! deadline passes.
//!
//! Start one with [`Runner::poll`](crate::Runner::poll).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

use crate::config::PollSettings;

/// One answer of a poll's check: done with a value, or not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    /// The condition is met; the poll returns this value.
    Ready(T),
    /// Not yet; the text describes what the check saw (such as
    /// `"404: no verdict yet"`). The last one is shown if the deadline passes.
    Pending(String),
}

/// A poll being set up: change its pauses or deadline, then `.await` it.
///
/// The check is called at once, then again after each pause, until it returns
/// [`Poll::Ready`]. A pause is a twentieth of the time waited so far, at least
/// [`every`](Self::every) and at most [`max_every`](Self::max_every), so a
/// result is seen at most ~5% after it appears (and one shortest pause) while
/// a long wait costs few checks: with the defaults (10 ms to 1 s), 36 checks
/// for a 400 ms wait, about 125 for 30 s.
///
/// Any `Err` from the check ends the poll at once with that error (a rejected
/// submission will not be accepted by asking again); report a transient
/// answer as [`Poll::Pending`] instead.
/// When [`deadline`](Self::deadline) passes, the poll fails with a
/// [`PollTimeout`] naming what it waited for, how many checks it made and the
/// last pending answer. A check still running at the deadline is cut off
/// (the last one gets at least one `max_every` of its own).
///
/// Made by [`Runner::poll`](crate::Runner::poll).
#[must_use = "a poll does nothing until it is awaited"]
pub struct Polling<'a, F> {
    what: String,
    check: F,
    settings: PollSettings,
    _runner: std::marker::PhantomData<&'a ()>,
}

impl<F> fmt::Debug for Polling<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Polling")
            .field("what", &self.what)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<'a, F, Fut, T> Polling<'a, F>
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = anyhow::Result<Poll<T>>> + 'a,
    T: 'a,
{
    pub(crate) fn new(what: String, check: F, settings: PollSettings) -> Self {
        Self {
            what,
            check,
            settings,
            _runner: std::marker::PhantomData,
        }
    }

    /// The shortest pause between two checks, taken while the wait is young
    /// (default 10 ms, or config.yaml's `poll.interval`). Raises the longest
    /// pause to it when needed.
    pub fn every(mut self, interval: Duration) -> Self {
        self.settings.interval = interval;
        self.settings.max_interval = self.settings.max_interval.max(interval);
        self
    }

    /// The longest pause between two checks (default 1 s, or config.yaml's
    /// `poll.max_interval`). Lowers the first pause to it when needed.
    pub fn max_every(mut self, max_interval: Duration) -> Self {
        self.settings.max_interval = max_interval;
        self.settings.interval = self.settings.interval.min(max_interval);
        self
    }

    /// How long to wait in all (default 30 s, or config.yaml's `poll.deadline`).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = deadline;
        self
    }

    async fn run(self) -> anyhow::Result<T> {
        let Self {
            what,
            mut check,
            settings,
            ..
        } = self;
        let started = Instant::now();
        let deadline_at = started + settings.deadline;
        let mut attempts = 0_u32;
        let mut last = None;
        loop {
            attempts += 1;
            let cut_at = deadline_at.max(Instant::now() + settings.max_interval);
            let answer = tokio::select! {
                answer = check() => answer,
                () = tokio::time::sleep_until(cut_at) => {
                    return Err(PollTimeout {
                        what,
                        attempts,
                        waited: started.elapsed(),
                        deadline: settings.deadline,
                        last,
                        cut_off: true,
                    }
                    .into());
                }
            };
            match answer.with_context(|| format!("while waiting for {what} (check {attempts})"))? {
                Poll::Ready(value) => return Ok(value),
                Poll::Pending(seen) => last = Some(seen),
            }
            let now = Instant::now();
            if now >= deadline_at {
                return Err(PollTimeout {
                    what,
                    attempts,
                    waited: started.elapsed(),
                    deadline: settings.deadline,
                    last,
                    cut_off: false,
                }
                .into());
            }
            let pause = pause_after(settings, now - started);
            tokio::time::sleep(pause.min(deadline_at - now)).await;
        }
    }
}

impl<'a, F, Fut, T> IntoFuture for Polling<'a, F>
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = anyhow::Result<Poll<T>>> + 'a,
    T: 'a,
{
    type Output = anyhow::Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = anyhow::Result<T>> + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// A pause is this fraction of the time waited so far: a result is seen at
/// most 1/20 = 5% after it appears, and a long wait costs few checks.
const PAUSE_DIVISOR: u32 = 20;

/// The pause after a check made `waited` into the poll.
fn pause_after(settings: PollSettings, waited: Duration) -> Duration {
    (waited / PAUSE_DIVISOR)
        .max(settings.interval)
        .min(settings.max_interval)
}

/// A poll's deadline passed before its check answered [`Poll::Ready`].
///
/// Its message names what the poll waited for, how many checks it made and
/// the last pending answer; find it in a step's error with
/// `err.downcast_ref::<PollTimeout>()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollTimeout {
    what: String,
    attempts: u32,
    waited: Duration,
    deadline: Duration,
    last: Option<String>,
    cut_off: bool,
}

impl PollTimeout {
    /// What the poll waited for, as given to `Runner::poll`.
    #[must_use]
    pub fn what(&self) -> &str {
        &self.what
    }

    /// How many times the check was called (the last may have been cut off).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last [`Poll::Pending`] answer, if any check gave one.
    #[must_use]
    pub fn last_answer(&self) -> Option<&str> {
        self.last.as_deref()
    }
}

impl fmt::Display for PollTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let checks = if self.attempts == 1 {
            "check"
        } else {
            "checks"
        };
        write!(
            f,
            "gave up waiting for {} after {} (its deadline: {}) and {} {checks}",
            self.what,
            shown(self.waited),
            shown(self.deadline),
            self.attempts,
        )?;
        if self.cut_off {
            write!(f, " (the last was still running at the deadline)")?;
        }
        match &self.last {
            Some(last) => write!(f, "; last answer: {}", excerpt(last)),
            None => write!(f, "; no check answered"),
        }
    }
}

impl std::error::Error for PollTimeout {}

/// A wait as a person reads it: `50ms` under a second, else `2.5s`.
fn shown(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        format!("{}ms", wait.as_millis())
    } else {
        format!("{:.1}s", wait.as_secs_f64())
    }
}

/// At most 300 characters of `text`, on one line.
fn excerpt(text: &str) -> String {
    const LIMIT: usize = 300;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const FAST: PollSettings = PollSettings {
        interval: Duration::from_millis(1),
        max_interval: Duration::from_millis(5),
        deadline: Duration::from_secs(30),
    };

    fn polling<'a, F, Fut, T>(check: F) -> Polling<'a, F>
    where
        F: FnMut() -> Fut + 'a,
        Fut: Future<Output = anyhow::Result<Poll<T>>> + 'a,
        T: 'a,
    {
        Polling::new("the verdict".to_owned(), check, FAST)
    }

    #[test]
    fn a_pause_is_a_twentieth_of_the_wait_between_the_shortest_and_longest() {
        let ms = |settings, waited: &[u64]| -> Vec<u128> {
            waited
                .iter()
                .map(|&w| pause_after(settings, Duration::from_millis(w)).as_millis())
                .collect()
        };
        assert_eq!(
            ms(
                PollSettings::default(),
                &[0, 150, 400, 2_000, 10_000, 60_000]
            ),
            [10, 10, 20, 100, 500, 1_000]
        );
        let settings = PollSettings {
            interval: Duration::from_millis(300),
            max_interval: Duration::from_millis(500),
            ..PollSettings::default()
        };
        assert_eq!(ms(settings, &[0, 8_000, 60_000]), [300, 400, 500]);
    }

    /// The checks a poll that never gets ready makes in `deadline`, by the
    /// schedule alone (checks taking no time).
    fn checks_in(deadline: Duration) -> u32 {
        let settings = PollSettings::default();
        let (mut waited, mut checks) = (Duration::ZERO, 1);
        while waited < deadline {
            waited += pause_after(settings, waited);
            checks += 1;
        }
        checks
    }

    #[test]
    fn the_default_schedule_costs_what_the_docs_say() {
        assert_eq!(checks_in(Duration::from_millis(400)), 36);
        let long = checks_in(Duration::from_secs(30));
        assert!((120..=130).contains(&long), "{long} checks in 30 s");
    }

    #[test]
    fn every_and_max_every_keep_the_pauses_ordered() {
        let poll = polling(|| async { Ok(Poll::Ready(())) });
        let poll = poll.every(Duration::from_secs(3));
        assert_eq!(poll.settings.max_interval, Duration::from_secs(3));
        let poll = poll.max_every(Duration::from_secs(2));
        assert_eq!(poll.settings.interval, Duration::from_secs(2));
    }

    #[tokio::test]
    async fn ready_after_pending_answers() {
        let calls = Cell::new(0);
        let value = polling(|| async {
            calls.set(calls.get() + 1);
            Ok(if calls.get() < 5 {
                Poll::Pending(format!("404 ({})", calls.get()))
            } else {
                Poll::Ready("pass")
            })
        })
        .await
        .unwrap();
        assert_eq!((value, calls.get()), ("pass", 5));
    }

    #[tokio::test]
    async fn an_error_stops_the_poll_at_once() {
        let calls = Cell::new(0);
        let err = polling(|| async {
            calls.set(calls.get() + 1);
            if calls.get() == 2 {
                anyhow::bail!("409: submission rejected");
            }
            Ok(Poll::<()>::Pending("404".into()))
        })
        .await
        .unwrap_err();
        assert_eq!(calls.get(), 2);
        assert_eq!(
            format!("{err:#}"),
            "while waiting for the verdict (check 2): 409: submission rejected"
        );
    }

    #[tokio::test]
    async fn the_deadline_names_the_wait_the_checks_and_the_last_answer() {
        let calls = Cell::new(0);
        let err = polling(|| async {
            calls.set(calls.get() + 1);
            Ok(Poll::<()>::Pending(format!(
                "404: not yet\n({})",
                calls.get()
            )))
        })
        .deadline(Duration::from_millis(50))
        .await
        .unwrap_err();
        let timeout = err.downcast_ref::<PollTimeout>().expect("a PollTimeout");
        let checks = calls.get();
        assert!(checks >= 2, "{checks}");
        assert_eq!(timeout.attempts(), checks);
        assert_eq!(timeout.what(), "the verdict");
        assert_eq!(
            timeout.last_answer(),
            Some(format!("404: not yet\n({checks})").as_str())
        );
        let text = err.to_string();
        let waited = text
            .strip_prefix("gave up waiting for the verdict after ")
            .and_then(|rest| rest.split_once("ms (its deadline: 50ms) and "))
            .and_then(|(ms, _)| ms.parse::<u64>().ok());
        assert!(
            waited.is_some_and(|ms| (50..1_000).contains(&ms)),
            "a deadline under a second is told in milliseconds: {text}"
        );
        assert!(
            text.ends_with(&format!(
                " and {checks} checks; last answer: 404: not yet ({checks})"
            )),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_check_hanging_past_the_deadline_is_cut_off() {
        let err = polling(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Poll::Ready(()))
        })
        .deadline(Duration::from_millis(20))
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.ends_with(
                " and 1 check (the last was still running at the deadline); no check answered"
            ),
            "{text}"
        );
    }

    #[test]
    fn long_answers_are_shortened_to_one_line() {
        let long = "x".repeat(400);
        assert_eq!(excerpt(&long).chars().count(), 301);
        assert_eq!(excerpt("a\n  b"), "a b");
    }
}

//! Faults a step sets itself (`runner.faults().partition("worker2")`):
//! checked before the schedule, and healed when the step ends, so that a
//! step resumed on its own meets the faults it scripts and no others.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::anyhow;

use super::link::{Known, Link, LinkPattern, glob};
use super::schedule::Injected;

/// Whom a scripted fault is about, as the step named it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// A worker: every link from or to it.
    Worker(String),
    /// The links a pattern names.
    Links(LinkPattern),
}

impl Target {
    fn matches(&self, link: &Link) -> bool {
        match self {
            Self::Worker(worker) => glob(worker, &link.from) || glob(worker, &link.to),
            Self::Links(pattern) => pattern.matches(link),
        }
    }
}

/// One scripted fault, with the words that set it.
#[derive(Clone, Debug)]
struct Override {
    written: String,
    target: Target,
    /// `None`: a partition.
    delay: Option<Duration>,
}

/// The faults the current step scripted.
#[derive(Debug, Default)]
pub(crate) struct Scripted {
    known: Known,
    overrides: Mutex<Vec<Override>>,
}

impl Scripted {
    pub(crate) fn new(known: Known) -> Self {
        Self {
            known,
            overrides: Mutex::default(),
        }
    }

    /// Cuts `target` off: a worker (every link from or to it) or a link
    /// pattern (`runner->worker2`); its requests are refused until healed.
    pub(crate) fn partition(&self, target: &str) -> anyhow::Result<()> {
        self.add(target, None)
    }

    /// Delays every request on the links `pattern` names by `by`.
    pub(crate) fn delay(&self, pattern: &str, by: Duration) -> anyhow::Result<()> {
        if !pattern.contains("->") {
            return Err(anyhow!(
                "cannot delay `{pattern}`: a delay is set on links, `from->to`"
            ));
        }
        self.add(pattern, Some(by))
    }

    /// Ends every scripted fault set on `target` (as it was written).
    pub(crate) fn heal(&self, target: &str) -> anyhow::Result<()> {
        self.target(target)?;
        self.lock().retain(|o| o.written != target);
        Ok(())
    }

    /// Ends every scripted fault.
    pub(crate) fn heal_all(&self) {
        self.lock().clear();
    }

    /// What a request on `link` gets from the script: a partition first,
    /// else the sum of the delays set on it.
    pub(crate) fn for_link(&self, link: &Link) -> Option<Injected> {
        let overrides = self.lock();
        let matching = || overrides.iter().filter(|o| o.target.matches(link));
        if matching().any(|o| o.delay.is_none()) {
            return Some(Injected::Partition);
        }
        let delay: Duration = matching().filter_map(|o| o.delay).sum();
        (!delay.is_zero()).then_some(Injected::Delay(delay))
    }

    fn add(&self, written: &str, delay: Option<Duration>) -> anyhow::Result<()> {
        let target = self.target(written)?;
        self.lock().push(Override {
            written: written.to_owned(),
            target,
            delay,
        });
        Ok(())
    }

    /// The target `written` names, if it names a known worker or link.
    fn target(&self, written: &str) -> anyhow::Result<Target> {
        let target = if written.contains("->") {
            let pattern = LinkPattern::parse(written).map_err(|why| anyhow!("`{written}` {why}"));
            let pattern = pattern?;
            pattern
                .names_something(&self.known)
                .map_err(|why| anyhow!("`{written}` names no link: {why}"))?;
            Target::Links(pattern)
        } else {
            self.known
                .worker_named(written)
                .map_err(|why| anyhow!(why))?;
            Target::Worker(written.to_owned())
        };
        Ok(target)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Override>> {
        self.overrides
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripted() -> Scripted {
        Scripted::new(Known::new(&["worker1", "worker2"], &[]))
    }

    #[test]
    fn a_partitioned_worker_is_cut_from_everything_until_healed() {
        let script = scripted();
        let runner_to_2 = Link::new("runner", "worker2");
        let two_to_api = Link::new("worker2", "api.anthropic.com");
        let runner_to_1 = Link::new("runner", "worker1");
        script.partition("worker2").unwrap();
        assert_eq!(script.for_link(&runner_to_2), Some(Injected::Partition));
        assert_eq!(script.for_link(&two_to_api), Some(Injected::Partition));
        assert_eq!(script.for_link(&runner_to_1), None);
        script.heal("worker2").unwrap();
        assert_eq!(script.for_link(&runner_to_2), None);
        assert_eq!(script.for_link(&two_to_api), None);
    }

    #[test]
    fn a_link_can_be_cut_or_delayed_alone() {
        let script = scripted();
        script.partition("runner->worker1").unwrap();
        script
            .delay("worker*->api.anthropic.com", Duration::from_millis(200))
            .unwrap();
        script
            .delay("worker2->*", Duration::from_millis(50))
            .unwrap();
        assert_eq!(
            script.for_link(&Link::new("runner", "worker1")),
            Some(Injected::Partition)
        );
        assert_eq!(script.for_link(&Link::new("worker1", "runner")), None);
        assert_eq!(
            script.for_link(&Link::new("worker2", "api.anthropic.com")),
            Some(Injected::Delay(Duration::from_millis(250)))
        );
        script.heal_all();
        assert_eq!(script.for_link(&Link::new("runner", "worker1")), None);
    }

    #[test]
    fn a_target_that_names_nothing_is_refused() {
        let script = scripted();
        let refused = |result: anyhow::Result<()>| result.unwrap_err().to_string();
        assert_eq!(
            refused(script.partition("worker9")),
            "`worker9` names no worker (the workers are `worker1`, `worker2`)"
        );
        assert_eq!(
            refused(script.partition("runner->wrker1")),
            "`runner->wrker1` names no link: `wrker1` is no worker or service (the workers are \
             `worker1`, `worker2`) and no host (a host has a dot)"
        );
        assert_eq!(
            refused(script.delay("worker1", Duration::from_secs(1))),
            "cannot delay `worker1`: a delay is set on links, `from->to`"
        );
        assert_eq!(
            refused(script.heal("runner->")),
            "`runner->` must be `from->to` (such as `worker1->api.anthropic.com`)"
        );
    }
}

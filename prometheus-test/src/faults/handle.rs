//! What steps reach of the run's faults: the faults they script
//! ([`Faults`], from [`Runner::faults`](crate::Runner::faults)) and the
//! properties they state (`runner.always`, `runner.sometimes`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::anyhow;

use super::checks::Checks;
use super::scripted::Scripted;
use super::seed::Seed;

/// The runner's side of the faults: the script while the fault proxy runs,
/// the properties, and the step being played (where a property is checked).
#[derive(Debug, Default)]
pub(crate) struct Reach {
    scripted: Mutex<Option<Arc<Scripted>>>,
    checks: Checks,
    place: Mutex<String>,
    /// The seed the run's faults are drawn from, once it has faults.
    seed: Mutex<Option<Seed>>,
}

impl Reach {
    /// The run's faults are drawn from `seed`.
    pub(crate) fn use_seed(&self, seed: Seed) {
        *self.seed.lock().unwrap_or_else(PoisonError::into_inner) = Some(seed);
    }

    /// The seed the run's faults are drawn from, when it has faults.
    pub(crate) fn seed(&self) -> Option<Seed> {
        *self.seed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets steps script faults (`None`: no longer).
    pub(crate) fn use_scripted(&self, scripted: Option<Arc<Scripted>>) {
        *self.scripted.lock().unwrap_or_else(PoisonError::into_inner) = scripted;
    }

    /// From now on properties are checked in `place` (`round 2 steps::audit[worker2]`).
    pub(crate) fn enter(&self, place: String) {
        *self.place.lock().unwrap_or_else(PoisonError::into_inner) = place;
    }

    pub(crate) fn checks(&self) -> &Checks {
        &self.checks
    }

    pub(crate) fn always(&self, name: &str, holds: bool) -> bool {
        self.checks.always(name, holds, &self.place())
    }

    pub(crate) fn sometimes(&self, name: &str, holds: bool) -> bool {
        self.checks.sometimes(name, holds, &self.place())
    }

    pub(crate) fn faults(&self) -> Faults {
        Faults {
            scripted: self
                .scripted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    fn place(&self) -> String {
        self.place
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The faults a step sets itself, on top of config.yaml's `faults`
/// schedule: they hold until healed or until the step's attempt ends.
///
/// A target is a worker (every link from or to it) or a link pattern,
/// `from->to`, where `*` stands for any run of characters:
/// `runner->worker2`, `worker*->api.anthropic.com`. A name that matches
/// no worker or link is an error. Scripting needs the fault proxy, which
/// runs when config.yaml has a `faults` section (`faults: []` for scripts
/// alone).
///
/// ```no_run
/// # use std::time::Duration;
/// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
/// let faults = runner.faults();
/// faults.partition("worker2")?;
/// faults.delay("runner->worker1", Duration::from_millis(300))?;
/// // … the step's calls; worker2 is unreachable, worker1 slow …
/// faults.heal("worker2")?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Faults {
    scripted: Option<Arc<Scripted>>,
}

impl Faults {
    /// Cuts `target` off: its requests are refused (the connection reset)
    /// until healed.
    pub fn partition(&self, target: &str) -> anyhow::Result<()> {
        self.scripted()?.partition(target)
    }

    /// Delays every request on the links `pattern` (`from->to`) names by `by`.
    pub fn delay(&self, pattern: &str, by: Duration) -> anyhow::Result<()> {
        self.scripted()?.delay(pattern, by)
    }

    /// Ends the faults set on `target`, written as it was set.
    pub fn heal(&self, target: &str) -> anyhow::Result<()> {
        self.scripted()?.heal(target)
    }

    /// Ends every fault the step set.
    pub fn heal_all(&self) {
        if let Some(scripted) = &self.scripted {
            scripted.heal_all();
        }
    }

    fn scripted(&self) -> anyhow::Result<&Scripted> {
        self.scripted.as_deref().ok_or_else(|| {
            anyhow!(
                "scripted faults need the fault proxy, which runs when config.yaml has a \
                 `faults` section (`faults: []` for scripts alone)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::link::{Known, Link};
    use crate::faults::schedule::Injected;

    #[test]
    fn scripts_need_the_fault_proxy_and_reach_it_when_it_runs() {
        let reach = Reach::default();
        let refused = reach.faults().partition("worker1").unwrap_err();
        assert!(refused.to_string().contains("`faults: []`"), "{refused}");
        let scripted = Arc::new(Scripted::new(Known::new(&["worker1"], &[])));
        reach.use_scripted(Some(Arc::clone(&scripted)));
        reach.faults().partition("worker1").unwrap();
        assert_eq!(
            scripted.for_link(&Link::new("runner", "worker1")),
            Some(Injected::Partition)
        );
    }

    #[test]
    fn properties_are_checked_where_the_run_is() {
        let reach = Reach::default();
        reach.enter("round 2 steps::audit[worker2]".to_owned());
        assert!(!reach.always("one leader", false));
        assert!(reach.checks().failed());
        let summary = reach.checks().summary(crate::faults::seed::Seed(5));
        assert!(
            summary.contains("first in round 2 steps::audit[worker2]; rerun with --seed 5"),
            "{summary}"
        );
    }
}

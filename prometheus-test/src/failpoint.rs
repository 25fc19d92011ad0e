//! Named points where the runner kills itself with SIGKILL when a test asks
//! for it, so the fault suite can check what a kill at exactly that point
//! leaves behind (a torn journal line, a fold between its rename and its
//! cleanup, a half-taken snapshot). `PROMETHEUS_TEST_FAILPOINT=name` in the
//! run's environment arms the point `name` at its first pass, `name@n` at its
//! n-th; the run arms it with [`arm`] once its environment is read. Unarmed,
//! a point costs one lookup.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable that arms a point.
pub(crate) const VARIABLE: &str = "PROMETHEUS_TEST_FAILPOINT";

struct Armed {
    name: String,
    at: u32,
    passes: AtomicU32,
}

impl Armed {
    /// The point `value` (of [`VARIABLE`]) names, if well formed.
    fn parse(value: &str) -> Option<Self> {
        let (name, at) = match value.split_once('@') {
            Some((name, at)) => (name, at.parse().ok()?),
            None => (value, 1),
        };
        Some(Self {
            name: name.to_owned(),
            at,
            passes: AtomicU32::new(0),
        })
    }

    /// Whether this pass of `name` is the armed one.
    fn reached(&self, name: &str) -> bool {
        self.name == name && self.passes.fetch_add(1, Ordering::SeqCst) + 1 == self.at
    }
}

static ARMED: OnceLock<Option<Armed>> = OnceLock::new();

/// Arms the point `value`, the run's environment's [`VARIABLE`], names (none
/// when unset) for the rest of the process; only the first call counts.
pub(crate) fn arm(value: Option<&str>) {
    let _ = ARMED.set(value.and_then(Armed::parse));
}

/// Whether this pass of `name` is the armed one.
pub(crate) fn reached(name: &str) -> bool {
    ARMED
        .get()
        .and_then(Option::as_ref)
        .is_some_and(|armed| armed.reached(name))
}

/// Kills the process here when this pass of `name` is the armed one.
pub(crate) fn hit(name: &str) {
    if reached(name) {
        kill_self();
    }
}

/// SIGKILL to this process: no destructor, no handler, no flush runs.
pub(crate) fn kill_self() -> ! {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    unreachable!("SIGKILL cannot be caught")
}

#[cfg(test)]
mod tests {
    use super::Armed;

    fn armed_by(value: &str) -> Option<Armed> {
        Armed::parse(value)
    }

    #[test]
    fn the_point_named_is_reached_at_its_pass_only() {
        let armed = armed_by("state.fold.before@2").expect("armed");
        assert!(!armed.reached("state.fold.before"));
        assert!(!armed.reached("snapshot.take.manifest"));
        assert!(armed.reached("state.fold.before"));
        assert!(!armed.reached("state.fold.before"));
        assert!(
            armed_by("snapshot.take.manifest")
                .expect("armed")
                .reached("snapshot.take.manifest")
        );
    }

    #[test]
    fn a_pass_that_is_not_a_number_arms_nothing() {
        assert!(armed_by("state.fold.before@second").is_none());
    }
}

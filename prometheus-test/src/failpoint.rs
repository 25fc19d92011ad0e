//! Named points where the runner kills itself with SIGKILL when a test asks
//! for it, so the fault suite can check what a kill at exactly that point
//! leaves behind (a torn journal line, a fold between its rename and its
//! cleanup, a half-taken snapshot). `PROMETHEUS_TEST_FAILPOINT=name` arms the
//! point `name` at its first pass, `name@n` at its n-th. Unset, a point costs
//! one lookup of a value read once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable that arms a point.
pub(crate) const VARIABLE: &str = "PROMETHEUS_TEST_FAILPOINT";

struct Armed {
    name: String,
    at: u32,
    passes: AtomicU32,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let value = std::env::var(VARIABLE).ok()?;
            let (name, at) = match value.split_once('@') {
                Some((name, at)) => (name, at.parse().ok()?),
                None => (value.as_str(), 1),
            };
            Some(Armed {
                name: name.to_owned(),
                at,
                passes: AtomicU32::new(0),
            })
        })
        .as_ref()
}

/// Whether this pass of `name` is the armed one.
pub(crate) fn reached(name: &str) -> bool {
    armed().is_some_and(|armed| {
        armed.name == name && armed.passes.fetch_add(1, Ordering::SeqCst) + 1 == armed.at
    })
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

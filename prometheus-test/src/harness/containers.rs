//! Before anything is reset: the container workers' engine answers, their
//! images are present on it, and the containers an earlier run of this
//! suite left behind (a runner killed before it could remove them) are
//! removed, each named in a note.

use super::events::Events;
use super::launch::suite_label;
use crate::Worker;
use crate::config::{Config, Launch};
use crate::process::Engine;

/// Checks the engine and the images of the container workers among
/// `workers` and removes the suite's leftover containers; nothing when no
/// worker is a container.
pub(super) async fn prepare(
    config: &Config,
    workers: &[Worker],
    events: &Events,
) -> anyhow::Result<()> {
    let images: Vec<(&str, &str)> = workers
        .iter()
        .filter_map(|worker| match &worker.spec().launch {
            Launch::Container { image, .. } => Some((worker.name(), image.as_str())),
            _ => None,
        })
        .collect();
    if images.is_empty() {
        return Ok(());
    }
    let engine = Engine::connect().await?;
    for (worker, image) in images {
        engine.check_image(worker, image).await?;
    }
    for removed in engine.remove_leftovers(&suite_label(config)).await? {
        events.note(removed);
    }
    Ok(())
}

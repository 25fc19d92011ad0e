//! Configuration: config.yaml, workers.json and the `.env` files.

mod env;
mod mongo;
mod problems;
mod suite;
mod workers;

pub use env::EnvMap;
pub use mongo::{CollectionSettings, MongoSettings};
pub(crate) use problems::Problems;
pub use suite::Config;
pub(crate) use workers::{KeypairVars, Launch, WorkerSpec, load_workers};

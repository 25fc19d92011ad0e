//! Configuration: config.yaml, workers.json and the `.env` files.

mod env;
mod mongo;
mod problems;
mod suite;
mod workers;

pub(crate) use env::EnvMap;
pub(crate) use mongo::{CollectionSettings, MongoSettings};
pub(crate) use problems::Problems;
pub(crate) use suite::Config;
pub(crate) use workers::{EnvSource, KeypairVars, Launch, WorkerSpec, load_workers};

//! Configuration: config.yaml (with run-time overrides), workers.json and
//! the `.env` files.

mod dotenv;
mod env;
mod mongo;
mod names;
mod overrides;
mod problems;
mod python;
mod seconds;
mod suite;
mod text;
mod typos;
mod workers;

pub(crate) use env::EnvMap;
pub(crate) use mongo::{CollectionSettings, MongoSettings};
pub(crate) use overrides::Overrides;
pub(crate) use problems::Problems;
pub(crate) use seconds::positive_seconds;
pub(crate) use suite::Config;
pub(crate) use workers::{EnvSource, KeypairVars, Launch, WorkerSpec, load_workers};

//! Configuration: config.yaml, workers.json and the `.env` files.

mod env;
mod mongo;

pub use env::EnvMap;
pub use mongo::{CollectionSettings, MongoSettings};

#![doc = include_str!("../../README.md")]

mod config;
mod harness;
mod keys;
mod mongo;
mod process;
mod runner;
mod state;
mod step;
mod worker;

pub use keys::{
    CanonicalJsonError, KeyError, KeyErrorKind, Keypair, SignatureError, canonical_json,
    create_signature, load_keypair, verify_signature,
};
pub use runner::Runner;
pub use step::{PrepareOutput, Skip, StepOutput};
pub use worker::Worker;

#[doc(inline)]
pub use prometheus_test_macros::{main, step};

/// The result type steps and hooks usually return.
pub type Result<T = (), E = anyhow::Error> = std::result::Result<T, E>;

pub use anyhow;
pub use mongodb;
pub use reqwest;

/// Glue for the code `#[step]` and `main!()` generate. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::harness::{MainOptions, PostLoadFuture, run_main};
    pub use crate::step::{PrepareOutput, StepDef, StepFuture, StepOutput};
    pub use ::inventory;
    pub use ::std::boxed::Box;
}

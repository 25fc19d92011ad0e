//! The run record's writers, checked by real consumers: the HTML report in
//! headless Chromium, the `JUnit` XML with a schema validator and a CI-style
//! parser, and every format searched for planted secrets.
//!
//! The record module is not public API yet (the harness fills it), so this
//! target compiles its source in; its unit tests run here a second time.

#[allow(
    dead_code,
    unreachable_pub,
    reason = "the tests use part of the record module, which the harness wires later"
)]
#[path = "../../src/record/mod.rs"]
mod record;

mod html;
mod junit;
mod redaction;
mod tools;

// The record module reaches these through `crate::`, as it does in the library.
use prometheus_test::{Keypair, create_signature, verify_signature};

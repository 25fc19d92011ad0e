//! Compile tests of `#[step]` and `main!()` (trybuild).
//!
//! `ui/pass/*.rs` must build and run: each checks what the macros registered.
//! `ui/fail/*.rs` hold one misuse each; the compiler output must match the
//! `.stderr` next to it. Snapshots are pinned to the toolchain in
//! rust-toolchain.toml; refresh them with
//! `TRYBUILD=overwrite cargo test -p prometheus-test --test ui` and review the
//! diff like code.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

//! Tests of the process module with real worker processes (python3 fixture
//! servers in `tests/fixtures/servers/`). Each test marks its processes with a
//! unique `PT_TEST_MARKER` and checks that none of them is left at the end.

mod churn;
mod containers;
mod lifecycle;
mod runner_child;
mod start;
mod support;

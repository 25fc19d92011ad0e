//! End-to-end suite of `todo-task`: three workers claim todos from MongoDB,
//! submit their work and audit each other, round after round.
//!
//! Run it with `cargo test -p todo-task --test e2e` (add `-- --list` to see the
//! steps). The suite lives in `steps/`; its settings in `config.yaml`,
//! `workers.json` and `.env`; its fixtures in `data/`.

mod steps;

prometheus_test::main!(post_load = steps::seed::post_load);

//! `main!()` on token streams: arguments, errors and key fragments.

use quote::quote;

use super::main;
use crate::error::compact;
use crate::marker::tests::marker;

#[test]
fn without_arguments_passes_no_config_and_no_hook() {
    let out = compact(&main(quote!()));
    assert!(
        out.contains(
            "fnmain()->::std::process::ExitCode{::prometheus_test::__private::run_main(::prometheus_test::__private::MainOptions{source_file:::core::file!(),manifest_dir:::core::env!(\"CARGO_MANIFEST_DIR\"),config:::core::option::Option::None,post_load:::core::option::Option::None,})}"
        ),
        "{out}"
    );
    assert!(!out.contains("__pt_post_load"), "{out}");
}

#[test]
fn emits_a_marker_test_failing_under_the_default_harness() {
    for args in [quote!(), quote!(config = "e2e/config.yaml")] {
        let out = compact(&main(args));
        assert!(
            out.contains(&marker("prometheus_test_needs_harness_false")),
            "{out}"
        );
    }
}

#[test]
fn config_and_post_load_are_passed_through() {
    let out = compact(&main(quote!(
        config = "e2e/config.yaml",
        post_load = hooks::seed,
    )));
    assert!(
        out.contains("config:::core::option::Option::Some(\"e2e/config.yaml\")"),
        "{out}"
    );
    assert!(
        out.contains("post_load:::core::option::Option::Some(__pt_post_load)"),
        "{out}"
    );
    assert!(
        out.contains(
            "fn__pt_post_load<'a>(db:&'a::prometheus_test::mongodb::Database,runner:&'a::prometheus_test::Runner,)->::prometheus_test::__private::PostLoadFuture<'a>{::prometheus_test::__private::Box::pin(asyncmove{::prometheus_test::__private::StepOutput::into_step_result(hooks::seed(db,runner).await)})}"
        ),
        "{out}"
    );
}

#[test]
fn errors_come_with_a_failing_main() {
    let out = compact(&main(quote!(
        config = config_yaml,
        workers = "w.json",
        config = "x"
    )));
    assert!(
        out.starts_with("fnmain()->::std::process::ExitCode{::std::process::ExitCode::FAILURE}"),
        "{out}"
    );
    assert!(!out.contains("run_main"), "{out}");
    assert!(
        !out.contains("prometheus_test_needs_harness_false"),
        "{out}"
    );
    for message in [
        "`config` takes a string literal, like `config = \"tests/e2e/config.yaml\"`",
        "unknown argument `workers`; expected one of `config`, `post_load`",
        "`config` is given twice; keep one",
    ] {
        let message: String = message.split_whitespace().collect();
        let message = message.replace('"', "\\\"");
        assert!(out.contains(&message), "missing {message}\nin {out}");
    }
}

#[test]
fn post_load_takes_a_path_and_config_a_non_empty_string() {
    let out = compact(&main(quote!(post_load = "seed", config = "")));
    assert!(out.contains("`post_load`takesthepathofanasyncfn"), "{out}");
    assert!(out.contains("`config`mustnotbeempty"), "{out}");
}

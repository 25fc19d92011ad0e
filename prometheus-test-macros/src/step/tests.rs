//! The whole `#[step]` pipeline on token streams: key fragments of the
//! expansion and the fallback on errors.

use proc_macro2::TokenStream;
use quote::quote;

use super::step;
use crate::error::compact;
use crate::marker::tests::marker;

fn expand(args: TokenStream, item: TokenStream) -> String {
    compact(&step(args, item))
}

#[test]
fn renames_the_function_and_keeps_its_attributes() {
    let out = expand(
        quote!(worker = "worker1", order = 2),
        quote! {
            /// Submits.
            pub async fn submit(runner: &Runner, worker: &Worker) -> Result<()> { body() }
        },
    );
    assert!(
        out.contains(
            "#[allow(clippy::unused_async)]#[doc=r\"Submits.\"]pubasyncfn__pt_step_submit(runner:&Runner,worker:&Worker)->Result<()>{body()}"
        ),
        "{out}"
    );
    assert!(out.contains(&marker("submit")), "{out}");
}

#[test]
fn registers_the_step_with_absolute_paths() {
    let out = expand(
        quote!(worker = "worker1", order = 2),
        quote!(
            async fn submit(r: &Runner, w: &Worker) {}
        ),
    );
    for fragment in [
        "const_:()={fn__pt_run<'a>(runner:&'a::prometheus_test::Runner,worker:&'a::prometheus_test::Worker,)->::prometheus_test::__private::StepFuture<'a>",
        "::prometheus_test::__private::Box::pin(asyncmove{let__pt_output=__pt_step_submit(runner,worker).await;::prometheus_test::__private::StepOutput::into_step_result(__pt_output)})",
        "::prometheus_test::__private::inventory::submit!{::prometheus_test::__private::StepDef{",
        "name:\"submit\",fn_name:\"submit\",description:\"\",module:::core::module_path!(),workers:::prometheus_test::__private::StepWorkers::One(\"worker1\"),order:2,file:::core::file!(),line:::core::line!(),retries:0,retry_delay:::core::time::Duration::ZERO,timeout:::core::option::Option::None,run:__pt_run,",
    ] {
        assert!(out.contains(fragment), "missing {fragment}\nin {out}");
    }
}

#[test]
fn registers_listed_and_all_workers() {
    let item = quote!(
        async fn task(r: &Runner, w: &Worker) {}
    );
    let listed = expand(
        quote!(workers = ["worker2", "worker1"], order = 3),
        item.clone(),
    );
    let fragment = "workers:::prometheus_test::__private::StepWorkers::Listed(&[\"worker2\",\"worker1\"]),order:3,";
    assert!(listed.contains(fragment), "missing {fragment}\nin {listed}");
    let all = expand(quote!(workers = "*", order = 3), item);
    let fragment = "workers:::prometheus_test::__private::StepWorkers::All,order:3,";
    assert!(all.contains(fragment), "missing {fragment}\nin {all}");
}

#[test]
fn timing_keys_fill_the_step_fields() {
    let out = expand(
        quote!(
            worker = "w",
            order = 1,
            retries = 3,
            retry_delay = "250ms",
            timeout = "2s"
        ),
        quote!(
            async fn flaky(r: &Runner, w: &Worker) {}
        ),
    );
    assert!(
        out.contains(
            "retries:3,retry_delay:::core::time::Duration::from_millis(250),timeout:::core::option::Option::Some(::core::time::Duration::from_millis(2000)),run:__pt_run,"
        ),
        "{out}"
    );
}

#[test]
fn prepare_runs_first_and_feeds_the_third_parameter() {
    let out = expand(
        quote!(
            worker = "worker1",
            order = 1,
            prepare = fixtures::prepare_todo
        ),
        quote!(
            async fn submit(r: &Runner, w: &Worker, todo: Todo) {}
        ),
    );
    assert!(
        out.contains(
            "letprepared=::prometheus_test::__private::PrepareOutput::into_prepared(fixtures::prepare_todo(runner,worker).await)?;let__pt_output=__pt_step_submit(runner,worker,prepared).await;"
        ),
        "{out}"
    );
}

#[test]
fn name_and_description_come_from_keys_or_doc() {
    let out = expand(
        quote!(
            worker = "w",
            order = 1,
            name = "submit todo",
            description = "by key"
        ),
        quote! {
            /// By doc.
            async fn submit(r: &Runner, w: &Worker) {}
        },
    );
    assert!(
        out.contains("name:\"submittodo\",fn_name:\"submit\",description:\"bykey\""),
        "{out}"
    );
    let out = expand(
        quote!(worker = "w", order = 1),
        quote! {
            /// By doc,
            /// two lines.
            async fn r#type(r: &Runner, w: &Worker) {}
        },
    );
    assert!(
        out.contains("name:\"type\",fn_name:\"type\",description:\"Bydoc,\\ntwolines.\""),
        "{out}"
    );
    assert!(out.contains("asyncfn__pt_step_type("), "{out}");
}

#[test]
fn cfg_attributes_also_guard_the_marker_and_the_registration() {
    let out = expand(
        quote!(worker = "w", order = 1),
        quote! {
            #[cfg(feature = "slow")]
            async fn submit(r: &Runner, w: &Worker) {}
        },
    );
    let guarded_marker = format!("#[cfg(feature=\"slow\")]{}", marker("submit"));
    assert!(out.contains(&guarded_marker), "{out}");
    assert!(out.contains("#[cfg(feature=\"slow\")]const_:()="), "{out}");
}

#[test]
fn on_error_the_function_is_emitted_unchanged_with_all_errors() {
    let item = quote!(
        fn submit(r: &Runner) {
            body()
        }
    );
    let out = step(quote!(order = "1"), item.clone());
    let out = compact(&out);
    assert!(out.starts_with(&compact(&item)), "{out}");
    assert!(!out.contains("__pt_"), "{out}");
    for message in [
        "`order` takes an integer literal",
        "missing `worker`",
        "step functions must be `async`",
        "missing parameters",
    ] {
        let message: String = message.split_whitespace().collect();
        assert!(out.contains(&message), "missing {message}\nin {out}");
    }
    assert_eq!(out.matches("compile_error!").count(), 4, "{out}");
}

#[test]
fn not_a_function_keeps_the_item_and_says_where_step_goes() {
    let out = compact(&step(
        quote!(worker = "w", order = 1),
        quote!(
            struct Submit;
        ),
    ));
    assert!(out.starts_with("structSubmit;"), "{out}");
    assert!(
        out.contains("`#[step]`goesonan`asyncfn`:expected`fn`"),
        "{out}"
    );
}

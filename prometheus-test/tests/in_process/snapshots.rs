//! The world on resume: a step that wrote a file the suite names in
//! `snapshots.files` and then failed finds, on the next run, the world as it
//! was before it (and without the restore, its own write).

use prometheus_test::__private::StepDef;
use prometheus_test::{Exit, Runner, Worker};

use crate::support::{SuiteDir, step};

/// Writes `data/notes/round-N.txt`, after checking no earlier attempt did;
/// fails after writing in config.yaml's `fail_in_round`.
fn scribble<'a>(
    runner: &'a Runner,
    _worker: &'a Worker,
) -> prometheus_test::__private::StepFuture<'a> {
    Box::pin(async move {
        let round = runner.current_round();
        let note = runner.data_dir().join(format!("notes/round-{round}.txt"));
        anyhow::ensure!(
            !note.exists(),
            "{} is there: an earlier attempt wrote it",
            note.display()
        );
        std::fs::create_dir_all(note.parent().expect("a folder"))?;
        std::fs::write(&note, format!("round {round}\n"))?;
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(
            fail_in != round,
            "asked to fail in round {round} after writing"
        );
        Ok(())
    })
}

fn steps() -> Vec<&'static StepDef> {
    vec![step("scribble", 1, scribble).line(10).build()]
}

/// A suite of two rounds whose world includes `data/notes`, failing in round 1.
fn suite() -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        "task_id: in-process\nmax_rounds: 2\nfail_in_round: 1\nsnapshots:\n  files: [notes]\n",
    );
    suite.write(
        "workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
    );
    suite
}

const KEYS: &str = "prometheus-test: worker1: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 5hkSWi2FFeLua3y5GGugqhtPWewh8ohPR2qoeaY3YRB1, \
     main DWE5DjKpoiuAjLokRwRcmXsN5X34aiHxrF2MCw85YzUC)\n";

#[test]
fn a_resumed_run_restores_what_the_failed_step_wrote_and_says_so() {
    let suite = suite();
    let failed = suite.run(&steps(), &[], &[]);
    assert_eq!(failed.whole().0, Exit::Failed, "{}", failed.whole().2);
    assert!(suite.data().join("notes/round-1.txt").exists());
    let resumed = suite.run(&steps(), &[], &[("PROMETHEUS_TEST_SET_FAIL_IN_ROUND", "0")]);
    let (exit, out, notes) = resumed.whole();
    let (notes, size) = without_size(notes);
    assert!(
        size.ends_with(" KB") && size[..size.len() - 3].parse::<f64>().is_ok(),
        "the snapshots' size: {size}"
    );
    assert_eq!(
        (exit, out, notes.as_str()),
        (
            Exit::Passed,
            "\nrunning 2 tests\n\
             test [round 1] steps::scribble ... ok (0.00s)\n\
             test [round 2] steps::scribble ... ok (0.00s)\n\
             \n\
             test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            format!(
                "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
                 prometheus-test: restored the world before round 1 steps::scribble (0 collections, 1 file) in 0 ms\n\
                 prometheus-test: resuming round 1 at its first step\n\
                 {KEYS}\
                 prometheus-test: 1 worker ready in 0.00s; 2 steps to play in rounds 1 to 2\n\
                 prometheus-test: snapshots: 2 kept (from round 1 steps::scribble to round 2 steps::scribble), \
                 SIZE in DIR/data/.snapshots; 2 taken, 0.0 ms each (median)\n"
            )
            .as_str()
        )
    );
}

#[test]
fn without_restore_the_resumed_step_finds_its_own_write() {
    let suite = suite();
    suite.run(&steps(), &[], &[]);
    let resumed = suite.run(
        &steps(),
        &["--no-restore"],
        &[("PROMETHEUS_TEST_SET_FAIL_IN_ROUND", "0")],
    );
    assert_eq!(resumed.whole().0, Exit::Failed);
    assert!(
        resumed.whole().1.contains(
            &format!(
                "failed: {} is there: an earlier attempt wrote it\n",
                suite.data().join("notes/round-1.txt").display()
            )
            .replace(&suite.path().display().to_string(), "DIR")
        ),
        "{}",
        resumed.whole().1
    );
}

/// `notes` with the snapshots' size (which varies with inode numbers and
/// times written in their manifests) replaced by `SIZE`, and that size.
fn without_size(notes: &str) -> (String, String) {
    let marker = " in DIR/data/.snapshots;";
    let Some(end) = notes.find(marker) else {
        return (notes.to_owned(), String::new());
    };
    let start = notes[..end].rfind("), ").map_or(end, |i| i + 3);
    let size = notes[start..end].to_owned();
    (format!("{}SIZE{}", &notes[..start], &notes[end..]), size)
}

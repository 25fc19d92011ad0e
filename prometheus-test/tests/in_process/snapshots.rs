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

/// The output of a run resumed after the failure in round 1, which restores
/// the world before it and plays both rounds.
const RESTORED_OUT: &str = "\nrunning 2 tests\n\
     test [round 1] steps::scribble ... ok (0.00s)\n\
     test [round 2] steps::scribble ... ok (0.00s)\n\
     \n\
     test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
     \nreport: DIR/data/report.html\n";

/// The notes of that run (the snapshots' size as `SIZE`).
fn restored_notes() -> String {
    format!(
        "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
         prometheus-test: restored the world before round 1 steps::scribble (0 collections, 1 file) in 0 ms\n\
         prometheus-test: resuming round 1 at its first step\n\
         {KEYS}\
         prometheus-test: 1 worker ready in 0.00s; 2 steps to play in rounds 1 to 2\n\
         prometheus-test: snapshots: 2 kept (from round 1 steps::scribble to round 2 steps::scribble), \
         SIZE in DIR/data/.snapshots; 1 taken, 0.0 ms each (median)\n"
    )
}

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
        (Exit::Passed, RESTORED_OUT, restored_notes().as_str())
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

/// The variable that lets the step pass.
const PASS: (&str, &str) = ("PROMETHEUS_TEST_SET_FAIL_IN_ROUND", "0");

/// The suite of [`suite`], failing in `round` instead.
fn failing_in(round: u32) -> SuiteDir {
    let suite = suite();
    suite.write(
        "config.yaml",
        &format!(
            "task_id: in-process\nmax_rounds: 2\nfail_in_round: {round}\nsnapshots:\n  files: [notes]\n"
        ),
    );
    suite
}

/// The manifest of the snapshot before step `index` of `round`.
fn manifest(suite: &SuiteDir, round: u32, index: usize) -> std::path::PathBuf {
    suite
        .data()
        .join(format!(".snapshots/points/{round}-{index}.json"))
}

#[test]
fn a_no_restore_run_leaves_the_snapshot_it_bypassed_to_the_next_run() {
    let suite = suite();
    suite.run(&steps(), &[], &[]);
    let bypassed = suite.run(&steps(), &["--no-restore"], &[PASS]);
    let (exit, _, notes) = bypassed.whole();
    assert_eq!(
        (exit, without_size(notes).0.as_str()),
        (
            Exit::Failed,
            format!(
                "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
                 prometheus-test: resuming round 1 at its first step\n\
                 {KEYS}\
                 prometheus-test: 1 worker ready in 0.00s; 2 steps to play in rounds 1 to 2\n\
                 prometheus-test: snapshots: 1 kept (from round 1 steps::scribble to round 1 steps::scribble), \
                 SIZE in DIR/data/.snapshots; 0 taken, 0.0 ms each (median)\n\
                 prometheus-test: the next run resumes at round 1 `steps::scribble`; to start over, run \
                 with `--reset` (`cargo test --test <suite> -- --reset`)\n"
            )
            .as_str()
        )
    );
    let resumed = suite.run(&steps(), &[], &[PASS]);
    let (exit, out, notes) = resumed.whole();
    assert_eq!(
        (exit, out, without_size(notes).0.as_str()),
        (Exit::Passed, RESTORED_OUT, restored_notes().as_str())
    );
}

#[test]
fn a_restore_that_finds_the_world_as_kept_says_there_was_nothing_to_restore() {
    let suite = failing_in(2);
    suite.run(&steps(), &[], &[]);
    std::fs::remove_file(suite.data().join("notes/round-2.txt")).unwrap();
    let resumed = suite.run(&steps(), &[], &[PASS]);
    let (exit, _, notes) = resumed.whole();
    assert_eq!(exit, Exit::Passed, "{notes}");
    assert_eq!(
        notes.lines().nth(1),
        Some(
            "prometheus-test: the world before round 2 steps::scribble was already as kept: \
             nothing to restore"
        )
    );
}

#[test]
fn a_damaged_snapshot_no_restore_needs_is_set_aside_with_a_warning() {
    let suite = failing_in(2);
    suite.run(&steps(), &[], &[]);
    std::fs::write(manifest(&suite, 1, 0), r#"{"point":{"#).unwrap();
    let resumed = suite.run(&steps(), &[], &[PASS]);
    let (exit, out, notes) = resumed.whole();
    assert_eq!(
        (exit, out, without_size(notes).0.as_str()),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 2] steps::scribble ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            format!(
                "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
                 prometheus-test: warning: the snapshot before round 1 steps::scribble cannot be used, \
                 so it is set aside as DIR/data/.snapshots/points/1-0.json.damaged: \
                 DIR/data/.snapshots/points/1-0.json is damaged: it is not whole JSON \
                 (EOF while parsing an object at line 1 column 10)\n\
                 prometheus-test: restored the world before round 2 steps::scribble (0 collections, 1 file) in 0 ms\n\
                 prometheus-test: resuming round 2 at its first step\n\
                 {KEYS}\
                 prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 2\n\
                 prometheus-test: snapshots: 1 kept (from round 2 steps::scribble to round 2 steps::scribble), \
                 SIZE in DIR/data/.snapshots; 0 taken, 0.0 ms each (median)\n"
            )
            .as_str()
        )
    );
    assert_eq!(
        std::fs::read_to_string(suite.data().join(".snapshots/points/1-0.json.damaged")).unwrap(),
        r#"{"point":{"#,
        "set aside, not deleted"
    );
}

#[test]
fn a_damaged_snapshot_the_resume_needs_says_which_and_how_to_go_on() {
    let suite = failing_in(2);
    suite.run(&steps(), &[], &[]);
    std::fs::write(manifest(&suite, 2, 0), r#"{"point": 1}"#).unwrap();
    let state = suite.state_text();
    let refused = suite.run(&steps(), &[], &[PASS]);
    assert_eq!(
        refused.whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
             prometheus-test: error: the snapshot before round 2 steps::scribble, where this run \
             resumes, cannot be used: DIR/data/.snapshots/points/2-0.json is not a snapshot manifest \
             of this version (invalid type: integer `1`, expected struct Point at line 1 column 11); \
             to go on, rewind with `--from` to another kept point (the nearest kept one: \
             round 1 steps::scribble (before it)), resume in the world as it is with `--no-restore`, \
             or start over with `--reset`; nothing was changed\n"
        )
    );
    let rewind_to_it = suite.run(&steps(), &["--from", "round 2 steps::scribble"], &[PASS]);
    assert_eq!(
        rewind_to_it.whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: config overrides: fail_in_round=0 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n\
             prometheus-test: error: `--from round 2 steps::scribble`: the snapshot before round 2 \
             steps::scribble cannot be used: DIR/data/.snapshots/points/2-0.json is not a snapshot \
             manifest of this version (invalid type: integer `1`, expected struct Point at line 1 \
             column 11); rewind to another kept point (the nearest kept one: round 1 \
             steps::scribble (before it)) or start over with `--reset`; nothing was changed\n"
        )
    );
    assert_eq!(suite.state_text(), state, "nothing was changed");
    assert!(suite.data().join("notes/round-2.txt").exists());
    let rewound = suite.run(&steps(), &["--from", "round 1 steps::scribble"], &[PASS]);
    assert_eq!(rewound.whole().0, Exit::Passed, "{}", rewound.whole().2);
}

#[test]
fn an_empty_from_is_an_error_and_changes_nothing() {
    let suite = failing_in(0);
    assert_eq!(suite.run(&steps(), &[], &[]).whole().0, Exit::Passed);
    let state = suite.state_text();
    for args in [&["--from", ""][..], &["--from= "][..]] {
        assert_eq!(
            suite.run(&steps(), args, &[]).whole(),
            (
                Exit::SetupFailed,
                "",
                "prometheus-test: error: `--from` is empty; expected a point `round N STEP`, \
                 like `round 2 steps::audit::audits_its_peer[worker3]`\n"
            ),
            "{args:?}"
        );
    }
    assert_eq!(suite.state_text(), state, "no fresh run started");
}

#[test]
fn a_snapshots_path_that_is_not_a_folder_is_an_error_before_anything_changes() {
    let suite = failing_in(0);
    assert_eq!(suite.run(&steps(), &[], &[]).whole().0, Exit::Passed);
    let store = suite.data().join(".snapshots");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, "not a folder").unwrap();
    let state = suite.state_text();
    assert_eq!(
        suite.run(&steps(), &[], &[]).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/data/.snapshots is not a folder: it is where the \
             snapshots are kept, so it must be a folder or absent; move it away, then run again \
             (nothing was changed)\n"
        )
    );
    assert_eq!(suite.state_text(), state, "no fresh run started");
    assert!(suite.data().join("notes/round-2.txt").exists());
    assert_eq!(std::fs::read_to_string(&store).unwrap(), "not a folder");
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

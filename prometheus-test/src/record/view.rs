//! What the HTML report's script draws that is more than the record: step
//! ids, the fragments that open a step, the grid's columns, the worker
//! changes each step made and the lane of each fault's mark. Decided here
//! so it is tested in Rust; `report.js` only reads it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{Fault, RunRecord, WorkerEventKind};

/// The record as the report embeds it: its fields, then `view`.
#[derive(Debug, Serialize)]
pub(crate) struct ReportData<'a> {
    #[serde(flatten)]
    pub(crate) run: &'a RunRecord,
    pub(crate) view: View,
    /// The folder beside the page, relative to it, that holds the detail
    /// files of the rounds with a `detail` (only when a round has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail_folder: Option<&'a str>,
}

/// Derived from a record for the report's script.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct View {
    /// The grid's columns: the steps in plan order (the record's
    /// `step_order`), then any other step in the order it first ran.
    pub(crate) columns: Vec<Column>,
    /// Each step's id (`round3/steps::audit[worker2]`), by round and step,
    /// parallel to the record's `rounds[i].steps[j]`.
    pub(crate) ids: Vec<Vec<String>>,
    /// Other fragments that open a step, to its id: the round and the test
    /// name as the test output prints it (`round3/steps::audit`).
    pub(crate) aliases: BTreeMap<String, String>,
    /// The worker changes each step made, by step id (only steps that made
    /// one), in the order they happened.
    pub(crate) changes: BTreeMap<String, Vec<WorkerChange>>,
    /// A mark on a timeline for each fault, in time order (absent when the
    /// run met none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) fault_marks: Vec<FaultMark>,
}

/// A fault on a timeline: on the lane of the worker it struck, or that its
/// link leads to (else comes from).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FaultMark {
    pub(crate) worker: String,
    /// When it was injected, from the run's start.
    pub(crate) at_ms: u64,
    /// The mark's tooltip: the fault as the reports list it, with the step
    /// when it is between steps
    /// (`runner->worker2 GET /health reset (after steps::submit)`).
    pub(crate) text: String,
}

/// A worker's start, stop, kill, pause or resume that a step made: the
/// record's `workers[…].events[event]` of the worker named `worker`.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct WorkerChange {
    pub(crate) worker: String,
    pub(crate) event: usize,
}

/// One column of the rounds × steps grid: one step (one instance of a
/// multi-worker step).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Column {
    /// The step's test name; cells are placed by it.
    pub(crate) name: String,
    /// The header's first line: the function's name (`does_the_task`).
    pub(crate) function: String,
    /// The header's second line, never cut: the instance's worker
    /// (`[worker2]`), empty for a one-worker step.
    pub(crate) instance: String,
    /// The header's tooltip: `steps::audit on worker2`.
    pub(crate) title: String,
}

impl View {
    /// The view of `record`.
    pub(crate) fn of(record: &RunRecord) -> Self {
        let mut columns: Vec<Column> = Vec::new();
        let mut ids = Vec::with_capacity(record.rounds.len());
        let mut aliases = BTreeMap::new();
        for round in &record.rounds {
            let mut round_ids = Vec::with_capacity(round.steps.len());
            for step in &round.steps {
                let id = step.id(round.number);
                let as_printed = format!("round{}/{}", round.number, step.path);
                if as_printed != id {
                    aliases.insert(as_printed, id.clone());
                }
                round_ids.push(id);
                if !columns.iter().any(|column| column.name == step.path) {
                    let instance = step.instance_suffix().unwrap_or_default();
                    let function = step.path[..step.path.len() - instance.len()]
                        .rsplit("::")
                        .next()
                        .unwrap_or_default();
                    columns.push(Column {
                        name: step.path.clone(),
                        function: function.to_owned(),
                        instance: instance.to_owned(),
                        title: format!("{} on {}", step.path, step.worker),
                    });
                }
            }
            ids.push(round_ids);
        }
        let planned = |column: &Column| {
            record
                .step_order
                .iter()
                .position(|name| *name == column.name)
                .unwrap_or(usize::MAX)
        };
        // Stable: steps the plan does not name keep the order they ran in.
        columns.sort_by_key(planned);
        let changes = changes_by_step(record, &ids);
        Self {
            columns,
            ids,
            aliases,
            changes,
            fault_marks: fault_marks(record),
        }
    }
}

/// The marks of the record's faults that fall on a worker's lane.
fn fault_marks(record: &RunRecord) -> Vec<FaultMark> {
    let in_steps = record
        .steps()
        .flat_map(|(_, step)| step.faults.iter().map(|fault| (fault, false)));
    let between = record
        .faults_between_steps
        .iter()
        .map(|fault| (fault, true));
    let mut marks: Vec<FaultMark> = in_steps
        .chain(between)
        .filter_map(|(fault, between)| {
            Some(FaultMark {
                worker: lane(fault, record)?.to_owned(),
                at_ms: fault.at_ms,
                text: if between {
                    format!("{fault} ({})", fault.step)
                } else {
                    fault.to_string()
                },
            })
        })
        .collect();
    marks.sort_by_key(|mark| mark.at_ms);
    marks
}

/// The worker whose lane shows `fault`: the one it struck, or the one its
/// link (`from->to`) leads to, else the one it comes from; none when its
/// link joins no worker of the run.
fn lane<'a>(fault: &'a Fault, record: &RunRecord) -> Option<&'a str> {
    let is_worker = |name: &str| record.workers.iter().any(|w| w.name == name);
    if let Some(worker) = &fault.worker {
        return Some(worker.as_str()).filter(|w| is_worker(w));
    }
    let (from, to) = fault.link.as_deref()?.split_once("->")?;
    [to, from].into_iter().find(|name| is_worker(name))
}

/// Which step made each worker change, from the times: steps run one at a
/// time, and a change a step makes is recorded while it runs, so it is the
/// step that started last at or before the change, if that step had not
/// ended yet. (A change at the very millisecond one step ends and the next
/// starts is the next one's.) A worker exiting by itself, and the starts of
/// the run, are no step's.
fn changes_by_step(record: &RunRecord, ids: &[Vec<String>]) -> BTreeMap<String, Vec<WorkerChange>> {
    let mut spans: Vec<(u64, u64, &str)> = record
        .rounds
        .iter()
        .zip(ids)
        .flat_map(|(round, ids)| {
            round.steps.iter().zip(ids).map(|(step, id)| {
                let end = step.started_ms.saturating_add(step.duration_ms);
                (step.started_ms, end, id.as_str())
            })
        })
        .collect();
    // Stable: steps that started in the same millisecond keep their order.
    spans.sort_by_key(|&(start, _, _)| start);
    let mut changes: BTreeMap<String, Vec<(u64, WorkerChange)>> = BTreeMap::new();
    for worker in &record.workers {
        for (event, happened) in worker.events.iter().enumerate() {
            if matches!(happened.kind, WorkerEventKind::Exited { .. }) {
                continue;
            }
            let started = spans.partition_point(|&(start, _, _)| start <= happened.at_ms);
            let Some(&(_, end, id)) = started.checked_sub(1).and_then(|last| spans.get(last))
            else {
                continue;
            };
            if happened.at_ms <= end {
                changes.entry(id.to_owned()).or_default().push((
                    happened.at_ms,
                    WorkerChange {
                        worker: worker.name.clone(),
                        event,
                    },
                ));
            }
        }
    }
    changes
        .into_iter()
        .map(|(id, mut list)| {
            list.sort_by_key(|&(at, _)| at);
            (id, list.into_iter().map(|(_, change)| change).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::StopHow;
    use crate::record::model::{
        Outcome, RoundRecord, RunStart, StepRecord, WorkerEvent, WorkerRecord,
    };

    fn step(path: &str, worker: &str) -> StepRecord {
        StepRecord {
            path: path.into(),
            worker: worker.into(),
            started_ms: 0,
            duration_ms: 1,
            outcome: Outcome::Passed { attempts: 1 },
            exchanges: vec![],
            log: vec![],
            faults: vec![],
        }
    }

    fn record(rounds: Vec<(u32, Vec<StepRecord>)>, step_order: &[&str]) -> RunRecord {
        RunRecord {
            task_id: "t".into(),
            started_at_unix_ms: 0,
            duration_ms: 0,
            start: RunStart::Fresh,
            workers: vec![],
            rounds: rounds
                .into_iter()
                .map(|(number, steps)| RoundRecord {
                    number,
                    steps,
                    detail: None,
                })
                .collect(),
            step_order: step_order.iter().map(|name| (*name).to_owned()).collect(),
            faults_between_steps: vec![],
            detail_dir: None,
            detail_problems: vec![],
        }
    }

    fn column(name: &str, function: &str, instance: &str, worker: &str) -> Column {
        Column {
            name: name.into(),
            function: function.into(),
            instance: instance.into(),
            title: format!("{name} on {worker}"),
        }
    }

    #[test]
    fn a_multi_worker_instance_carries_its_worker_once() {
        let view = View::of(&record(
            vec![(
                3,
                vec![
                    step("steps::does_the_task[worker2]", "worker2"),
                    step("steps::audit", "worker1"),
                ],
            )],
            &[],
        ));
        assert_eq!(
            view,
            View {
                columns: vec![
                    column(
                        "steps::does_the_task[worker2]",
                        "does_the_task",
                        "[worker2]",
                        "worker2"
                    ),
                    column("steps::audit", "audit", "", "worker1"),
                ],
                ids: vec![vec![
                    "round3/steps::does_the_task[worker2]".into(),
                    "round3/steps::audit[worker1]".into(),
                ]],
                aliases: BTreeMap::from([(
                    "round3/steps::audit".into(),
                    "round3/steps::audit[worker1]".into()
                )]),
                changes: BTreeMap::new(),
                fault_marks: vec![],
            }
        );
    }

    #[test]
    fn after_a_resume_the_columns_follow_the_plan() {
        // Resumed at round 1's `submit`: round 1 starts there, round 2 plays
        // every step; `extra` is a step the plan does not name.
        let rounds = vec![
            (
                1,
                vec![step("steps::submit", "w1"), step("steps::audit", "w2")],
            ),
            (
                2,
                vec![
                    step("steps::fetch", "w1"),
                    step("steps::submit", "w1"),
                    step("steps::extra", "w1"),
                    step("steps::audit", "w2"),
                ],
            ),
        ];
        let plan = ["steps::fetch", "steps::submit", "steps::audit"];
        let names = |view: View| -> Vec<String> {
            view.columns.into_iter().map(|column| column.name).collect()
        };
        assert_eq!(
            names(View::of(&record(rounds.clone(), &plan))),
            [
                "steps::fetch",
                "steps::submit",
                "steps::audit",
                "steps::extra"
            ]
        );
        // Without the plan, the order the steps first ran in.
        assert_eq!(
            names(View::of(&record(rounds, &[]))),
            [
                "steps::submit",
                "steps::audit",
                "steps::fetch",
                "steps::extra"
            ]
        );
    }

    fn timed(path: &str, worker: &str, started_ms: u64, duration_ms: u64) -> StepRecord {
        StepRecord {
            started_ms,
            duration_ms,
            ..step(path, worker)
        }
    }

    fn worker(name: &str, events: &[(u64, WorkerEventKind)]) -> WorkerRecord {
        WorkerRecord {
            name: name.into(),
            public_key: None,
            events: events
                .iter()
                .map(|(at_ms, kind)| WorkerEvent {
                    at_ms: *at_ms,
                    kind: kind.clone(),
                })
                .collect(),
        }
    }

    fn change(worker: &str, event: usize) -> WorkerChange {
        WorkerChange {
            worker: worker.into(),
            event,
        }
    }

    #[test]
    fn a_worker_change_belongs_to_the_step_running_when_it_happened() {
        let mut run = record(
            vec![
                (
                    1,
                    vec![
                        timed("steps::pause", "w1", 100, 100),
                        timed("steps::audit", "w2", 200, 100),
                    ],
                ),
                (2, vec![timed("steps::restart", "w1", 310, 90)]),
            ],
            &[],
        );
        let stopped = WorkerEventKind::Stopped {
            how: StopHow::Kill,
            code: None,
            signal: Some(9),
        };
        let exited = WorkerEventKind::Exited {
            code: Some(1),
            signal: None,
        };
        run.workers = vec![
            worker(
                "w1",
                &[
                    // The run's start: before every step.
                    (5, WorkerEventKind::Started),
                    (150, WorkerEventKind::Paused),
                    // As `pause` ends and `audit` starts: `audit`'s.
                    (200, WorkerEventKind::Resumed),
                    // Between two steps: no step's.
                    (305, stopped),
                    // By itself: no step's.
                    (350, exited),
                    (360, WorkerEventKind::Started),
                ],
            ),
            worker("w2", &[(120, WorkerEventKind::Paused)]),
        ];
        assert_eq!(
            View::of(&run).changes,
            BTreeMap::from([
                (
                    "round1/steps::pause[w1]".to_owned(),
                    vec![change("w2", 0), change("w1", 1)]
                ),
                ("round1/steps::audit[w2]".to_owned(), vec![change("w1", 2)]),
                (
                    "round2/steps::restart[w1]".to_owned(),
                    vec![change("w1", 5)]
                ),
            ])
        );
    }

    #[test]
    fn a_fault_is_marked_on_the_lane_of_the_worker_it_struck_or_its_link_reaches() {
        let fault = |step: &str, at_ms: u64, link: Option<&str>, worker: Option<&str>| Fault {
            round: 1,
            step: step.into(),
            attempt: 0,
            link: link.map(Into::into),
            worker: worker.map(Into::into),
            n: link.map(|_| 0),
            request: link.map(|_| "GET /x".into()),
            fault: "reset".into(),
            by: None,
            outcome: None,
            at_ms,
        };
        let mut audit = timed("steps::audit", "w1", 10, 50);
        audit.faults = vec![
            fault("steps::audit", 30, Some("w1->api.example.com"), None),
            fault("steps::audit", 20, Some("runner->w2"), None),
            fault("steps::audit", 40, None, Some("w2")),
            // Joins no worker: no lane.
            fault("steps::audit", 45, Some("runner->api.example.com"), None),
        ];
        let mut run = record(vec![(1, vec![audit])], &[]);
        run.workers = vec![worker("w1", &[]), worker("w2", &[])];
        run.faults_between_steps = vec![fault("after steps::audit", 70, Some("w2->w1"), None)];
        let mark = |worker: &str, at_ms: u64, text: &str| FaultMark {
            worker: worker.into(),
            at_ms,
            text: text.into(),
        };
        assert_eq!(
            View::of(&run).fault_marks,
            [
                mark("w2", 20, "runner->w2 GET /x reset"),
                mark("w1", 30, "w1->api.example.com GET /x reset"),
                mark("w2", 40, "w2 reset"),
                mark("w1", 70, "w2->w1 GET /x reset (after steps::audit)"),
            ]
        );
    }
}

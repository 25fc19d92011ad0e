//! Filling a [`RunRecord`] while a run plays, redacting everything on the way in.

use std::path::Path;

use super::body::{Body, CaptureLimits};
use super::detail::{DetailFolder, StepDetail};
use super::model::{
    Exchange, Fault, LogLine, Message, Outcome, RoundRecord, RunRecord, RunStart, StepRecord,
    WorkerEvent, WorkerEventKind, WorkerRecord,
};
use super::redact::Redactor;
use super::signatures::decode_signatures_with_text;

/// A request or response as the HTTP client saw it, before redaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawMessage<'a> {
    /// Header names and values.
    pub(crate) headers: &'a [(String, String)],
    /// The body's bytes.
    pub(crate) body: &'a [u8],
}

/// One HTTP exchange as the HTTP client saw it, before redaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawExchange<'a> {
    /// `GET`, `POST`, …
    pub(crate) method: &'a str,
    /// The full URL.
    pub(crate) url: &'a str,
    /// When it was sent, from the run's start.
    pub(crate) started_ms: u64,
    /// Until the response's body was read or the request failed.
    pub(crate) duration_ms: u64,
    /// What was sent.
    pub(crate) request: RawMessage<'a>,
    /// The status and response, or the transport error.
    pub(crate) response: Result<(u16, RawMessage<'a>), &'a str>,
}

/// An exchange as sent and received, kept until it is redacted and decoded.
#[derive(Debug, Clone)]
pub(crate) struct OwnedExchange {
    pub(crate) method: String,
    pub(crate) url: String,
    /// When it was sent, from the run's start: set by the recording stage
    /// when the exchange reaches it (its end, less its duration).
    pub(crate) started_ms: u64,
    pub(crate) duration_ms: u64,
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) request_body: Vec<u8>,
    /// The response, or the transport error.
    pub(crate) response: Result<OwnedResponse, String>,
    /// Who made it, when not the step through `runner.http()`.
    pub(crate) origin: Option<super::model::Origin>,
}

/// Status, headers and body of a response as received.
pub(crate) type OwnedResponse = (u16, Vec<(String, String)>, bytes::Bytes);

/// How many of the latest rounds keep their exchanges and log lines in
/// memory when the recorder has a [detail folder](Recorder::keep_detail_in):
/// older rounds' go to files, so a run of this many rounds or fewer has a
/// self-contained report.
pub(crate) const ROUNDS_IN_MEMORY: usize = 8;

/// Builds the record of a run step by step; see the [module](super) docs.
#[derive(Debug)]
pub(crate) struct Recorder {
    record: RunRecord,
    redactor: Redactor,
    limits: CaptureLimits,
    /// Where the step being played sits: (round index, step index).
    current: Option<(usize, usize)>,
    /// Exchanges taken while a step runs, with the step they belong to;
    /// redacted and decoded when the step finishes (off the request's path).
    pending: Vec<((usize, usize), OwnedExchange)>,
    /// Where older rounds' detail goes: the folder's path until the first
    /// round is written there, then the folder.
    detail: Option<DetailTarget>,
    /// How many rounds, from the first, have their detail in files.
    rounds_in_files: usize,
}

#[derive(Debug)]
enum DetailTarget {
    Planned(std::path::PathBuf),
    Created(DetailFolder),
}

impl Recorder {
    /// Starts the record of a run. `workers` are (name, base58 public key).
    pub(crate) fn new(
        task_id: &str,
        started_at_unix_ms: u64,
        start: RunStart,
        workers: &[(String, Option<String>)],
        redactor: Redactor,
        limits: CaptureLimits,
    ) -> Self {
        let workers = workers
            .iter()
            .map(|(name, public_key)| WorkerRecord {
                name: name.clone(),
                public_key: public_key.clone(),
                events: Vec::new(),
            })
            .collect();
        Self {
            record: RunRecord {
                task_id: redactor.redact(task_id),
                started_at_unix_ms,
                duration_ms: 0,
                start,
                workers,
                rounds: Vec::new(),
                step_order: Vec::new(),
                faults_between_steps: Vec::new(),
                detail_dir: None,
                detail_problems: Vec::new(),
            },
            redactor,
            limits,
            current: None,
            pending: Vec::new(),
            detail: None,
            rounds_in_files: 0,
        }
    }

    /// Keeps the detail (exchanges, log lines) of all but the latest
    /// [`ROUNDS_IN_MEMORY`] rounds in files in `dir`, created (and emptied of
    /// an earlier run's files) when the first round goes there.
    pub(crate) fn keep_detail_in(&mut self, dir: &Path) {
        self.detail = Some(DetailTarget::Planned(dir.to_path_buf()));
    }

    /// Adds a secret found while the run plays (`runner.secret(label, value)`)
    /// and takes it out of everything recorded so far.
    ///
    /// A secret it already knows changes nothing and costs nothing; a new
    /// one is also taken out of the rounds whose detail is in files, each
    /// file rewritten when the secret is in it (removed when that fails).
    pub(crate) fn secret(&mut self, label: &str, value: &str) {
        self.flush();
        let known = self.redactor.form_count();
        self.redactor.secret(label, value);
        if self.redactor.form_count() == known {
            return;
        }
        redact_record(&mut self.record, &self.redactor);
        self.redact_detail_files();
    }

    /// Applies the redactor again to the rounds whose detail is in files.
    fn redact_detail_files(&mut self) {
        let Some(DetailTarget::Created(folder)) = &self.detail else {
            return;
        };
        for round in &mut self.record.rounds[..self.rounds_in_files] {
            let Some(name) = round.detail.clone() else {
                continue;
            };
            let redacted = folder.read(&name).and_then(|mut steps| {
                let before = steps.clone();
                for step in &mut steps {
                    redact_detail(&mut step.exchanges, &mut step.log, &self.redactor);
                }
                if steps == before {
                    Ok(())
                } else {
                    folder.write(&name, steps)
                }
            });
            if let Err(err) = redacted {
                // The file may hold the new secret: it goes, with its detail.
                let path = folder.path().join(&name);
                let removed = match std::fs::remove_file(&path) {
                    Ok(()) => "removed it".to_owned(),
                    Err(remove) => format!("could not remove it either ({remove}): delete it"),
                };
                self.record.detail_problems.push(format!(
                    "cannot take a new secret out of round {}'s detail in {}: {err}; {removed}",
                    round.number,
                    path.display()
                ));
                round.detail = None;
            }
        }
    }

    /// Says how the run began (fresh, or resumed at a round and step).
    pub(crate) fn set_start(&mut self, start: RunStart) {
        self.record.start = start;
    }

    /// Gives the steps' test names in plan (`order`) order, as `begin_step`
    /// will name them; the report's grid shows its columns in this order.
    /// Called once, before the first step.
    pub(crate) fn set_step_order(&mut self, names: Vec<String>) {
        self.record.step_order = names;
    }

    /// Starts round `number`; with a detail folder, older rounds' detail
    /// leaves memory for it.
    pub(crate) fn begin_round(&mut self, number: u32) {
        self.flush();
        self.record.rounds.push(RoundRecord {
            number,
            steps: Vec::new(),
            detail: None,
        });
        self.current = None;
        self.move_detail_to_files();
    }

    /// Writes the detail of every round but the latest [`ROUNDS_IN_MEMORY`]
    /// to the detail folder and drops it from memory. A folder or file that
    /// cannot be written is a problem noted once; the detail then stays in
    /// memory.
    fn move_detail_to_files(&mut self) {
        let keep_from = self.record.rounds.len().saturating_sub(ROUNDS_IN_MEMORY);
        while self.rounds_in_files < keep_from {
            let folder = match self.detail.take() {
                None => return,
                Some(DetailTarget::Created(folder)) => folder,
                Some(DetailTarget::Planned(dir)) => match DetailFolder::create(&dir) {
                    Ok(folder) => {
                        self.record.detail_dir = Some(folder.path().to_path_buf());
                        folder
                    }
                    Err(err) => {
                        self.record.detail_problems.push(format!(
                            "cannot keep rounds' detail in {}: {err}; it stays in memory",
                            dir.display()
                        ));
                        return;
                    }
                },
            };
            let round = &mut self.record.rounds[self.rounds_in_files];
            let name = DetailFolder::file_name(round.number);
            let steps: Vec<StepDetail> = round.steps.iter_mut().map(StepDetail::take).collect();
            if let Err(err) = folder.write(&name, steps.clone()) {
                for (step, detail) in round.steps.iter_mut().zip(steps) {
                    detail.restore(step);
                }
                self.record.detail_problems.push(format!(
                    "cannot write round {}'s detail to {}: {err}; later rounds' stays in memory",
                    round.number,
                    folder.path().join(&name).display()
                ));
                return;
            }
            round.detail = Some(name);
            self.rounds_in_files += 1;
            self.detail = Some(DetailTarget::Created(folder));
        }
    }

    /// Starts step `path` on `worker` in the current round.
    pub(crate) fn begin_step(&mut self, path: &str, worker: &str, at_ms: u64) {
        let round_index = self.record.rounds.len().saturating_sub(1);
        let Some(round) = self.record.rounds.last_mut() else {
            return;
        };
        round.steps.push(StepRecord {
            path: path.to_owned(),
            worker: worker.to_owned(),
            started_ms: at_ms,
            duration_ms: 0,
            outcome: Outcome::Passed { attempts: 1 },
            exchanges: Vec::new(),
            log: Vec::new(),
            faults: Vec::new(),
        });
        self.current = Some((round_index, round.steps.len() - 1));
    }

    /// Ends the current step with `outcome` (its text is redacted here).
    pub(crate) fn finish_step(&mut self, outcome: Outcome, at_ms: u64) {
        self.flush();
        let outcome = outcome.map_text(|text| self.redactor.redact(text));
        if let Some(step) = self.current_step() {
            step.duration_ms = at_ms.saturating_sub(step.started_ms);
            step.outcome = outcome;
        }
        self.current = None;
    }

    /// Records an exchange against the current step (none: it is dropped).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the HTTP handle defers its exchanges")
    )]
    pub(crate) fn exchange(&mut self, raw: &RawExchange<'_>) {
        let exchange = self.redacted_exchange(raw);
        if let Some(step) = self.current_step() {
            step.exchanges.push(exchange);
        }
    }

    /// Keeps an exchange of the current step as it is, to be redacted and
    /// decoded when the step finishes (none running: it is dropped).
    pub(crate) fn defer_exchange(&mut self, exchange: OwnedExchange) {
        if let Some(at) = self.current {
            self.pending.push((at, exchange));
        }
    }

    /// Redacts, decodes and files the deferred exchanges.
    fn flush(&mut self) {
        for ((round, step), owned) in std::mem::take(&mut self.pending) {
            let response = match &owned.response {
                Ok((status, headers, body)) => Ok((*status, RawMessage { headers, body })),
                Err(error) => Err(error.as_str()),
            };
            let mut exchange = self.redacted_exchange(&RawExchange {
                method: &owned.method,
                url: &owned.url,
                started_ms: owned.started_ms,
                duration_ms: owned.duration_ms,
                request: RawMessage {
                    headers: &owned.request_headers,
                    body: &owned.request_body,
                },
                response,
            });
            exchange.origin = owned.origin;
            if let Some(step) = self
                .record
                .rounds
                .get_mut(round)
                .and_then(|r| r.steps.get_mut(step))
            {
                step.exchanges.push(exchange);
            }
        }
    }

    /// Records a line `worker` printed; it belongs to the current step when
    /// that step runs on `worker`.
    pub(crate) fn worker_log(&mut self, line: &LogLine) {
        let text = self
            .redactor
            .redact(line.text.trim_end_matches(['\n', '\r']));
        if let Some(step) = self.current_step()
            && step.worker == line.worker
        {
            step.log
                .push(LogLine::new(line.worker.as_str(), line.stream, text));
        }
    }

    /// Records a worker's process starting or exiting.
    pub(crate) fn worker_event(&mut self, worker: &str, at_ms: u64, kind: WorkerEventKind) {
        if let Some(record) = self.record.workers.iter_mut().find(|w| w.name == worker) {
            record.events.push(WorkerEvent { at_ms, kind });
        }
    }

    /// Records a fault (timed from the run's start), redacted, with the step
    /// execution it names (the latest of that name in its round), or with
    /// the faults between steps when it names none. The end of a faulted
    /// request completes the entry of its injection. Returns it as recorded.
    pub(crate) fn fault(&mut self, mut fault: Fault) -> Fault {
        redact_fault(&mut fault, &self.redactor);
        let step = self
            .record
            .rounds
            .iter_mut()
            .rev()
            .filter(|round| round.number == fault.round)
            .flat_map(|round| round.steps.iter_mut().rev())
            .find(|step| step.path == fault.step);
        let list = match step {
            Some(step) => &mut step.faults,
            None => &mut self.record.faults_between_steps,
        };
        let injected = fault.outcome.as_ref().and_then(|_| {
            list.iter_mut().rev().find(|seen| {
                seen.outcome.is_none()
                    && seen.n.is_some()
                    && (&seen.step, seen.attempt, &seen.link, seen.n, &seen.fault)
                        == (
                            &fault.step,
                            fault.attempt,
                            &fault.link,
                            fault.n,
                            &fault.fault,
                        )
            })
        });
        match injected {
            Some(seen) => seen.outcome.clone_from(&fault.outcome),
            None => list.push(fault.clone()),
        }
        fault
    }

    /// `text` with the run's secrets replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The redactor: what it knows and what it has replaced so far.
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The record so far.
    pub(crate) fn record(&mut self) -> &RunRecord {
        self.flush();
        &self.record
    }

    /// The finished record of a run that lasted `duration_ms`.
    pub(crate) fn finish(mut self, duration_ms: u64) -> RunRecord {
        self.flush();
        self.record.duration_ms = duration_ms;
        self.record
    }

    fn current_step(&mut self) -> Option<&mut StepRecord> {
        let (round, step) = self.current?;
        self.record.rounds.get_mut(round)?.steps.get_mut(step)
    }

    fn redacted_exchange(&self, raw: &RawExchange<'_>) -> Exchange {
        let known_keys: Vec<(String, String)> = self
            .record
            .workers
            .iter()
            .filter_map(|w| Some((w.name.clone(), w.public_key.clone()?)))
            .collect();
        let mut signatures = Vec::new();
        let mut message = |side: &str, raw: &RawMessage<'_>| {
            let Ok(text) = std::str::from_utf8(raw.body) else {
                return self.message(raw.headers, raw.body);
            };
            let mut text = text.to_owned();
            for (mut found, signed) in decode_signatures_with_text(&text.clone(), &known_keys) {
                found.location = format!("{side}{}", found.location);
                let redacted = self.redactor.redact_json(&found.payload);
                if redacted != found.payload {
                    // The signed text carries the secret too, in a form no
                    // search finds: it goes, its redacted payload stays.
                    text = text.replace(&signed, "[redacted: signed payload holding a secret]");
                }
                found.payload = redacted;
                signatures.push(found);
            }
            self.message(raw.headers, text.as_bytes())
        };
        let request = message("request", &raw.request);
        let (status, response, error) = match raw.response {
            Ok((status, ref response)) => (Some(status), Some(message("response", response)), None),
            Err(error) => (None, None, Some(self.redactor.redact(error))),
        };
        Exchange {
            method: raw.method.to_owned(),
            url: self.redactor.redact(raw.url),
            started_ms: raw.started_ms,
            duration_ms: raw.duration_ms,
            request,
            status,
            response,
            error,
            signatures,
            origin: None,
        }
    }

    /// Headers and body redacted; the body is redacted whole, then cut.
    fn message(&self, headers: &[(String, String)], body: &[u8]) -> Message {
        let content_type = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.as_str());
        let body = match std::str::from_utf8(body) {
            Ok(text) => Body::capture(
                self.redactor.redact_body(text).as_bytes(),
                content_type,
                self.limits,
            ),
            Err(_) => Body::capture(body, content_type, self.limits),
        };
        Message {
            headers: self.redactor.redact_headers(headers),
            body,
        }
    }
}

/// Applies `redactor` again to every text in `record`.
fn redact_record(record: &mut RunRecord, redactor: &Redactor) {
    for step in record.rounds.iter_mut().flat_map(|r| r.steps.iter_mut()) {
        step.outcome = step.outcome.clone().map_text(|text| redactor.redact(text));
        redact_detail(&mut step.exchanges, &mut step.log, redactor);
        for fault in &mut step.faults {
            redact_fault(fault, redactor);
        }
    }
    for fault in &mut record.faults_between_steps {
        redact_fault(fault, redactor);
    }
}

/// Applies `redactor` to a fault's texts. Its request is a method and a
/// path (the history keeps no query), which a secret may still be part of.
fn redact_fault(fault: &mut Fault, redactor: &Redactor) {
    let texts = [
        &mut fault.link,
        &mut fault.worker,
        &mut fault.request,
        &mut fault.by,
        &mut fault.outcome,
    ];
    for text in texts.into_iter().flatten() {
        *text = redactor.redact(text);
    }
    fault.fault = redactor.redact(&fault.fault);
}

/// Applies `redactor` again to a step's exchanges and log lines.
fn redact_detail(exchanges: &mut [Exchange], log: &mut [LogLine], redactor: &Redactor) {
    for line in log.iter_mut() {
        line.text = redactor.redact(&line.text);
    }
    for exchange in exchanges.iter_mut() {
        exchange.url = redactor.redact(&exchange.url);
        exchange.error = exchange.error.as_deref().map(|e| redactor.redact(e));
        for message in std::iter::once(&mut exchange.request).chain(exchange.response.as_mut()) {
            message.headers = redactor.redact_headers(&message.headers);
            if let Body::Text { text, .. } = &mut message.body {
                *text = redactor.redact(text);
            }
        }
        for found in &mut exchange.signatures {
            found.payload = redactor.redact_json(&found.payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::record::detail::DetailFolder;
    use crate::record::model::{DecodedSignature, Signer, Stream};
    use crate::record::view::View;
    use crate::{Keypair, create_signature};

    fn recorder(redactor: Redactor) -> Recorder {
        let worker1 = Keypair::from_seed([1; 32]);
        Recorder::new(
            "task-1",
            1_700_000_000_000,
            RunStart::Fresh,
            &[("worker1".into(), Some(worker1.public_key().into()))],
            redactor,
            CaptureLimits { body_bytes: 40 },
        )
    }

    fn fault(step: &str, n: Option<u64>, fault: &str, outcome: Option<&str>) -> Fault {
        Fault {
            round: 1,
            step: step.to_owned(),
            attempt: 0,
            link: n.map(|_| "runner->worker1".to_owned()),
            worker: n.is_none().then(|| "worker1".to_owned()),
            n,
            request: n.map(|_| "POST /audit/tok-123456".to_owned()),
            fault: fault.to_owned(),
            by: None,
            outcome: outcome.map(str::to_owned),
            at_ms: 0,
        }
    }

    #[test]
    fn a_fault_goes_to_the_step_it_names_and_a_request_s_end_completes_it() {
        let mut redactor = Redactor::new();
        redactor.secret("env TOKEN", "tok-123456");
        let mut recorder = recorder(redactor);
        recorder.fault(Fault {
            round: 0,
            ..fault("setup", Some(0), "reset", None)
        });
        recorder.begin_round(1);
        recorder.begin_step("steps::audit", "worker1", 10);
        recorder.fault(Fault {
            at_ms: 12,
            ..fault("steps::audit", None, "crash", None)
        });
        recorder.fault(Fault {
            at_ms: 14,
            ..fault("steps::audit", Some(0), "error 503", None)
        });
        recorder.fault(Fault {
            at_ms: 15,
            ..fault("steps::audit", Some(1), "reset", None)
        });
        recorder.finish_step(Outcome::Passed { attempts: 1 }, 20);
        // The end of request 0 comes after the step, the next step's
        // requests meanwhile.
        recorder.fault(fault("after steps::audit", Some(0), "timeout", None));
        let returned = recorder.fault(Fault {
            at_ms: 25,
            ..fault("steps::audit", Some(0), "error 503", Some("responded 503"))
        });
        assert_eq!(
            returned.request.as_deref(),
            Some("POST /audit/[redacted: env TOKEN]")
        );
        recorder.secret("env PEER", "worker1");
        let record = recorder.finish(30);
        let lines = |faults: &[Fault]| -> Vec<String> {
            faults
                .iter()
                .map(|f| format!("{} {} {f}", f.at_ms, f.step))
                .collect()
        };
        let peer = "[redacted: env PEER]";
        let token = "[redacted: env TOKEN]";
        assert_eq!(
            lines(&record.rounds[0].steps[0].faults),
            [
                format!("12 steps::audit {peer} crash"),
                format!(
                    "14 steps::audit runner->{peer} POST /audit/{token} error 503, ended responded 503"
                ),
                format!("15 steps::audit runner->{peer} POST /audit/{token} reset"),
            ]
        );
        assert_eq!(
            lines(&record.faults_between_steps),
            [
                format!("0 setup runner->{peer} POST /audit/{token} reset"),
                format!("0 after steps::audit runner->{peer} POST /audit/{token} timeout"),
            ]
        );
    }

    #[test]
    fn exchanges_and_logs_go_to_the_step_that_made_them() {
        let worker1 = Keypair::from_seed([1; 32]);
        let mut recorder = recorder(Redactor::new());
        recorder.begin_round(1);
        recorder.begin_step("steps::submit", "worker1", 10);
        let signed = create_signature(worker1.signing_key(), &json!({"round": 1})).unwrap();
        let body = json!({"signature": signed}).to_string();
        let headers = [("content-type".to_owned(), "application/json".to_owned())];
        recorder.exchange(&RawExchange {
            method: "POST",
            url: "http://127.0.0.1:1/submit",
            started_ms: 11,
            duration_ms: 3,
            request: RawMessage {
                headers: &headers,
                body: body.as_bytes(),
            },
            response: Ok((
                200,
                RawMessage {
                    headers: &[],
                    body: b"ok",
                },
            )),
        });
        recorder.worker_log(&LogLine::new("worker1", Stream::Stdout, "submitted\n"));
        recorder.worker_log(&LogLine::new("worker2", Stream::Stdout, "not mine"));
        recorder.finish_step(Outcome::Passed { attempts: 1 }, 20);
        recorder.worker_log(&LogLine::new("worker1", Stream::Stdout, "between steps"));
        let record = recorder.finish(30);
        let step = &record.rounds[0].steps[0];
        assert_eq!(step.duration_ms, 10);
        assert_eq!(step.log.len(), 1);
        assert_eq!(step.log[0].text, "submitted");
        let exchange = &step.exchanges[0];
        assert_eq!(exchange.status, Some(200));
        assert_eq!(exchange.signatures.len(), 1);
        assert_eq!(exchange.signatures[0].location, "request/signature");
        assert_eq!(
            exchange.signatures[0]
                .signer
                .as_ref()
                .unwrap()
                .worker
                .as_deref(),
            Some("worker1")
        );
        // The body is longer than 40 bytes: cut.
        assert_eq!(
            exchange.request.body,
            Body::Text {
                text: body[..40].to_owned(),
                total_bytes: body.len(),
                truncated: true,
            }
        );
    }

    #[test]
    fn the_step_order_given_first_orders_the_grid_of_a_resumed_run() {
        let mut recorder = recorder(Redactor::new());
        recorder.set_step_order(vec!["steps::fetch".into(), "steps::audit".into()]);
        // Resumed at round 2's second step.
        recorder.begin_round(2);
        recorder.begin_step("steps::audit", "worker1", 0);
        recorder.finish_step(Outcome::Passed { attempts: 1 }, 1);
        recorder.begin_round(3);
        for path in ["steps::fetch", "steps::audit"] {
            recorder.begin_step(path, "worker1", 2);
            recorder.finish_step(Outcome::Passed { attempts: 1 }, 3);
        }
        let record = recorder.finish(5);
        let columns: Vec<String> = View::of(&record)
            .columns
            .into_iter()
            .map(|column| column.name)
            .collect();
        assert_eq!(columns, ["steps::fetch", "steps::audit"]);
    }

    #[test]
    fn a_secret_cut_by_the_body_limit_is_still_redacted() {
        let mut redactor = Redactor::new();
        redactor.secret("token", "abcdefghijklmnopqrstuvwxyz");
        let mut recorder = recorder(redactor);
        recorder.begin_round(1);
        recorder.begin_step("steps::s", "worker1", 0);
        // The secret straddles the 40-byte limit.
        let body = format!("{}abcdefghijklmnopqrstuvwxyz", "x".repeat(30));
        recorder.exchange(&RawExchange {
            method: "GET",
            url: "http://127.0.0.1:1/?t=abcdefghijklmnopqrstuvwxyz",
            started_ms: 0,
            duration_ms: 1,
            request: RawMessage {
                headers: &[],
                body: &[],
            },
            response: Ok((
                500,
                RawMessage {
                    headers: &[],
                    body: body.as_bytes(),
                },
            )),
        });
        let record = recorder.finish(1);
        let exchange = &record.rounds[0].steps[0].exchanges[0];
        // Redacted whole (47 bytes), then cut to 40.
        assert_eq!(
            exchange.response.as_ref().unwrap().body,
            Body::Text {
                text: format!("{}[redacted:", "x".repeat(30)),
                total_bytes: 47,
                truncated: true,
            }
        );
        assert_eq!(exchange.url, "http://127.0.0.1:1/?t=[redacted: token]");
    }

    #[test]
    fn a_secret_added_later_is_taken_out_of_earlier_records() {
        let mut recorder = recorder(Redactor::new());
        recorder.begin_round(1);
        recorder.begin_step("steps::login", "worker1", 0);
        recorder.exchange(&RawExchange {
            method: "POST",
            url: "http://127.0.0.1:1/login",
            started_ms: 0,
            duration_ms: 1,
            request: RawMessage {
                headers: &[],
                body: &[],
            },
            response: Ok((
                200,
                RawMessage {
                    headers: &[],
                    body: br#"{"token":"tok-0123456789"}"#,
                },
            )),
        });
        recorder.worker_log(&LogLine::new(
            "worker1",
            Stream::Stderr,
            "issued tok-0123456789",
        ));
        recorder.finish_step(Outcome::failed("got tok-0123456789"), 2);
        recorder.secret("token", "tok-0123456789");
        let step = &recorder.record().rounds[0].steps[0];
        assert_eq!(step.outcome, Outcome::failed("got [redacted: token]"));
        assert_eq!(
            step.log,
            [LogLine::new(
                "worker1",
                Stream::Stderr,
                "issued [redacted: token]"
            )]
        );
        assert_eq!(
            step.exchanges[0].response.as_ref().unwrap().body.text(),
            Some(r#"{"token":"[redacted: token]"}"#)
        );
    }

    /// A recorder keeping detail in `dir` after `rounds` rounds of one step
    /// each, whose exchange's response and log line carry `text`.
    fn rounds_in_files(dir: &Path, rounds: u32, text: &str) -> Recorder {
        let mut recorder = recorder(Redactor::new());
        recorder.keep_detail_in(dir);
        for round in 1..=rounds {
            recorder.begin_round(round);
            recorder.begin_step("steps::s", "worker1", u64::from(round));
            recorder.exchange(&RawExchange {
                method: "GET",
                url: "http://127.0.0.1:1/s",
                started_ms: u64::from(round),
                duration_ms: 1,
                request: RawMessage {
                    headers: &[],
                    body: &[],
                },
                response: Ok((
                    200,
                    RawMessage {
                        headers: &[],
                        body: text.as_bytes(),
                    },
                )),
            });
            recorder.worker_log(&LogLine::new("worker1", Stream::Stdout, text));
            recorder.finish_step(Outcome::Passed { attempts: 1 }, u64::from(round) + 1);
        }
        recorder
    }

    #[test]
    fn only_the_latest_rounds_keep_their_detail_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let rounds = u32::try_from(ROUNDS_IN_MEMORY).unwrap() + 3;
        let mut recorder = rounds_in_files(dir.path(), rounds, "hello");
        let record = recorder.record();
        let kept: Vec<(Option<&str>, usize, usize)> = record
            .rounds
            .iter()
            .map(|round| {
                let step = &round.steps[0];
                (
                    round.detail.as_deref(),
                    step.exchanges.len(),
                    step.log.len(),
                )
            })
            .collect();
        let mut expected = vec![
            (Some("round-000001.js"), 0, 0),
            (Some("round-000002.js"), 0, 0),
            (Some("round-000003.js"), 0, 0),
        ];
        expected.extend(std::iter::repeat_n((None, 1, 1), ROUNDS_IN_MEMORY));
        assert_eq!(kept, expected);
        assert_eq!(record.detail_dir.as_deref(), Some(dir.path()));
        let folder = DetailFolder::at(dir.path());
        let last = &recorder.record().rounds[ROUNDS_IN_MEMORY + 2].steps[0];
        let (exchange, log) = (last.exchanges.clone(), last.log.clone());
        let first = folder.read("round-000001.js").unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].log[0].text, log[0].text);
        assert_eq!(
            first[0].exchanges[0].response, exchange[0].response,
            "the same exchange, read back"
        );
    }

    #[test]
    fn a_detail_folder_that_cannot_be_made_leaves_the_detail_in_memory_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let rounds = u32::try_from(ROUNDS_IN_MEMORY).unwrap() + 1;
        let record = rounds_in_files(&file.join("report-data"), rounds, "hello").finish(0);
        assert!(
            record
                .rounds
                .iter()
                .all(|round| round.detail.is_none() && round.steps[0].log.len() == 1)
        );
        let err = std::fs::create_dir_all(file.join("report-data")).unwrap_err();
        assert_eq!(
            record.detail_problems,
            [format!(
                "cannot keep rounds' detail in {}: {err}; it stays in memory",
                file.join("report-data").display()
            )]
        );
    }

    #[test]
    fn a_secret_found_later_is_taken_out_of_the_rounds_in_files() {
        let dir = tempfile::tempdir().unwrap();
        let rounds = u32::try_from(ROUNDS_IN_MEMORY).unwrap() + 2;
        let mut recorder = rounds_in_files(dir.path(), rounds, "issued tok-0123456789");
        let unchanged = std::fs::read(dir.path().join("round-000001.js")).unwrap();
        assert!(String::from_utf8_lossy(&unchanged).contains("tok-0123456789"));
        recorder.secret("token", "tok-0123456789");
        let folder = DetailFolder::at(dir.path());
        for name in ["round-000001.js", "round-000002.js"] {
            let steps = folder.read(name).unwrap();
            assert_eq!(steps[0].log[0].text, "issued [redacted: token]");
            assert_eq!(
                steps[0].exchanges[0].response.as_ref().unwrap().body.text(),
                Some("issued [redacted: token]")
            );
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(!text.contains("tok-0123456789"), "{name}: {text}");
        }
        let step = &recorder.record().rounds[ROUNDS_IN_MEMORY + 1].steps[0];
        assert_eq!(step.log[0].text, "issued [redacted: token]");
    }

    #[test]
    fn a_signed_payload_holding_a_secret_loses_its_signed_text() {
        let worker1 = Keypair::from_seed([1; 32]);
        let mut redactor = Redactor::new();
        redactor.secret("env GITHUB_TOKEN", "ghp_0123456789abcdef");
        let mut recorder = recorder(redactor);
        recorder.begin_round(1);
        recorder.begin_step("steps::submit", "worker1", 0);
        let signed = create_signature(
            worker1.signing_key(),
            &json!({"token": "ghp_0123456789abcdef"}),
        )
        .unwrap();
        let body = json!({"signature": signed}).to_string();
        recorder.exchange(&RawExchange {
            method: "POST",
            url: "http://127.0.0.1:1/submit",
            started_ms: 0,
            duration_ms: 1,
            request: RawMessage {
                headers: &[],
                body: body.as_bytes(),
            },
            response: Err("connection refused"),
        });
        let exchange = &recorder.record().rounds[0].steps[0].exchanges[0];
        // Redacted whole, then cut to 40 bytes.
        let redacted = r#"{"signature":"[redacted: signed payload holding a secret]"}"#;
        assert_eq!(
            exchange.request.body,
            Body::Text {
                text: redacted[..40].to_owned(),
                total_bytes: redacted.len(),
                truncated: true,
            }
        );
        assert_eq!(
            exchange.signatures,
            [DecodedSignature {
                location: "request/signature".into(),
                payload: json!({"token": "[redacted: env GITHUB_TOKEN]"}),
                signer: Some(Signer {
                    worker: Some("worker1".into()),
                    public_key: worker1.public_key().into(),
                }),
            }]
        );
    }
}

//! How a step execution ended: one type, from the step to every writer, the
//! run record and the nextest results file.

use serde::{Deserialize, Serialize};

/// How one step execution ended. Its texts are redacted before an event
/// carries it (the session redacts at the source, so every writer shows the
/// same text).
///
/// There is no "not run": a step the run did not reach has no outcome; the
/// consumers that show one (the nextest verdict) find it in the
/// [`Plan`](crate::events::Plan) against the outcomes that came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// It returned `Ok`, at its `attempts`-th attempt (1 unless the step
    /// has `retries`).
    Passed {
        #[serde(default = "one", skip_serializing_if = "is_one")]
        attempts: u32,
    },
    /// It returned an error (or panicked, or timed out, or a worker exited
    /// under it): the error with its causes.
    Failed {
        message: String,
        /// The step's last HTTP exchanges and log lines, as the failure
        /// shows them (added by the recording stage).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        excerpt: Option<String>,
    },
    /// It called `skip!`.
    Skipped { reason: String },
    /// A signal stopped the run while it ran (`SIGINT`, `SIGTERM`).
    Interrupted { signal: String },
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_one(attempts: &u32) -> bool {
    *attempts == 1
}

fn one() -> u32 {
    1
}

impl Outcome {
    /// A failure without an excerpt.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            excerpt: None,
        }
    }

    /// Whether it fails the run: a failure or an interruption.
    pub(crate) fn is_failure(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::Interrupted { .. })
    }

    /// What a failure says, excerpt included: `None` unless
    /// [`is_failure`](Self::is_failure).
    pub(crate) fn failure(&self) -> Option<String> {
        match self {
            Self::Failed {
                message,
                excerpt: None,
            } => Some(message.clone()),
            Self::Failed {
                message,
                excerpt: Some(excerpt),
            } => Some(format!("{message}\n\n{excerpt}")),
            Self::Interrupted { signal } => Some(format!("interrupted by {signal}")),
            Self::Passed { .. } | Self::Skipped { .. } => None,
        }
    }

    /// The same outcome with each text the step handed back passed through
    /// `redact` (the harness's own words, an interruption, are kept).
    pub(crate) fn map_text(self, mut redact: impl FnMut(&str) -> String) -> Self {
        match self {
            Self::Failed { message, excerpt } => Self::Failed {
                message: redact(&message),
                excerpt: excerpt.map(|excerpt| redact(&excerpt)),
            },
            Self::Skipped { reason } => Self::Skipped {
                reason: redact(&reason),
            },
            passed_or_interrupted => passed_or_interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_reads_back_as_it_was_written() {
        for outcome in [
            Outcome::Passed { attempts: 1 },
            Outcome::Passed { attempts: 3 },
            Outcome::failed("boom"),
            Outcome::Failed {
                message: "boom".to_owned(),
                excerpt: Some("POST /submit -> 500".to_owned()),
            },
            Outcome::Skipped {
                reason: "no todo".to_owned(),
            },
            Outcome::Interrupted {
                signal: "SIGINT".to_owned(),
            },
        ] {
            let text = serde_json::to_string(&outcome).unwrap();
            assert_eq!(
                serde_json::from_str::<Outcome>(&text).unwrap(),
                outcome,
                "{text}"
            );
        }
    }

    #[test]
    fn a_first_attempt_pass_and_a_failure_without_excerpt_keep_the_records_shape() {
        let json = |outcome: &Outcome| serde_json::to_string(outcome).unwrap();
        assert_eq!(
            json(&Outcome::Passed { attempts: 1 }),
            r#"{"kind":"passed"}"#
        );
        assert_eq!(
            json(&Outcome::Passed { attempts: 2 }),
            r#"{"kind":"passed","attempts":2}"#
        );
        assert_eq!(
            json(&Outcome::failed("boom")),
            r#"{"kind":"failed","message":"boom"}"#
        );
    }

    #[test]
    fn a_failure_shows_its_excerpt_under_its_message_and_an_interruption_its_signal() {
        let failed = Outcome::Failed {
            message: "boom".to_owned(),
            excerpt: Some("the excerpt".to_owned()),
        };
        assert_eq!(failed.failure().unwrap(), "boom\n\nthe excerpt");
        let interrupted = Outcome::Interrupted {
            signal: "SIGTERM".to_owned(),
        };
        assert_eq!(interrupted.failure().unwrap(), "interrupted by SIGTERM");
        assert!(interrupted.is_failure());
        assert_eq!(Outcome::Passed { attempts: 1 }.failure(), None);
    }

    #[test]
    fn redaction_reaches_every_text_a_step_handed_back_and_no_other() {
        let upper = |text: &str| text.to_uppercase();
        assert_eq!(
            Outcome::Failed {
                message: "a".to_owned(),
                excerpt: Some("b".to_owned())
            }
            .map_text(upper),
            Outcome::Failed {
                message: "A".to_owned(),
                excerpt: Some("B".to_owned())
            }
        );
        assert_eq!(
            Outcome::Skipped {
                reason: "r".to_owned()
            }
            .map_text(upper),
            Outcome::Skipped {
                reason: "R".to_owned()
            }
        );
        let interrupted = Outcome::Interrupted {
            signal: "SIGINT".to_owned(),
        };
        assert_eq!(interrupted.clone().map_text(upper), interrupted);
    }
}

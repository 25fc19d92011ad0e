//! The signed request every POST carries, and the checks that bind its
//! payload to the endpoint, the round, the task and the sender.

use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;

/// A POST body: a Koii signed payload plus the keys it claims to come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SignedRequest {
    /// base58(ed25519 signature ++ canonical JSON payload).
    pub(crate) signature: String,
    /// The sender's staking public key (base58): the signature must verify with it.
    pub(crate) staking_key: String,
    /// The sender's main public key (base58).
    pub(crate) pub_key: String,
}

/// What the payload of a request must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// This worker's `TASK_ID`.
    pub(crate) task_id: &'a str,
    /// The round in the request path.
    pub(crate) round: u32,
    /// The endpoint's action: `task`, `submission` or `audit`.
    pub(crate) action: &'a str,
}

impl SignedRequest {
    /// Verifies the signature with the staking key (401 otherwise), then
    /// checks the payload against `expected` (400 otherwise). Returns the payload.
    pub(crate) fn verify(&self, expected: &Expected<'_>) -> Result<Value, ApiError> {
        let payload = prometheus_test_signing::verify_signature(&self.signature, &self.staking_key)
            .map_err(|err| ApiError::unauthorized(format!("invalid signature: {err:#}")))?;
        check_payload(&payload, self, expected).map_err(ApiError::bad_request)?;
        Ok(payload)
    }
}

/// Checks the signed payload's `taskId`, `roundNumber`, `action`,
/// `stakingKey` and `pubKey`. The error names the first field that is wrong.
pub(crate) fn check_payload(
    payload: &Value,
    request: &SignedRequest,
    expected: &Expected<'_>,
) -> Result<(), String> {
    let Some(fields) = payload.as_object() else {
        return Err("signed payload: expected a JSON object".to_owned());
    };
    let text = |name: &str| -> Result<&str, String> {
        match fields.get(name) {
            Some(Value::String(value)) => Ok(value),
            Some(_) => Err(format!("payload `{name}`: expected a string")),
            None => Err(format!("payload `{name}` is missing")),
        }
    };
    let task_id = text("taskId")?;
    if task_id != expected.task_id {
        return Err(format!(
            "payload `taskId` is {task_id:?}, but this worker serves task {:?}",
            expected.task_id
        ));
    }
    let round = match fields.get("roundNumber") {
        Some(value) => value
            .as_u64()
            .ok_or_else(|| "payload `roundNumber`: expected a non-negative integer".to_owned())?,
        None => return Err("payload `roundNumber` is missing".to_owned()),
    };
    if round != u64::from(expected.round) {
        return Err(format!(
            "payload `roundNumber` is {round}, but the request is for round {}",
            expected.round
        ));
    }
    let action = text("action")?;
    if action != expected.action {
        return Err(format!(
            "payload `action` is {action:?}, but this endpoint expects {:?}",
            expected.action
        ));
    }
    if text("stakingKey")? != request.staking_key {
        return Err("payload `stakingKey` differs from the request's `stakingKey`".to_owned());
    }
    if text("pubKey")? != request.pub_key {
        return Err("payload `pubKey` differs from the request's `pubKey`".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const EXPECTED: Expected<'static> = Expected {
        task_id: "todo-task",
        round: 2,
        action: "task",
    };

    fn request() -> SignedRequest {
        SignedRequest {
            signature: "unused".to_owned(),
            staking_key: "Staking111".to_owned(),
            pub_key: "Main111".to_owned(),
        }
    }

    fn payload() -> Value {
        json!({
            "taskId": "todo-task",
            "roundNumber": 2,
            "action": "task",
            "stakingKey": "Staking111",
            "pubKey": "Main111",
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut payload = payload();
        payload[field] = value;
        payload
    }

    fn without(field: &str) -> Value {
        let mut payload = payload();
        payload.as_object_mut().unwrap().remove(field);
        payload
    }

    #[test]
    fn matching_payload_passes() {
        assert_eq!(check_payload(&payload(), &request(), &EXPECTED), Ok(()));
    }

    #[test]
    fn extra_fields_are_allowed() {
        let payload = with("submission", json!({"todoId": "x"}));
        assert_eq!(check_payload(&payload, &request(), &EXPECTED), Ok(()));
    }

    #[test]
    fn each_mismatch_names_its_field() {
        let cases = [
            (with("taskId", json!("other-task")), "`taskId`"),
            (with("roundNumber", json!(3)), "`roundNumber` is 3"),
            (with("roundNumber", json!("2")), "`roundNumber`: expected"),
            (with("roundNumber", json!(-2)), "`roundNumber`: expected"),
            (with("action", json!("audit")), "`action`"),
            (with("stakingKey", json!("Someone222")), "`stakingKey`"),
            (with("pubKey", json!("Someone222")), "`pubKey`"),
            (without("taskId"), "`taskId` is missing"),
            (without("roundNumber"), "`roundNumber` is missing"),
            (without("pubKey"), "`pubKey` is missing"),
            (with("action", json!(1)), "`action`: expected a string"),
        ];
        for (payload, needle) in cases {
            let err = check_payload(&payload, &request(), &EXPECTED).unwrap_err();
            assert!(
                err.contains(needle),
                "{payload}: {err:?} should mention {needle}"
            );
        }
    }

    #[test]
    fn non_object_payload_is_rejected() {
        let err = check_payload(&json!(["taskId"]), &request(), &EXPECTED).unwrap_err();
        assert_eq!(err, "signed payload: expected a JSON object");
    }

    #[test]
    fn bad_signature_is_unauthorized() {
        let err = request().verify(&EXPECTED).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::UNAUTHORIZED);
        assert!(
            err.message.starts_with("invalid signature"),
            "{}",
            err.message
        );
    }
}

//! Long-running operations this fake started (job cancel), polled at
//! `/fake/operations/{id}` (`Azure-AsyncOperation`) or `/fake/operationResults/{id}` (`Location`).

use serde_json::{Value, json};

use super::{Answer, State, error, respond, with_header};

/// Answers one poll of operation `id`.
pub(super) fn poll_operation(s: &mut State, kind: &str, id: &str) -> Answer {
    let Some(op) = s.operations.get_mut(id) else {
        return error(404, "ResourceNotFound", "no such operation", None);
    };
    if op.polls_left > 0 {
        op.polls_left -= 1;
        return if kind == "operations" {
            with_header(
                respond(200, &json!({"status": "InProgress"})),
                "retry-after",
                "0",
            )
        } else {
            with_header(respond(202, &Value::Null), "retry-after", "0")
        };
    }
    if kind == "operations" {
        respond(200, &json!({"status": "Succeeded"}))
    } else {
        respond(200, &Value::Null)
    }
}

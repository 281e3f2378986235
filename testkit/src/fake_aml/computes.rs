//! Computes: list, get, PUT (201 + `Azure-AsyncOperation`).

use serde_json::{Value, json};

use super::validate::{bad_enum, enums};
use super::{
    Answer, Call, Operation, OperationKind, State, error, not_found, page, respond, unserved,
    with_header,
};

/// Answers `{method} {WS}/computes…` (`rest` is the path after the workspace).
pub(super) fn route(s: &mut State, call: &Call<'_>) -> Answer {
    let Call {
        method,
        rest,
        query,
        body,
    } = *call;
    let ws_id = s.workspace_id();
    let ws_path = ws_id.clone();
    match (method, rest) {
        ("GET", ["computes"]) => {
            let items: Vec<Value> = s.computes.values().cloned().collect();
            respond(200, &page(s, &format!("{ws_path}/computes"), query, items))
        }
        ("GET", ["computes", name]) => match s.computes.get(*name) {
            Some(c) => respond(200, c),
            None => not_found(s, "computes", name),
        },
        ("PUT", ["computes", name]) => {
            let kind = body
                .pointer("/properties/computeType")
                .and_then(Value::as_str);
            match kind {
                None => {
                    return error(
                        400,
                        "UserError",
                        "properties.computeType is required",
                        Some("properties.computeType"),
                    );
                }
                Some(k) if !enums::COMPUTE_TYPE.contains(&k) => {
                    return bad_enum("properties.computeType", k, &enums::COMPUTE_TYPE);
                }
                Some(_) => {}
            }
            let mut stored = body.clone();
            stored["id"] = json!(format!("{ws_id}/computes/{name}"));
            stored["name"] = json!(name);
            stored["properties"]["provisioningState"] = json!("Creating");
            s.computes.insert((*name).to_owned(), stored.clone());
            let id = s.new_id();
            let polls = s.options.operation_polls;
            s.operations.insert(
                id.clone(),
                Operation {
                    polls_left: polls,
                    kind: OperationKind::Compute((*name).to_owned()),
                },
            );
            let poll = format!("{}/fake/operations/{id}", s.base);
            let answer = with_header(respond(201, &stored), "azure-asyncoperation", &poll);
            with_header(answer, "retry-after", "0")
        }
        _ => unserved(method, rest),
    }
}

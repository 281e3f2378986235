//! The workspace itself: `GET {WS}`.

use serde_json::json;

use super::{Answer, Call, State, respond, unserved};

/// Answers `{method} {WS}/…` (`rest` is the path after the workspace).
pub(super) fn route(s: &mut State, call: &Call<'_>) -> Answer {
    let Call { method, rest, .. } = *call;
    let ws_id = s.workspace_id();
    match (method, rest) {
        ("GET", []) => {
            let base = s.base.clone();
            respond(
                200,
                &json!({"id": ws_id, "name": s.options.workspace_name, "location": s.options.location,
                        "type": "Microsoft.MachineLearningServices/workspaces",
                        "properties": {"discoveryUrl": format!("{base}/discovery"),
                                       "workspaceId": "11111111-2222-3333-4444-555555555555",
                                       "friendlyName": s.options.workspace_name}}),
            )
        }
        _ => unserved(method, rest),
    }
}

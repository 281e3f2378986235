//! Component versions: PUT/GET.

use serde_json::json;

use super::validate::check_component;
use super::{Answer, Call, State, not_found, respond, unserved};

/// Answers `{method} {WS}/components…` (`rest` is the path after the workspace).
pub(super) fn route(s: &mut State, call: &Call<'_>) -> Answer {
    let Call {
        method, rest, body, ..
    } = *call;
    let ws_id = s.workspace_id();
    match (method, rest) {
        ("PUT", ["components", name, "versions", version]) => {
            if let Some(answer) = check_component(body) {
                return answer;
            }
            let mut stored = body.clone();
            stored["id"] = json!(format!("{ws_id}/components/{name}/versions/{version}"));
            stored["name"] = json!(version);
            stored["properties"]["provisioningState"] = json!("Succeeded");
            let key = ((*name).to_owned(), (*version).to_owned());
            let status = if s.components.contains_key(&key) {
                200
            } else {
                201
            };
            s.components.insert(key, stored.clone());
            s.component_puts += 1;
            respond(status, &stored)
        }
        ("GET", ["components", name, "versions", version]) => {
            match s
                .components
                .get(&((*name).to_owned(), (*version).to_owned()))
            {
                Some(c) => respond(200, c),
                None => not_found(s, "components", &format!("{name}/versions/{version}")),
            }
        }
        _ => unserved(method, rest),
    }
}

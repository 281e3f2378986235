//! Environment versions (`{WS}/environments/{name}/versions/{version}`): PUT/GET. A version
//! needs an `image` (a container image) or a `build` context; the stored version is answered
//! back with its id and `provisioningState: Succeeded`.

use serde_json::json;

use super::{Answer, Call, State, error, not_found, respond, unserved};

/// Answers `{method} {WS}/environments…` (`rest` is the path after the workspace).
pub(super) fn route(s: &mut State, call: &Call<'_>) -> Answer {
    let Call {
        method, rest, body, ..
    } = *call;
    let ws_id = s.workspace_id();
    match (method, rest) {
        ("PUT", ["environments", name, "versions", version]) => {
            let props = &body["properties"];
            if !props["image"].is_string() && !props["build"].is_object() {
                return error(
                    400,
                    "UserError",
                    "an environment version needs `properties.image` or `properties.build`",
                    Some("properties"),
                );
            }
            let mut stored = body.clone();
            stored["id"] = json!(format!("{ws_id}/environments/{name}/versions/{version}"));
            stored["name"] = json!(version);
            stored["properties"]["provisioningState"] = json!("Succeeded");
            let key = ((*name).to_owned(), (*version).to_owned());
            let status = if s.environments.contains_key(&key) {
                200
            } else {
                201
            };
            s.environments.insert(key, stored.clone());
            respond(status, &stored)
        }
        ("GET", ["environments", name, "versions", version]) => {
            match s
                .environments
                .get(&((*name).to_owned(), (*version).to_owned()))
            {
                Some(e) => respond(200, e),
                None => not_found(s, "environments", &format!("{name}/versions/{version}")),
            }
        }
        _ => unserved(method, rest),
    }
}

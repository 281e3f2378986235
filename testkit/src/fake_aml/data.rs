//! Data assets: the container (latest version) and a version, seeded with `add_data_version`.

use serde_json::{Value, json};

use super::{Answer, Call, State, not_found, respond, unserved};

/// Answers `{method} {WS}/data…` (`rest` is the path after the workspace).
pub(super) fn route(s: &mut State, call: &Call<'_>) -> Answer {
    let Call { method, rest, .. } = *call;
    match (method, rest) {
        ("GET", ["data", name]) => {
            let versions: Vec<&Value> = s
                .data
                .iter()
                .filter(|((n, _), _)| n == name)
                .map(|(_, v)| v)
                .collect();
            match versions.last() {
                None => not_found(s, "data", name),
                Some(latest) => respond(
                    200,
                    &json!({"id": format!("{}/data/{name}", s.workspace_id()), "name": name,
                            "type": "Microsoft.MachineLearningServices/workspaces/data",
                            "properties": {"dataType": latest["properties"]["dataType"],
                                           "latestVersion": latest["name"],
                                           "isArchived": false}}),
                ),
            }
        }
        ("GET", ["data", name, "versions", version]) => {
            match s.data.iter().find(|((n, v), _)| n == name && v == version) {
                Some((_, body)) => respond(200, body),
                None => not_found(s, "data", &format!("{name}/versions/{version}")),
            }
        }
        _ => unserved(method, rest),
    }
}

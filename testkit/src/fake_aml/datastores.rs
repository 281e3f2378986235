//! Datastores: list (with the `isDefault=true` filter), get, and `listSecrets`.

use serde_json::{Value, json};

use super::validate::check_secret_expiry;
use super::{Answer, Call, State, not_found, page, respond, unserved};

/// Answers `{method} {WS}/datastores…` (`rest` is the path after the workspace).
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
        ("GET", ["datastores"]) => {
            let only_default = query.get("isDefault").is_some_and(|v| v == "true");
            let items: Vec<Value> = s
                .datastores
                .values()
                .filter(|d| !only_default || d["properties"]["isDefault"] == json!(true))
                .cloned()
                .collect();
            respond(
                200,
                &page(s, &format!("{ws_path}/datastores"), query, items),
            )
        }
        ("GET", ["datastores", name]) => match s.datastores.get(*name) {
            Some(d) => respond(200, d),
            None => not_found(s, "datastores", name),
        },
        ("POST", ["datastores", name, "listSecrets"]) => {
            if !s.datastores.contains_key(*name) {
                return not_found(s, "datastores", name);
            }
            if !body.is_null()
                && let Some(answer) = check_secret_expiry(body)
            {
                return answer;
            }
            respond(
                200,
                &json!({"secretsType": "AccountKey", "key": s.options.blob.account_key}),
            )
        }
        _ => unserved(method, rest),
    }
}

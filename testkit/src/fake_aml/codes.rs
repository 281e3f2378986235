//! Code assets: versions by hash across names, PUT/GET of a version, `startPendingUpload`.

use serde_json::{Value, json};

use super::validate::{bad_enum, check_code, enums};
use super::{Answer, Call, State, not_found, page, respond, unserved};

/// Answers `{method} {WS}/codes…` (`rest` is the path after the workspace).
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
        ("GET", ["codes", _name, "versions"]) => {
            let wanted = |c: &Value| match query.get("hash") {
                Some(hash) => {
                    c["properties"]["properties"]["hash_sha256"].as_str() == Some(hash)
                        && query.get("hashVersion").is_none_or(|hv| {
                            c["properties"]["properties"]["hash_version"].as_str() == Some(hv)
                        })
                }
                None => c["id"]
                    .as_str()
                    .is_some_and(|id| id.contains(&format!("/codes/{_name}/"))),
            };
            let items: Vec<Value> = s.codes.values().filter(|c| wanted(c)).cloned().collect();
            let path = format!("{ws_path}/codes/{_name}/versions");
            respond(200, &page(s, &path, query, items))
        }
        ("PUT", ["codes", name, "versions", version]) => {
            if let Some(answer) = check_code(body) {
                return answer;
            }
            let mut stored = body.clone();
            stored["id"] = json!(format!("{ws_id}/codes/{name}/versions/{version}"));
            stored["name"] = json!(version);
            stored["properties"]["provisioningState"] = json!("Succeeded");
            let key = ((*name).to_owned(), (*version).to_owned());
            let status = if s.codes.contains_key(&key) { 200 } else { 201 };
            s.codes.insert(key, stored.clone());
            respond(status, &stored)
        }
        ("GET", ["codes", name, "versions", version]) => {
            match s.codes.get(&((*name).to_owned(), (*version).to_owned())) {
                Some(c) => respond(200, c),
                None => not_found(s, "codes", &format!("{name}/versions/{version}")),
            }
        }
        ("POST", ["codes", _name, "versions", _version, "startPendingUpload"]) => {
            let kind = body.get("pendingUploadType").and_then(Value::as_str);
            if let Some(kind) = kind
                && !enums::PENDING_UPLOAD_TYPE.contains(&kind)
            {
                return bad_enum("pendingUploadType", kind, &enums::PENDING_UPLOAD_TYPE);
            }
            let blob = s.options.blob.clone();
            let upload_id = s.new_id();
            let blob_uri = format!("{}/{}", blob.endpoint.trim_end_matches('/'), blob.container);
            respond(
                200,
                &json!({"pendingUploadId": upload_id, "pendingUploadType": "TemporaryBlobReference",
                        "blobReferenceForConsumption": {
                            "blobUri": blob_uri,
                            "storageAccountArmId": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Storage/storageAccounts/{}",
                                s.options.subscription_id, s.options.resource_group, blob.account_name),
                            "credential": {"credentialType": "SAS", "sasUri": format!("{blob_uri}?{}", blob.sas_token)}}}),
            )
        }
        _ => unserved(method, rest),
    }
}

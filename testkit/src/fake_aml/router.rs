//! The router: authentication, then one line per resource handing the rest of the path to the
//! resource's module. A new resource is one `mod` line in `fake_aml.rs`, one field in `State`
//! and one line here.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::{
    Answer, Call, PROVIDER, State, codes, components, datastores, environments, error, history,
    jobs, operations, percent_decode, respond, unserved, workspace,
};

/// Answers the request under `…/workspaces/{ws}/` by its first segment.
fn route_workspace(
    s: &mut State,
    method: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let call = Call {
        method,
        rest,
        query,
        body,
    };
    match rest.first().copied() {
        None => workspace::route(s, &call),
        Some("datastores") => datastores::route(s, &call),
        Some("codes") => codes::route(s, &call),
        Some("components") => components::route(s, &call),
        Some("environments") => environments::route(s, &call),
        Some("jobs") => jobs::route(s, &call),
        Some(resource @ ("data" | "computes")) => {
            let ws_id = s.workspace_id();
            let scope = crate::fake_computes::Scope {
                options: &s.options,
                ws_id: &ws_id,
                base: &s.base,
            };
            if resource == "data" {
                crate::fake_data::route(&s.data, &scope, method, rest, query, body)
            } else {
                crate::fake_computes::route(&s.computes, &scope, method, rest, query, body)
            }
        }
        Some(_) => unserved(method, rest),
    }
}

/// Answers a request from the state (after faults were applied).
pub(super) fn route(
    state: &Mutex<State>,
    method: &str,
    raw_path: &str,
    query: &BTreeMap<String, String>,
    bearer: Option<&str>,
    body: &Value,
) -> Answer {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let path = percent_decode(raw_path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segments == ["discovery"] {
        let base = s.base.clone();
        let pipelines = s.pipelines_url.clone().unwrap_or_else(|| base.clone());
        return respond(
            200,
            &json!({"api": base, "catalog": base, "experimentation": base, "history": base,
                    "pipelines": pipelines, "studio": "https://ml.azure.com"}),
        );
    }
    // Every other route needs an accepted bearer token.
    match bearer {
        None => {
            return error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                None,
            );
        }
        Some(t) if !s.tokens.contains_key(t) => {
            return error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
                None,
            );
        }
        Some(_) => {}
    }
    // Batch endpoints, deployments, the scoring host and schedules.
    let st = &mut *s;
    let headers = st
        .requests
        .iter()
        .rev()
        .find(|r| r.method == method && r.path == path);
    let ctx = crate::fake_operate::Ctx {
        state: &mut st.operate,
        components: &st.components,
        base: &st.base,
        headers: headers.map(|r| &r.headers),
    };
    if let Some(answer) = crate::fake_operate::route(ctx, method, &segments, query, body) {
        return answer;
    }
    if let ["fake", kind @ ("operations" | "operationResults"), id] = segments.as_slice() {
        return operations::poll_operation(&mut s, kind, id);
    }
    if segments.first() == Some(&"history") {
        return history::route_history(&mut s, &segments, query);
    }
    let Some(rest) = workspace_route(&s, &segments) else {
        return error(
            404,
            "ResourceNotFound",
            &format!("The resource at '{path}' was not found."),
            None,
        );
    };
    let rest: Vec<String> = rest.iter().map(|x| (*x).to_owned()).collect();
    if !query.contains_key("api-version") {
        return error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            None,
        );
    }
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    route_workspace(&mut s, method, &rest, query, body)
}

/// The segments after `…/workspaces/{ws}`, when the path is this fake's workspace.
pub(super) fn workspace_route<'p>(s: &State, segments: &'p [&'p str]) -> Option<&'p [&'p str]> {
    match segments {
        [
            "subscriptions",
            sub,
            "resourceGroups",
            rg,
            "providers",
            provider,
            "workspaces",
            ws,
            rest @ ..,
        ] if *sub == s.options.subscription_id
            && rg.eq_ignore_ascii_case(&s.options.resource_group)
            && provider.eq_ignore_ascii_case(PROVIDER)
            && ws.eq_ignore_ascii_case(&s.options.workspace_name) =>
        {
            Some(rest)
        }
        _ => None,
    }
}

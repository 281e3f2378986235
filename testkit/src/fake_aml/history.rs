//! The run history: a pipeline job's child runs, one per node of its `jobs`, each with the status
//! the last job `GET` answered.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::router::workspace_route;
use super::validate::object_entries;
use super::{Answer, State, error, page, respond};

/// Answers `GET /history/v1.0/…/workspaces/{ws}/runs/{id}/children`.
pub(super) fn route_history(
    s: &mut State,
    segments: &[&str],
    query: &BTreeMap<String, String>,
) -> Answer {
    let Some(rest) = segments
        .strip_prefix(&["history", "v1.0"])
        .and_then(|rest| workspace_route(s, rest))
    else {
        return error(404, "NotFound", "unknown run history path", None);
    };
    let ["runs", run_id, "children"] = rest else {
        return error(404, "NotFound", "unknown run history path", None);
    };
    let Some(job) = s.jobs.get(*run_id) else {
        return error(
            404,
            "RunNotFound",
            &format!("Run {run_id} was not found"),
            None,
        );
    };
    let status = s.last_reported_status(job);
    let children: Vec<Value> = object_entries(job.body.pointer("/properties/jobs"))
        .into_iter()
        .map(|(node, _)| {
            json!({"runId": format!("{run_id}_{node}"), "parentRunId": run_id, "rootRunId": run_id,
                   "status": status, "displayName": node, "name": node,
                   "runType": "azureml.StepRun", "properties": {}, "tags": {}})
        })
        .collect();
    let path = format!("/{}", segments.join("/"));
    respond(200, &page(s, &path, query, children))
}

//! Jobs: list (paged, `jobType` filter), PUT/GET with the scripted status, cancel (202 +
//! `Location`).

use serde_json::{Value, json};

use super::validate::check_job;
use super::{
    Answer, Call, JobState, Operation, State, not_found, page, respond, unserved, with_header,
};

/// Answers `{method} {WS}/jobs…` (`rest` is the path after the workspace).
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
        ("GET", ["jobs"]) => {
            let names: Vec<String> = s.jobs.keys().cloned().collect();
            let items: Vec<Value> = names
                .iter()
                .filter_map(|n| job_view(s, n))
                .filter(|j| {
                    query
                        .get("jobType")
                        .is_none_or(|t| j["properties"]["jobType"].as_str() == Some(t))
                })
                .collect();
            respond(200, &page(s, &format!("{ws_path}/jobs"), query, items))
        }
        ("PUT", ["jobs", name]) => {
            if let Some(answer) = check_job(s, body) {
                return answer;
            }
            let mut stored = body.clone();
            stored["id"] = json!(format!("{ws_id}/jobs/{name}"));
            stored["name"] = json!(name);
            stored["type"] = json!("Microsoft.MachineLearningServices/workspaces/jobs");
            let props = &mut stored["properties"];
            if props.get("experimentName").is_none() {
                props["experimentName"] = json!("Default");
            }
            props["services"] = json!({"Studio": {"jobServiceType": "Studio",
                "endpoint": format!("https://ml.azure.com/runs/{name}?wsid={ws_id}")}});
            s.job_puts += 1;
            let existed = s.jobs.contains_key(*name);
            match s.jobs.get_mut(*name) {
                Some(job) => job.body = stored,
                None => {
                    s.jobs.insert(
                        (*name).to_owned(),
                        JobState {
                            body: stored,
                            gets: 0,
                            canceled: false,
                        },
                    );
                }
            }
            let view = job_view(s, name).expect("just stored");
            respond(if existed { 200 } else { 201 }, &view)
        }
        ("GET", ["jobs", name]) => {
            let Some(view) = job_view(s, name) else {
                return not_found(s, "jobs", name);
            };
            if let Some(job) = s.jobs.get_mut(*name) {
                job.gets += 1;
            }
            respond(200, &view)
        }
        ("POST", ["jobs", name, "cancel"]) => {
            let Some(job) = s.jobs.get_mut(*name) else {
                return not_found(s, "jobs", name);
            };
            job.canceled = true;
            let id = s.new_id();
            let polls = s.options.operation_polls;
            s.operations
                .insert(id.clone(), Operation { polls_left: polls });
            let location = format!("{}/fake/operationResults/{id}", s.base);
            let answer = with_header(respond(202, &Value::Null), "location", &location);
            with_header(answer, "retry-after", "0")
        }
        _ => unserved(method, rest),
    }
}

/// The job as GET answers it now (status from the script).
fn job_view(s: &State, name: &str) -> Option<Value> {
    let job = s.jobs.get(name)?;
    let mut view = job.body.clone();
    view["properties"]["status"] = json!(s.job_status(job));
    Some(view)
}

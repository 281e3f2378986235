//! Long waits on the control plane are announced: a long-running operation says its status when
//! it changes and at least every `notice_every`, against the fake Azure ML over real HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::http::{Method, Url};
use azureml_pipelines_runtime::azure::arm::{ArmClient, ArmRequest, Notice, RetryListener};
use azureml_pipelines_runtime::azure::{ArmClientOptions, Credential};
use azureml_pipelines_testkit::fake_aml::{FakeAmlOptions, FakeAzureMl, Fault, FaultRule};
use serde_json::json;

#[tokio::test]
async fn a_long_running_operation_says_its_status_while_it_runs() {
    let fake = FakeAzureMl::start_with(FakeAmlOptions::default()).await;
    fake.add_compute("cpu", "AmlCompute");
    // The PUT starts an operation; its first poll asks to wait a second, the second ends it.
    let poll = format!("{}/fake/operations/lro-test", fake.url());
    fake.inject(
        FaultRule::new("PUT", "/computes/cpu").fault(Fault::Respond {
            status: 201,
            headers: vec![
                ("azure-asyncoperation".into(), poll),
                ("retry-after".into(), "0".into()),
            ],
            body: "{}".into(),
        }),
    );
    for (status, wait) in [("InProgress", "1"), ("Succeeded", "0")] {
        fake.inject(
            FaultRule::new("GET", "/fake/operations/lro-test").fault(Fault::Respond {
                status: 200,
                headers: vec![("retry-after".into(), wait.into())],
                body: format!(r#"{{"status": "{status}"}}"#),
            }),
        );
    }
    let heard: Arc<Mutex<Vec<Notice>>> = Arc::default();
    let log = Arc::clone(&heard);
    let options = ArmClientOptions {
        poll_interval: Duration::from_millis(10),
        notice_every: Duration::from_millis(40),
        on_retry: RetryListener::new(move |n| log.lock().unwrap().push(n.clone())),
        ..Default::default()
    };
    let client = ArmClient::new(
        Url::parse(&fake.url()).unwrap(),
        Credential::from_static_token(FakeAzureMl::DEFAULT_TOKEN),
        options,
    )
    .unwrap();
    let o = fake.options();
    let url = Url::parse(&format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}/computes/cpu",
        fake.url(),
        o.subscription_id,
        o.resource_group,
        o.workspace_name
    ))
    .unwrap();
    let body = json!({"location": "eastus", "properties": {"computeType": "AmlCompute",
        "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 2, "minNodeCount": 0}}}});
    let version = "2023-08-01-preview";
    let started = client
        .send(
            ArmRequest::new(Method::Put, url.clone(), "PUT computes/cpu")
                .api_version(version)
                .json(body),
        )
        .await
        .unwrap();
    client
        .wait_for_completion(started, Method::Put, &url, version, "PUT computes/cpu")
        .await
        .unwrap();

    let heard = heard.lock().unwrap();
    let statuses: Vec<String> = heard
        .iter()
        .map(|n| match n {
            Notice::Operation { status, .. } => status.clone(),
            other => panic!("unexpected notice {other}"),
        })
        .collect();
    // While it waits the second the service asked for, the status is said again and again.
    assert!(
        statuses.iter().filter(|s| *s == "InProgress").count() >= 5,
        "{statuses:?}"
    );
    assert_eq!(statuses.last().map(String::as_str), Some("Succeeded"));
    let line = heard[0].to_string();
    assert!(
        line.starts_with("PUT computes/cpu: InProgress after ")
            && line.ends_with("; waiting up to 3600 s (1.0 h) (AZUREML_OPERATION_TIMEOUT)"),
        "{line}"
    );
}

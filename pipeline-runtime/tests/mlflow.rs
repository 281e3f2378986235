//! The MLflow client against a fake MLflow server over real HTTP: metrics and series sent with
//! the token, refused or unreachable endpoints turned into warnings, the token never shown.

#![cfg(feature = "azure")]

use std::time::Duration;

use azureml_pipelines_runtime::mlflow::{
    Logged, MlflowClient, MlflowError, MlflowTarget, RUN_ID_ENV, SoftLogger, TOKEN_ENV,
    TRACKING_URI_ENV,
};
use azureml_pipelines_testkit::fake_mlflow::FakeMlflow;
use serde_json::json;

/// A runtime for the fake; the client under test blocks on its own.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn target(uri: &str, token: &str) -> MlflowTarget {
    let vars = [
        (TRACKING_URI_ENV, uri.to_owned()),
        (RUN_ID_ENV, "run-7".to_owned()),
        (TOKEN_ENV, token.to_owned()),
    ];
    MlflowTarget::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .unwrap()
        .unwrap()
}

fn client(uri: &str, token: &str) -> MlflowClient {
    MlflowClient::new(target(uri, token), Duration::from_secs(5)).unwrap()
}

#[test]
fn metrics_and_series_points_are_sent_to_the_run_with_the_token() {
    let rt = server_runtime();
    let fake = rt.block_on(FakeMlflow::start());
    let c = client(&fake.tracking_uri(), FakeMlflow::TOKEN);
    c.log_metric("rows", 150.0, 0).unwrap();
    for (step, loss) in [0.9, 0.5, 0.25].into_iter().enumerate() {
        c.log_metric("loss", loss, step as i64).unwrap();
    }

    let requests = fake.requests();
    assert_eq!(requests.len(), 4);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, FakeMlflow::log_metric_path());
        assert!(r.authorized, "{r:?}");
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
    }
    let metrics = fake.metrics();
    let ts = metrics[0]["timestamp"].as_i64().unwrap();
    assert!(ts > 1_700_000_000_000, "milliseconds since 1970: {ts}");
    assert_eq!(
        metrics[0],
        json!({"run_id": "run-7", "key": "rows", "value": 150.0, "timestamp": ts, "step": 0})
    );
    let series: Vec<(f64, i64)> = metrics[1..]
        .iter()
        .map(|m| {
            assert_eq!(m["key"], "loss");
            (m["value"].as_f64().unwrap(), m["step"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(series, [(0.9, 0), (0.5, 1), (0.25, 2)]);
}

#[test]
fn a_refused_token_is_an_error_that_does_not_show_the_token() {
    let rt = server_runtime();
    let fake = rt.block_on(FakeMlflow::start());
    let wrong = "wrong-token-0123456789abcdef";
    let c = client(&fake.tracking_uri(), wrong);
    let err = c.log_metric("rows", 1.0, 0).unwrap_err();
    assert!(
        matches!(err, MlflowError::Status { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    // The fake quotes the header it got; the error keeps the message, not the token.
    assert!(text.contains("was not accepted"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!format!("{err:?} {c:?}").contains(wrong));
    assert!(fake.metrics().is_empty());
}

#[test]
fn failures_become_warnings_and_sending_stops_after_three_in_a_row() {
    let rt = server_runtime();
    let fake = rt.block_on(FakeMlflow::start());
    let logger = SoftLogger::new(client(&fake.tracking_uri(), FakeMlflow::TOKEN));

    // One failure, then success: the counter starts again.
    fake.fail_next(503, 1);
    let Logged::Warned(line) = logger.log("loss", 0.5, 0) else {
        panic!("expected a warning");
    };
    assert!(
        line.starts_with("warning: metric `loss` not sent to MLflow: MLflow at 127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains("answered 503"), "{line}");
    assert!(line.ends_with("the step goes on"), "{line}");
    assert_eq!(logger.log("loss", 0.4, 1), Logged::Sent);

    fake.fail_next(500, 3);
    assert!(matches!(logger.log("loss", 0.3, 2), Logged::Warned(_)));
    assert!(matches!(logger.log("loss", 0.2, 3), Logged::Warned(_)));
    let Logged::Warned(last) = logger.log("loss", 0.1, 4) else {
        panic!("expected a warning");
    };
    assert!(
        last.ends_with("(no further metrics are sent to MLflow by this step)"),
        "{last}"
    );
    assert_eq!(logger.log("loss", 0.0, 5), Logged::Stopped);
    assert_eq!(fake.requests().len(), 5, "nothing sent once stopped");

    // A value MLflow cannot store warns without counting against the endpoint.
    let fresh = SoftLogger::new(client(&fake.tracking_uri(), FakeMlflow::TOKEN));
    let Logged::Warned(line) = fresh.log("loss", f64::NAN, 0) else {
        panic!("expected a warning");
    };
    assert!(line.contains("log a finite number"), "{line}");
}

#[test]
fn a_server_that_is_down_gives_a_warning_not_a_failure() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!(
        "http://127.0.0.1:{port}/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    );
    let logger = SoftLogger::new(client(&uri, "down-token-0123456789"));
    let Logged::Warned(line) = logger.log("rows", 150.0, 0) else {
        panic!("expected a warning");
    };
    assert!(
        line.starts_with(&format!(
            "warning: metric `rows` not sent to MLflow: sending metric `rows` to MLflow at 127.0.0.1:{port} failed"
        )),
        "{line}"
    );
    assert!(!line.contains("down-token"), "{line}");
}

#[test]
fn the_blocking_client_works_inside_an_async_context_too() {
    let rt = server_runtime();
    let fake = rt.block_on(FakeMlflow::start());
    let c = client(&fake.tracking_uri(), FakeMlflow::TOKEN);
    // A step body that happens to run inside a tokio runtime.
    rt.block_on(async { c.log_metric("inside", 1.0, 0) })
        .unwrap();
    assert_eq!(fake.metrics().len(), 1);
}

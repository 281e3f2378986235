//! Workspace config discovery and its error messages.

use std::collections::HashMap;
use std::fs;

use azureml_pipelines_runtime::azure::config::{ConfigError, WorkspaceConfig};

const GOOD: &str =
    r#"{"subscription_id": "sub-1", "resource_group": "rg-1", "workspace_name": "ws-1"}"#;

fn no_env() -> HashMap<&'static str, &'static str> {
    HashMap::new()
}

#[test]
fn finds_config_json_in_a_parent_directory() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("config.json"), GOOD).unwrap();
    let deep = root.path().join("a/b/c");
    fs::create_dir_all(&deep).unwrap();

    let config = WorkspaceConfig::discover(&deep, &no_env()).unwrap();
    assert_eq!(config.subscription_id, "sub-1");
    assert_eq!(config.resource_group, "rg-1");
    assert_eq!(config.workspace_name, "ws-1");
    assert_eq!(
        config.source.as_deref(),
        Some(root.path().join("config.json").as_path())
    );
    assert_eq!(
        config.arm_endpoint.as_str(),
        "https://management.azure.com/"
    );
}

#[test]
fn dot_azureml_wins_over_config_json_in_the_same_directory_and_nearest_directory_wins() {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("config.json"),
        GOOD.replace("ws-1", "outer"),
    )
    .unwrap();
    let inner = root.path().join("proj");
    fs::create_dir_all(inner.join(".azureml")).unwrap();
    fs::write(inner.join("config.json"), GOOD.replace("ws-1", "plain")).unwrap();
    fs::write(
        inner.join(".azureml/config.json"),
        GOOD.replace("ws-1", "dotted"),
    )
    .unwrap();

    let config = WorkspaceConfig::discover(&inner, &no_env()).unwrap();
    assert_eq!(config.workspace_name, "dotted");
}

#[test]
fn environment_overrides_each_key_and_the_endpoint() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("config.json"), GOOD).unwrap();
    let env = HashMap::from([
        ("AZUREML_WORKSPACE_NAME", "from-env"),
        ("AZUREML_ARM_ENDPOINT", "http://127.0.0.1:9999"),
    ]);
    let config = WorkspaceConfig::discover(root.path(), &env).unwrap();
    assert_eq!(config.workspace_name, "from-env");
    assert_eq!(config.resource_group, "rg-1");
    assert_eq!(config.arm_endpoint.as_str(), "http://127.0.0.1:9999/");
}

#[test]
fn environment_alone_is_enough() {
    let empty = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        ("AZUREML_SUBSCRIPTION_ID", "s"),
        ("AZUREML_RESOURCE_GROUP", "r"),
        ("AZUREML_WORKSPACE_NAME", "w"),
    ]);
    let config = WorkspaceConfig::discover(empty.path(), &env).unwrap();
    assert_eq!(
        config.resource_id(),
        "/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w"
    );
    assert_eq!(config.source, None);
}

#[test]
fn azureml_config_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("elsewhere.json");
    fs::write(&file, GOOD).unwrap();
    let file_str = file.to_str().unwrap().to_owned();
    let env: HashMap<String, String> =
        HashMap::from([("AZUREML_CONFIG".to_owned(), file_str.clone())]);
    let config = WorkspaceConfig::discover(std::path::Path::new("/"), &env).unwrap();
    assert_eq!(config.workspace_name, "ws-1");

    let missing: HashMap<String, String> =
        HashMap::from([("AZUREML_CONFIG".to_owned(), format!("{file_str}.nope"))]);
    let err = WorkspaceConfig::discover(dir.path(), &missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("elsewhere.json.nope"), "{err}");
}

#[test]
fn no_config_says_where_it_looked_and_what_to_set() {
    let empty = tempfile::tempdir().unwrap();
    let env = HashMap::from([("AZUREML_SUBSCRIPTION_ID", "s")]);
    let err = WorkspaceConfig::discover(empty.path(), &env).unwrap_err();
    let ConfigError::NotFound {
        searched,
        missing_env,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(searched[0], empty.path().join(".azureml/config.json"));
    assert_eq!(searched[1], empty.path().join("config.json"));
    assert_eq!(
        missing_env,
        &["AZUREML_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME"]
    );
    let text = err.to_string();
    assert!(text.contains("config.json"), "{text}");
    assert!(text.contains("AZUREML_WORKSPACE_NAME"), "{text}");
}

#[test]
fn malformed_file_names_the_file_and_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(&file, "{\"subscription_id\": \"s\",\n oops}").unwrap();
    let err = WorkspaceConfig::from_path(&file).unwrap_err();
    assert!(matches!(err, ConfigError::Malformed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(file.to_str().unwrap()), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn missing_or_empty_key_names_the_key_the_file_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(
        &file,
        r#"{"subscription_id": "s", "resource_group": "", "workspace_name": "w"}"#,
    )
    .unwrap();
    let err = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap_err();
    match &err {
        ConfigError::MissingKey { path, key, env } => {
            assert_eq!(path, &file);
            assert_eq!(*key, "resource_group");
            assert_eq!(*env, "AZUREML_RESOURCE_GROUP");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("`resource_group`"), "{err}");
}

#[test]
fn bad_endpoint_is_reported() {
    let env = HashMap::from([
        ("AZUREML_SUBSCRIPTION_ID", "s"),
        ("AZUREML_RESOURCE_GROUP", "r"),
        ("AZUREML_WORKSPACE_NAME", "w"),
        ("AZUREML_ARM_ENDPOINT", "not a url"),
    ]);
    let err =
        WorkspaceConfig::discover(std::path::Path::new("/nonexistent-dir"), &env).unwrap_err();
    assert!(matches!(err, ConfigError::BadEndpoint { .. }), "{err:?}");
}

#[test]
fn a_byte_order_mark_is_skipped_as_the_python_sdk_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(
        &file,
        "\u{feff}{\"subscription_id\": \"s\", \"resource_group\": \"rg\", \"workspace_name\": \"w\"}",
    )
    .unwrap();
    let config = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap();
    assert_eq!(
        (
            config.subscription_id.as_str(),
            config.resource_group.as_str(),
            config.workspace_name.as_str()
        ),
        ("s", "rg", "w")
    );
}

#[test]
fn a_scope_alone_names_the_workspace_and_wins_over_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(
        &file,
        r#"{"Scope": "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.MachineLearningServices/workspaces/ws-1"}"#,
    )
    .unwrap();
    let config = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap();
    assert_eq!(config.subscription_id, "sub-1");
    assert_eq!(config.resource_group, "rg-1");
    assert_eq!(config.workspace_name, "ws-1");
    fs::write(
        &file,
        r#"{"workspace_name": "other", "Scope": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"}"#,
    )
    .unwrap();
    let config = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap();
    assert_eq!(config.workspace_name, "w");
}

#[test]
fn a_scope_that_is_not_a_workspace_id_is_refused_with_the_expected_shape() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(&file, r#"{"Scope": "/subscriptions/s/resourceGroups/g"}"#).unwrap();
    let err = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap_err();
    assert!(matches!(err, ConfigError::BadScope { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/subscriptions/s/resourceGroups/g`"),
        "{text}"
    );
    assert!(text.contains("workspaces/<name>"), "{text}");
}

#[test]
fn a_json_array_is_refused_not_read_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    fs::write(&file, r#"["s", "rg", "w"]"#).unwrap();
    let err = WorkspaceConfig::discover(dir.path(), &no_env()).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::NotAnObject {
                found: "an array",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(file.to_str().unwrap()), "{text}");
    assert!(text.contains("holds an array, not a JSON object"), "{text}");
}

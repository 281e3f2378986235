//! Where node settings and output modes land in the wire forms (`azureml-rest.md` §4–§5):
//! `resources.instance_count` and `display_name` on a node, and an output's delivery mode carried
//! through a sub-pipeline to the pipeline component, the bindings and the job outputs.

use azureml_pipelines::graph::{DataLocation, InputValue};
use azureml_pipelines::prelude::*;
use azureml_pipelines::wire::{self, WireContext, YamlContext};
use serde_json::{Value, json};

#[step(
    command = "python fit.py --train ${{inputs.train}} --model ${{outputs.model}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "model",
    instance_count = 2,
    display_name = "Fit a model"
)]
fn fit(train: Data<UriFolder>) -> Data<UriFolder>;

#[step(
    command = "python evaluate.py --model ${{inputs.model}} --metrics ${{outputs.metrics}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(metrics(mode = "upload"))
)]
fn evaluate(model: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline(outputs(model, metrics))]
fn fit_and_evaluate(train: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>) {
    let model = fit(train);
    (model, evaluate(model))
}

#[pipeline(default_compute = "cpu-cluster", outputs(metrics, again))]
fn outer(train: Data<UriFolder>) -> (Data<UriFolder>, Data<UriFolder>) {
    let (_, metrics) = fit_and_evaluate(train);
    let _unpromoted = fit_and_evaluate(train);
    (metrics, evaluate(fit(train)))
}

const TRAIN: &str = "azureml://datastores/workspaceblobstore/paths/train/";

fn bodies() -> (Value, Vec<Value>) {
    let p = azureml_pipelines::build(outer).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(TRAIN.into())))];
    let b = wire::rest_bodies(&p, &inputs, &WireContext::default()).unwrap();
    let job = serde_json::to_value(&b.job).unwrap();
    let components = b
        .components
        .iter()
        .map(|c| serde_json::to_value(&c.body).unwrap())
        .collect();
    (job, components)
}

/// YAML written as if to the repository root.
fn yaml_ctx() -> YamlContext {
    YamlContext {
        base_dir: env!("CARGO_MANIFEST_DIR").into(),
        force_rerun: false,
    }
}

/// The YAML export of `outer`, with its input bound.
fn outer_yaml() -> wire::YamlExport {
    let p = azureml_pipelines::build(outer).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(TRAIN.into())))];
    wire::to_yaml(&p, &inputs, &yaml_ctx()).unwrap()
}

fn yaml() -> Value {
    serde_yaml_ng::from_str(outer_yaml().job()).unwrap()
}

/// A sub-pipeline component file of the YAML export, by the reference a node gives.
fn yaml_component(reference: &Value) -> Value {
    let export = outer_yaml();
    let name = reference.as_str().unwrap().trim_start_matches("./");
    let (_, text) = export
        .files
        .iter()
        .find(|(f, _)| f == name)
        .unwrap_or_else(|| panic!("no file {name}"));
    serde_yaml_ng::from_str(text).unwrap()
}

fn pipeline_component(components: &[Value]) -> &Value {
    let specs: Vec<&Value> = components
        .iter()
        .map(|c| &c["properties"]["componentSpec"])
        .filter(|s| s["type"] == "pipeline")
        .collect();
    assert_eq!(specs.len(), 1, "both calls share one pipeline component");
    specs[0]
}

#[test]
fn instance_count_and_display_name_sit_on_the_node() {
    let (job, components) = bodies();
    let fit = &job["properties"]["jobs"]["fit"];
    assert_eq!(fit["resources"], json!({ "instance_count": 2 }));
    assert_eq!(fit["display_name"], "Fit a model");
    assert!(fit.get("instanceCount").is_none() && fit.get("displayName").is_none());
    // A node without them has neither key.
    let evaluate = &job["properties"]["jobs"]["evaluate"];
    assert!(evaluate.get("resources").is_none() && evaluate.get("display_name").is_none());
    // Inside the pipeline component too; the command component names it as well.
    let inner = &pipeline_component(&components)["jobs"]["fit"];
    assert_eq!(inner["resources"], json!({ "instance_count": 2 }));
    assert_eq!(inner["display_name"], "Fit a model");
    let fit_spec = components
        .iter()
        .map(|c| &c["properties"]["componentSpec"])
        .find(|s| s["name"] == "fit")
        .unwrap();
    assert_eq!(fit_spec["display_name"], "Fit a model");
    assert!(
        fit_spec.get("resources").is_none(),
        "resources are a node setting"
    );

    let doc = yaml();
    assert_eq!(
        doc["jobs"]["fit"]["resources"],
        json!({ "instance_count": 2 })
    );
    assert_eq!(
        doc["jobs"]["fit"]["component"]["display_name"],
        "Fit a model"
    );
}

#[test]
fn an_output_mode_is_carried_through_a_sub_pipeline() {
    let (job, components) = bodies();
    let props = &job["properties"];
    // Inside the pipeline component: the binding keeps the step's mode, and the component's
    // output declares it.
    let spec = pipeline_component(&components);
    assert_eq!(
        spec["jobs"]["evaluate"]["outputs"]["metrics"],
        json!({ "value": "${{parent.outputs.metrics}}", "type": "literal", "mode": "Upload" })
    );
    assert_eq!(
        spec["outputs"],
        json!({ "model": { "type": "uri_folder" }, "metrics": { "type": "uri_folder", "mode": "upload" } })
    );
    // Outside: promoted and unpromoted node outputs, and the job output, all say `Upload`.
    assert_eq!(
        props["jobs"]["fit_and_evaluate"]["outputs"]["metrics"],
        json!({ "value": "${{parent.outputs.metrics}}", "type": "literal", "mode": "Upload" })
    );
    assert_eq!(
        props["jobs"]["fit_and_evaluate_1"]["outputs"]["metrics"],
        json!({ "job_output_type": "uri_folder", "mode": "Upload" })
    );
    assert_eq!(
        props["jobs"]["fit_and_evaluate"]["outputs"]["model"],
        json!({ "job_output_type": "uri_folder" })
    );
    assert_eq!(
        props["outputs"],
        json!({
            "metrics": { "jobOutputType": "uri_folder", "mode": "Upload" },
            "again": { "jobOutputType": "uri_folder", "mode": "Upload" }
        })
    );

    let doc = yaml();
    let component = &yaml_component(&doc["jobs"]["fit_and_evaluate"]["component"]);
    assert_eq!(component["outputs"]["metrics"]["mode"], "upload");
    assert_eq!(
        component["jobs"]["evaluate"]["outputs"]["metrics"],
        json!({ "path": "${{parent.outputs.metrics}}", "mode": "upload" })
    );
    assert_eq!(
        doc["jobs"]["fit_and_evaluate"]["outputs"]["metrics"],
        json!({ "path": "${{parent.outputs.metrics}}", "mode": "upload" })
    );
    assert_eq!(doc["outputs"]["metrics"]["mode"], "upload");
}

// ---- defects Microsoft's loader found (issue: one typed wire model) ----

#[step(
    command = "python echo.py --word ${{inputs.word}} --out ${{outputs.out}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "out",
    env(on = "yes", COUNT = "1_000")
)]
fn echo(word: Param<String>) -> Data<UriFolder>;

#[pipeline(tags(yes = "no", when = "2001-12-14"))]
fn traps(word: Param<String>) -> Data<UriFolder> {
    echo(word)
}

/// The strings a YAML 1.1 reader takes for something else.
const TRAPS: [&str; 9] = [
    "yes",
    "on",
    "12:30",
    "1_000",
    "2001-12-14",
    "=",
    "<<",
    "~",
    "0x1F",
];

#[test]
fn every_yaml_string_is_quoted_so_yaml_1_1_reads_the_same_string() {
    let p = azureml_pipelines::build(traps).unwrap();
    let ctx = yaml_ctx();
    for trap in TRAPS {
        let inputs = [Some(InputValue::Literal(
            azureml_pipelines::graph::Literal::String(trap.into()),
        ))];
        let text = wire::to_yaml(&p, &inputs, &ctx).unwrap().job().to_owned();
        // Written double-quoted, so no resolver of either version reads it as a bool, a number,
        // a date, a merge key or a value indicator.
        assert!(
            text.contains(&format!("  word: \"{trap}\"\n")),
            "{trap} unquoted:\n{text}"
        );
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(doc["inputs"]["word"], trap);
    }
    let text = wire::to_yaml(&p, &[None], &ctx).unwrap().job().to_owned();
    // Keys a YAML 1.1 reader takes for booleans are quoted too; their values always are.
    assert!(text.contains("  \"yes\": \"no\"\n"), "{text}");
    assert!(text.contains("  when: \"2001-12-14\"\n"), "{text}");
    assert!(text.contains("      \"on\": \"yes\"\n"), "{text}");
    assert!(text.contains("      COUNT: \"1_000\"\n"), "{text}");
    // No plain scalar anywhere but numbers, booleans and keys.
    for line in text.lines() {
        let value = line.split_once(": ").map(|(_, v)| v).unwrap_or("");
        assert!(
            value.is_empty()
                || value == "{}"
                || value.starts_with('"')
                || value == "true"
                || value == "false"
                || value.parse::<f64>().is_ok(),
            "plain scalar in `{line}`"
        );
    }
}

#[test]
fn a_sub_pipeline_is_written_to_its_own_file_and_referenced() {
    let export = outer_yaml();
    let names: Vec<&str> = export.files.iter().map(|(n, _)| n.as_str()).collect();
    // Both calls share one component file.
    assert_eq!(names, ["pipeline.yml", "fit_and_evaluate.component.yml"]);
    let doc: Value = serde_yaml_ng::from_str(export.job()).unwrap();
    for node in ["fit_and_evaluate", "fit_and_evaluate_1"] {
        assert_eq!(doc["jobs"][node]["type"], "pipeline");
        assert_eq!(
            doc["jobs"][node]["component"], "./fit_and_evaluate.component.yml",
            "the loader takes a pipeline component only from a file"
        );
    }
    let component: Value = serde_yaml_ng::from_str(&export.files[1].1).unwrap();
    assert_eq!(component["type"], "pipeline");
    assert_eq!(component["name"], "fit_and_evaluate");
    // Command components stay inline, inside the component file too.
    assert_eq!(component["jobs"]["fit"]["component"]["type"], "command");
    // Several files have no single printable form.
    assert_eq!(export.single(), None);
    assert_eq!(
        export.file_names(),
        ["pipeline.yml", "fit_and_evaluate.component.yml"]
    );
}

#[pipeline]
fn with_default(train: Data<UriFolder>, #[default(3)] k: Param<i64>) -> Data<UriFolder> {
    let _ = k;
    fit(train)
}

#[pipeline]
fn calls_with_default(train: Data<UriFolder>) -> Data<UriFolder> {
    with_default(train, 5.into())
}

#[test]
fn pipeline_component_defaults_are_strings_on_the_wire() {
    let p = azureml_pipelines::build(calls_with_default).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(TRAIN.into())))];
    let b = wire::rest_bodies(&p, &inputs, &WireContext::default()).unwrap();
    let spec = b
        .components
        .iter()
        .map(|c| serde_json::to_value(&c.body).unwrap())
        .map(|c| c["properties"]["componentSpec"].clone())
        .find(|s| s["type"] == "pipeline")
        .unwrap();
    assert_eq!(
        spec["inputs"]["k"],
        json!({ "type": "integer", "default": "3" })
    );
}

fn job_input_uri(location: &str, latest: &[(&str, &str)]) -> Value {
    let p = azureml_pipelines::build(outer).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(location.into())))];
    let mut ctx = WireContext {
        workspace: wire::WorkspaceScope {
            subscription_id: "sub".into(),
            resource_group: "rg".into(),
            workspace_name: "ws".into(),
        },
        ..WireContext::default()
    };
    for (name, version) in latest {
        ctx.latest_data
            .insert((*name).to_owned(), (*version).to_owned());
    }
    let b = wire::rest_bodies(&p, &inputs, &ctx).unwrap();
    serde_json::to_value(&b.job).unwrap()["properties"]["inputs"]["train"].clone()
}

const WS_ID: &str = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

#[test]
fn a_data_asset_input_is_sent_as_its_arm_id() {
    assert_eq!(
        job_input_uri("azureml:iris:3", &[])["uri"],
        format!("{WS_ID}/data/iris/versions/3")
    );
    // `@latest` as resolved by submission; unresolved (export without a workspace) a placeholder.
    assert_eq!(
        job_input_uri("azureml:iris@latest", &[("iris", "7")])["uri"],
        format!("{WS_ID}/data/iris/versions/7")
    );
    assert_eq!(
        job_input_uri("azureml:iris@latest", &[])["uri"],
        format!("{WS_ID}/data/iris/versions/{{latest}}")
    );
    // Datastore URIs are sent as they are.
    assert_eq!(job_input_uri(TRAIN, &[])["uri"], TRAIN);
}

/// Every node input as `(node path, port, binding)`, from the REST bodies, sub-pipelines
/// followed through their registered components.
fn rest_bindings<'a>(
    jobs: impl IntoIterator<Item = (&'a String, &'a wire::rest::NodeJob)>,
    bodies: &'a wire::RestBodies,
    prefix: &str,
    out: &mut Vec<[String; 3]>,
) {
    for (name, node) in jobs {
        for (port, input) in &node.inputs {
            let b = input.value.clone().or(input.uri.clone()).unwrap();
            out.push([format!("{prefix}{name}"), port.clone(), b]);
        }
        if node.node_type == wire::rest::ComponentType::Pipeline {
            let put = bodies
                .components
                .iter()
                .find(|c| {
                    node.component_id
                        .ends_with(&format!("/versions/{}", c.version))
                })
                .expect("the node's component is registered");
            let inner = put.body.properties.component_spec.jobs.as_ref().unwrap();
            rest_bindings(inner, bodies, &format!("{prefix}{name}."), out);
        }
    }
}

/// The same, from the YAML files: a binding is the plain string, or the `path` of a mapping.
fn yaml_bindings(
    jobs: &Value,
    export: &wire::YamlExport,
    prefix: &str,
    out: &mut Vec<[String; 3]>,
) {
    for (name, node) in jobs.as_object().unwrap() {
        for (port, input) in node["inputs"].as_object().unwrap() {
            let b = match input {
                Value::Object(m) => m["path"].as_str().unwrap().to_owned(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push([format!("{prefix}{name}"), port.clone(), b]);
        }
        if node["type"] == "pipeline" {
            let file = node["component"].as_str().unwrap().trim_start_matches("./");
            let (_, text) = export.files.iter().find(|(f, _)| f == file).unwrap();
            let component: Value = serde_yaml_ng::from_str(text).unwrap();
            yaml_bindings(&component["jobs"], export, &format!("{prefix}{name}."), out);
        }
    }
}

/// Both wire forms are renderings of one lowering: every node, sub-pipelines included, binds
/// the same ports to the same things in the REST bodies and in the YAML files.
#[test]
fn rest_and_yaml_bind_every_node_alike() {
    let p = azureml_pipelines::build(outer).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(TRAIN.into())))];
    let bodies = wire::rest_bodies(&p, &inputs, &WireContext::default()).unwrap();
    let mut rest = Vec::new();
    rest_bindings(&bodies.job.properties.jobs, &bodies, "", &mut rest);
    let export = outer_yaml();
    let mut yaml = Vec::new();
    yaml_bindings(&self::yaml()["jobs"], &export, "", &mut yaml);
    assert!(rest.len() >= 8, "{rest:?}");
    assert!(
        rest.iter().any(|[n, ..]| n.contains('.')),
        "sub-pipeline nodes are compared"
    );
    assert_eq!(rest, yaml);
}

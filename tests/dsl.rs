//! What a pipeline declares beyond types, built and lowered: the environment a step inherits
//! from `default_environment` (and the error when there is none), job `properties`, parameter
//! rules checked on `--param`, optional step inputs left out, and plain string defaults.

use std::path::Path;

use azureml_pipelines::graph::{BindError, Binding, BuildError, DataLocation, InputValue, Literal};
use azureml_pipelines::prelude::*;
use azureml_pipelines::wire::{self, WireContext};
use serde_json::Value;

const TRAIN: &str = "azureml://datastores/workspaceblobstore/paths/train/";

#[step(
    command = "python fit.py --train ${{inputs.train}} $[[--seed ${{inputs.seed}}]] --model ${{outputs.model}}",
    output = "model"
)]
fn fit(train: Data<UriFolder>, seed: Option<Param<i64>>) -> Data<UriFolder>;

#[step(
    command = "python score.py --model ${{inputs.model}} --out ${{outputs.out}}",
    environment = "python:3.12",
    output = "out"
)]
fn score(model: Data<UriFolder>) -> Data<UriFolder>;

/// A sub-pipeline without its own default: its `fit` inherits the caller's.
#[pipeline]
fn inner(train: Data<UriFolder>) -> Data<UriFolder> {
    fit(train, None)
}

#[pipeline(
    default_environment = "azureml:AzureML-sklearn-1.5@latest",
    properties(owner = "ml-team", stage = "dev")
)]
fn flow(
    train: Data<UriFolder>,
    #[default(3)]
    #[min(1)]
    #[max(10)]
    rounds: Param<i64>,
    #[default("fast")]
    #[allowed("fast", "slow")]
    speed: Param<String>,
) -> Data<UriFolder> {
    let _ = (rounds, speed);
    let model = fit(train, Some(Param::from(7)));
    let again = inner(train);
    let _ = score(again);
    score(model)
}

/// An output registered as a data asset, with a version.
#[pipeline(
    default_environment = "python:3.12",
    outputs(model(
        name = "iris-model",
        version = "3",
        path = "azureml://datastores/workspaceblobstore/paths/models/"
    ))
)]
fn registered(train: Data<UriFolder>) -> Data<UriFolder> {
    fit(train, None)
}

#[step(
    command = "python t.py --epochs ${{inputs.epochs}}",
    environment = "python:3.12"
)]
fn bounded(
    #[min(1)]
    #[max(10)]
    epochs: Param<i64>,
);

#[pipeline]
fn constant_out_of_range() {
    bounded(50);
}

#[pipeline]
fn no_default(train: Data<UriFolder>) -> Data<UriFolder> {
    fit(train, None)
}

fn bodies(ctx: &WireContext) -> (Value, Vec<Value>) {
    let p = azureml_pipelines::build(flow).unwrap();
    let inputs = p
        .bind(&[], &[("train".into(), TRAIN.into())], Path::new("."))
        .unwrap();
    let inputs: Vec<Option<InputValue>> = inputs.into_iter().map(Some).collect();
    let b = wire::rest_bodies(&p, &inputs, ctx).unwrap();
    let components = b
        .components
        .iter()
        .map(|c| serde_json::to_value(&c.body.properties.component_spec).unwrap())
        .collect();
    (serde_json::to_value(&b.job.properties).unwrap(), components)
}

#[test]
fn steps_inherit_the_default_environment_and_their_own_wins() {
    let p = azureml_pipelines::build(flow).unwrap();
    let env = |name: &str| p.node(name).unwrap().1.environment;
    assert_eq!(env("fit"), Some("azureml:AzureML-sklearn-1.5@latest"));
    assert_eq!(env("score"), Some("python:3.12"));
    // Through a sub-pipeline that sets none.
    let azureml_pipelines::graph::Component::Pipeline(sub) = &p.node("inner").unwrap().1.component
    else {
        panic!("a sub-pipeline")
    };
    assert_eq!(
        sub.nodes[0].environment,
        Some("azureml:AzureML-sklearn-1.5@latest")
    );
    let (_, components) = bodies(&WireContext::default());
    let envs: Vec<&str> = components
        .iter()
        .filter_map(|c| c["environment"].as_str())
        .collect();
    assert!(
        envs.contains(&"azureml:AzureML-sklearn-1.5@latest"),
        "{envs:?}"
    );
    assert!(envs.contains(&"python:3.12"), "{envs:?}");
}

#[test]
fn a_step_without_any_environment_is_an_error_naming_both_ways() {
    let e = azureml_pipelines::build(no_default).unwrap_err();
    assert_eq!(
        e,
        BuildError::NoEnvironment {
            step: "fit",
            pipeline: "no_default"
        }
    );
    let text = e.to_string();
    assert!(
        text.contains("`environment = \"azureml:NAME@latest\"` to the `#[step]`"),
        "{text}"
    );
    assert!(
        text.contains("`default_environment = \"azureml:NAME@latest\"` to the `#[pipeline]`"),
        "{text}"
    );
}

#[test]
fn pipeline_properties_reach_the_job_and_submission_adds_its_own() {
    let mut ctx = WireContext::default();
    ctx.properties.insert("stage".into(), "prod".into());
    ctx.properties
        .insert("azureml.git.branch".into(), "main".into());
    let (job, _) = bodies(&ctx);
    assert_eq!(job["properties"]["owner"], "ml-team");
    assert_eq!(job["properties"]["azureml.git.branch"], "main");
    // What submission adds wins over a value the pipeline declares.
    assert_eq!(job["properties"]["stage"], "prod");
}

#[test]
fn an_optional_input_left_out_is_not_sent_and_a_given_one_is() {
    let p = azureml_pipelines::build(flow).unwrap();
    assert_eq!(
        p.node("fit").unwrap().1.inputs[1],
        Binding::Literal(Literal::Integer(7))
    );
    let (job, components) = bodies(&WireContext::default());
    assert_eq!(job["jobs"]["fit"]["inputs"]["seed"]["value"], "7");
    let spec = components.iter().find(|c| c["name"] == "fit").unwrap();
    assert_eq!(spec["inputs"]["seed"]["optional"], true);
    let Some(Value::Object(inner)) = components
        .iter()
        .find(|c| c["type"] == "pipeline")
        .map(|c| c["jobs"]["fit"]["inputs"].clone())
    else {
        panic!("the sub-pipeline's fit node")
    };
    assert!(!inner.contains_key("seed"), "{inner:?}");
}

#[test]
fn params_are_checked_against_their_rules_when_bound() {
    let p = azureml_pipelines::build(flow).unwrap();
    let bind = |param: &str, value: &str| {
        p.bind(
            &[(param.into(), value.into())],
            &[("train".into(), TRAIN.into())],
            Path::new("."),
        )
    };
    assert!(bind("rounds", "10").is_ok());
    assert_eq!(
        bind("rounds", "11").unwrap_err(),
        BindError::BadValue {
            name: "rounds".into(),
            ty: "i64",
            reason: "`11` is out of range; it must be between 1 and 10".into()
        }
    );
    assert!(bind("rounds", "0").is_err());
    assert!(bind("speed", "slow").is_ok());
    let e = bind("speed", "Fast").unwrap_err().to_string();
    assert_eq!(
        e,
        "bad value for parameter `speed` (String): `Fast` is not allowed; it must be one of `fast`, `slow`"
    );
    // The defaults: a plain string literal for a `Param<String>`.
    let values = p
        .bind(&[], &[("train".into(), TRAIN.into())], Path::new("."))
        .unwrap();
    assert_eq!(
        values[2],
        InputValue::Literal(Literal::String("fast".into()))
    );
    assert_eq!(values[0], InputValue::Data(DataLocation::Uri(TRAIN.into())));
}

#[test]
fn an_output_registered_as_a_data_asset_carries_its_name_version_and_path() {
    let p = azureml_pipelines::build(registered).unwrap();
    let inputs = [Some(InputValue::Data(DataLocation::Uri(TRAIN.into())))];
    let b = wire::rest_bodies(&p, &inputs, &WireContext::default()).unwrap();
    let job = serde_json::to_value(&b.job.properties).unwrap();
    assert_eq!(
        job["outputs"]["model"],
        serde_json::json!({
            "jobOutputType": "uri_folder",
            "uri": "azureml://datastores/workspaceblobstore/paths/models/",
            "assetName": "iris-model"
        })
    );
    let ctx = wire::YamlContext {
        base_dir: env!("CARGO_MANIFEST_DIR").into(),
        force_rerun: false,
    };
    let yaml = wire::to_yaml(&p, &inputs, &ctx).unwrap();
    let doc: Value = serde_yaml_ng::from_str(yaml.job()).unwrap();
    assert_eq!(
        doc["outputs"]["model"],
        serde_json::json!({
            "type": "uri_folder",
            "path": "azureml://datastores/workspaceblobstore/paths/models/",
            "name": "iris-model",
            "version": "3"
        })
    );
}

#[test]
fn a_constant_outside_a_step_ports_rules_is_an_error_when_built() {
    let e = azureml_pipelines::build(constant_out_of_range).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`bounded` input `epochs`: `50` is out of range; it must be between 1 and 10; pass a value the step accepts"
    );
}

//! The pipeline graph built from `#[step]` / `#[pipeline]` fns: nodes, names, bindings, edges,
//! order, sub-pipelines, and errors for misuse.

use azureml_pipelines::graph::{
    AssetType, Binding, BuildError, Component, DataLocation, InputMode, InputValue, Literal,
    OutputMode, OutputRef, ParamType, PortType,
};
use azureml_pipelines::prelude::*;

const ENV: &str = "azureml:AzureML-sklearn-1.5@latest";

#[step(
    script = "split.py",
    source_dir = "examples/model_selection/src",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(train, test(mode = "upload"))
)]
fn split(
    #[mode(ro_mount)] raw: Data<UriFile>,
    test_percent: Param<i64>,
) -> (Data<UriFolder>, Data<UriFolder>);

#[step(
    script = "fit.py",
    source_dir = "examples/model_selection/src",
    compute = "aml-compute",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    output = "model",
    instance_count = 2,
    env(SEED = "1")
)]
fn fit(train: Data<UriFolder>, k: Param<i64>) -> Data<UriFolder>;

#[step(
    command = "python evaluate.py --model ${{inputs.model}} --test ${{inputs.test}} --metrics ${{outputs.metrics}}",
    environment = "azureml:AzureML-sklearn-1.5@latest",
    outputs(metrics),
    reuse = false,
    display_name = "Evaluate"
)]
fn evaluate(model: Data<UriFolder>, test: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline(outputs(model, metrics))]
fn fit_eval(
    train: Data<UriFolder>,
    test: Data<UriFolder>,
    #[default(3)] k: Param<i64>,
) -> (Data<UriFolder>, Data<UriFolder>) {
    let model = fit(train, k);
    (model, evaluate(model, test))
}

/// Twice the same step, a sub-pipeline twice, constants and pipeline parameters.
#[pipeline(
    experiment = "graph_tests",
    default_compute = "cpu-cluster",
    continue_on_step_failure = true,
    tags(a = "1"),
    outputs(first, second)
)]
fn selection(
    #[default("examples/compare_models/data/iris.csv")] iris: Data<UriFile>,
    #[default(20)] test_percent: Param<i64>,
) -> (Data<UriFolder>, Data<UriFolder>) {
    let (train, test) = split(iris, test_percent);
    let direct = fit(train, 7);
    let _again = fit(train, test_percent);
    let (_, one) = fit_eval(train, test, Param::from(1));
    let (_, two) = fit_eval(train, test, 2.into());
    let fixed = evaluate(
        direct,
        Data::at("azureml://datastores/workspaceblobstore/paths/holdout/"),
    );
    let _ = fixed;
    (one, two)
}

#[test]
fn nodes_get_unique_names_in_call_order() {
    let p = azureml_pipelines::build(selection).unwrap();
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "split",
            "fit",
            "fit_1",
            "fit_eval",
            "fit_eval_1",
            "evaluate"
        ]
    );
    assert_eq!(p.topological_order(), (0..names.len()).collect::<Vec<_>>());
}

#[test]
fn pipeline_settings_inputs_and_outputs() {
    let p = azureml_pipelines::build(selection).unwrap();
    assert_eq!(p.name, "selection");
    assert_eq!(p.experiment_name(), "graph_tests");
    assert_eq!(p.settings.default_compute.as_deref(), Some("cpu-cluster"));
    assert!(p.settings.continue_on_step_failure);
    assert_eq!(p.tags.get("a").map(String::as_str), Some("1"));
    assert_eq!(p.inputs[0].ty, PortType::Data(AssetType::UriFile));
    assert_eq!(
        p.inputs[0].default,
        Some(InputValue::Data(DataLocation::Local(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/compare_models/data/iris.csv")
        )))
    );
    assert_eq!(p.inputs[1].ty, PortType::Param(ParamType::Integer));
    assert_eq!(
        p.inputs[1].default,
        Some(InputValue::Literal(Literal::Integer(20)))
    );
    let outs: Vec<_> = p
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.from))
        .collect();
    assert_eq!(
        outs,
        [
            ("first", OutputRef { node: 3, output: 1 }),
            ("second", OutputRef { node: 4, output: 1 })
        ]
    );
}

#[test]
fn bindings_and_edges() {
    let p = azureml_pipelines::build(selection).unwrap();
    let (_, split) = p.node("split").unwrap();
    assert_eq!(split.inputs, [Binding::Input(0), Binding::Input(1)]);
    let (_, fit) = p.node("fit").unwrap();
    assert_eq!(
        fit.inputs,
        [
            Binding::Output(OutputRef { node: 0, output: 0 }),
            Binding::Literal(Literal::Integer(7))
        ]
    );
    let (_, fit_1) = p.node("fit_1").unwrap();
    assert_eq!(fit_1.inputs[1], Binding::Input(1));
    let (_, eval) = p.node("evaluate").unwrap();
    assert_eq!(
        eval.inputs[1],
        Binding::Data(DataLocation::Uri(
            "azureml://datastores/workspaceblobstore/paths/holdout/".into()
        ))
    );
    // split feeds fit, fit_1 and both sub-pipelines (train and test each); fit feeds evaluate.
    assert_eq!(p.edges().len(), 7);
    assert_eq!(p.upstream(5), [1]);
    assert_eq!(p.upstream(3), [0]);
}

#[test]
fn steps_carry_their_declaration() {
    let p = azureml_pipelines::build(selection).unwrap();
    let Component::Step(split) = p.nodes[0].component else {
        panic!()
    };
    assert_eq!(
        split.command,
        "python split.py --raw ${{inputs.raw}} --test_percent ${{inputs.test_percent}} --train ${{outputs.train}} --test ${{outputs.test}}"
    );
    assert_eq!(split.environment, Some(ENV));
    assert_eq!(split.inputs[0].mode, Some(InputMode::ReadOnlyMount));
    assert_eq!(split.outputs[1].mode, Some(OutputMode::Upload));
    assert!(split.source_path().unwrap().join("split.py").is_file());
    let Component::Step(fit) = p.nodes[1].component else {
        panic!()
    };
    assert_eq!(fit.instance_count, Some(2));
    assert_eq!(fit.environment_variables, [("SEED", "1")]);
    assert!(fit.reuse);
    let Component::Step(eval) = p.nodes[5].component else {
        panic!()
    };
    assert!(!eval.reuse);
    assert_eq!(eval.display_name, Some("Evaluate"));
    assert_eq!(eval.source_dir, None);
    // Distinct steps, counted once each even when called several times and inside sub-pipelines.
    let steps: Vec<&str> = p.steps().iter().map(|s| s.name).collect();
    assert_eq!(steps, ["split", "fit", "evaluate"]);
}

#[test]
fn sub_pipelines_are_pipelines_of_their_own() {
    let p = azureml_pipelines::build(selection).unwrap();
    let Component::Pipeline(inner) = &p.nodes[3].component else {
        panic!("not a sub-pipeline")
    };
    assert_eq!(inner.name, "fit_eval");
    assert_eq!(inner.nodes.len(), 2);
    assert_eq!(
        inner.nodes[0].inputs,
        [Binding::Input(0), Binding::Input(2)]
    );
    assert_eq!(inner.outputs.len(), 2);
    assert_eq!(p.nodes[3].inputs[2], Binding::Literal(Literal::Integer(1)));
    assert_eq!(p.nodes[4].inputs[2], Binding::Literal(Literal::Integer(2)));
}

#[test]
fn bind_parses_params_and_applies_defaults() {
    let p = azureml_pipelines::build(selection).unwrap();
    let cwd = std::path::Path::new("/work");
    let values = p
        .bind(
            &[("test_percent".into(), "30".into())],
            &[("iris".into(), "data/x.csv".into())],
            cwd,
        )
        .unwrap();
    assert_eq!(
        values[0],
        InputValue::Data(DataLocation::Local(cwd.join("data/x.csv")))
    );
    assert_eq!(values[1], InputValue::Literal(Literal::Integer(30)));
    let defaults = p.bind(&[], &[], cwd).unwrap();
    assert_eq!(defaults[1], InputValue::Literal(Literal::Integer(20)));
    let err = p
        .bind(&[("test_percent".into(), "3.5".into())], &[], cwd)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad value for parameter `test_percent` (i64): `3.5` is not an integer"
    );
    let err = p
        .bind(
            &[
                ("test_percent".into(), "1".into()),
                ("test_percent".into(), "2".into()),
            ],
            &[],
            cwd,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "`test_percent` was given more than once");
}

#[pipeline]
fn needs_input(data: Data<UriFolder>) -> Data<UriFolder> {
    fit(data, 1)
}

#[test]
fn missing_required_input_names_the_flag() {
    let p = azureml_pipelines::build(needs_input).unwrap();
    let err = p.bind(&[], &[], std::path::Path::new(".")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pipeline input `data` (uri_folder) has no value and no default; pass `--input data=...`"
    );
}

fn not_a_pipeline(data: Data<UriFolder>) -> Data<UriFolder> {
    fit(data, 1)
}

#[test]
fn steps_outside_a_pipeline_are_reported() {
    let err = azureml_pipelines::build(not_a_pipeline).unwrap_err();
    assert_eq!(err, BuildError::StepOutsidePipeline("fit"));
}

#[test]
fn calling_a_step_from_plain_code_is_reported_by_the_next_build() {
    let _ = fit(Data::at("x"), 1);
    let err = azureml_pipelines::build(selection).unwrap_err();
    assert_eq!(err, BuildError::StepOutsidePipeline("fit"));
    assert!(azureml_pipelines::build(selection).is_ok(), "reported once");
}

#[test]
fn calling_a_pipeline_from_plain_code_is_reported_by_the_next_build() {
    let _ = needs_input(Data::at("x"));
    let err = azureml_pipelines::build(selection).unwrap_err();
    assert_eq!(err, BuildError::PipelineOutsideBuilder("needs_input"));
}

#[pipeline]
fn ping(data: Data<UriFolder>) -> Data<UriFolder> {
    pong(data)
}

#[pipeline]
fn pong(data: Data<UriFolder>) -> Data<UriFolder> {
    ping(data)
}

#[test]
fn a_pipeline_that_contains_itself_is_an_error_not_a_stack_overflow() {
    let err = azureml_pipelines::build(ping).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pipeline `ping` contains itself (ping → pong → ping); a pipeline cannot call itself, directly or through a sub-pipeline"
    );
}

#[pipeline]
fn passes_its_input_through(data: Data<UriFolder>) -> Data<UriFolder> {
    data
}

#[test]
fn a_pipeline_without_steps_is_an_error() {
    let err = azureml_pipelines::build(passes_its_input_through).unwrap_err();
    assert_eq!(
        err,
        BuildError::EmptyPipeline("passes_its_input_through".to_owned())
    );
}

#[test]
fn builds_are_independent_and_repeatable() {
    let a = azureml_pipelines::build(selection).unwrap();
    let b = azureml_pipelines::build(selection).unwrap();
    assert_eq!(format!("{:?}", a.nodes), format!("{:?}", b.nodes));
}

//! The pipeline job YAML of the Azure ML CLI v2 (`az ml job create --file pipeline.yml`), with
//! every component inline and local paths relative to the YAML file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::SpecError;
use super::job::literal_json;
use crate::graph::{Binding, Component, DataLocation, InputValue, Pipeline, PortType, StepDef};

/// Where the YAML will be written (local paths are made relative to it).
#[derive(Debug, Clone)]
pub struct YamlContext {
    /// The folder the YAML file is in (or the current directory when printed).
    pub base_dir: PathBuf,
    /// `settings.force_rerun`.
    pub force_rerun: bool,
}

fn rel(base: &Path, path: &Path) -> String {
    let r = pathdiff::diff_paths(path, base).unwrap_or_else(|| path.to_path_buf());
    let s = r.to_string_lossy().replace('\\', "/");
    if s.starts_with("../") || s.starts_with('/') {
        s
    } else {
        format!("./{s}")
    }
}

fn location(base: &Path, loc: &DataLocation) -> String {
    match loc {
        DataLocation::Uri(u) => u.clone(),
        DataLocation::Local(p) => rel(base, p),
    }
}

/// Writes `pipeline` as a CLI v2 pipeline job YAML document.
pub fn to_yaml(
    pipeline: &Pipeline,
    inputs: &[Option<InputValue>],
    ctx: &YamlContext,
) -> Result<String, SpecError> {
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json".into(),
    );
    doc.insert("type".into(), "pipeline".into());
    doc.insert(
        "display_name".into(),
        pipeline
            .display_name
            .clone()
            .unwrap_or_else(|| pipeline.name.clone())
            .into(),
    );
    if let Some(d) = &pipeline.description {
        doc.insert("description".into(), d.clone().into());
    }
    doc.insert("experiment_name".into(), pipeline.experiment_name().into());
    if !pipeline.tags.is_empty() {
        doc.insert("tags".into(), json!(pipeline.tags));
    }
    let mut settings = Map::new();
    if let Some(c) = &pipeline.settings.default_compute {
        settings.insert("default_compute".into(), format!("azureml:{c}").into());
    }
    if let Some(d) = &pipeline.settings.default_datastore {
        settings.insert("default_datastore".into(), format!("azureml:{d}").into());
    }
    settings.insert(
        "continue_on_step_failure".into(),
        pipeline.settings.continue_on_step_failure.into(),
    );
    if ctx.force_rerun {
        settings.insert("force_rerun".into(), true.into());
    }
    doc.insert("settings".into(), settings.into());
    let mut ins = Map::new();
    for (input, value) in pipeline.inputs.iter().zip(inputs) {
        let Some(value) = value else { continue };
        let v = match (value, input.ty) {
            (InputValue::Literal(l), _) => literal_json(l),
            (InputValue::Data(loc), PortType::Data(asset)) => {
                let mut m = Map::new();
                m.insert("type".into(), asset.as_str().into());
                m.insert("path".into(), location(&ctx.base_dir, loc).into());
                if let Some(mode) = input.mode {
                    m.insert("mode".into(), mode.as_str().into());
                }
                m.into()
            }
            (InputValue::Data(_), PortType::Param(_)) => {
                return Err(SpecError::TypeMismatch {
                    input: input.name.clone(),
                });
            }
        };
        ins.insert(input.name.clone(), v);
    }
    doc.insert("inputs".into(), ins.into());
    let mut outs = Map::new();
    for (i, o) in pipeline.outputs.iter().enumerate() {
        let mut m = Map::new();
        m.insert("type".into(), o.ty.as_str().into());
        if let Some(mode) = pipeline.output_mode(i) {
            m.insert("mode".into(), mode.as_str().into());
        }
        outs.insert(o.name.clone(), m.into());
    }
    doc.insert("outputs".into(), outs.into());
    doc.insert("jobs".into(), jobs(pipeline, &ctx.base_dir)?.into());
    let mut text = serde_yaml_ng::to_string(&Value::Object(doc)).expect("YAML serializes");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn jobs(pipeline: &Pipeline, base: &Path) -> Result<Map<String, Value>, SpecError> {
    let mut jobs = Map::new();
    for (index, node) in pipeline.nodes.iter().enumerate() {
        let mut job = Map::new();
        let modes: Vec<Option<&'static str>> = match &node.component {
            Component::Step(step) => {
                job.insert("type".into(), "command".into());
                job.insert("component".into(), command_component(step, base)?.into());
                if let Some(c) = step.compute {
                    job.insert("compute".into(), format!("azureml:{c}").into());
                }
                if let Some(n) = step.instance_count {
                    job.insert("resources".into(), json!({ "instance_count": n }));
                }
                if !step.environment_variables.is_empty() {
                    let env: Map<String, Value> = step
                        .environment_variables
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
                        .collect();
                    job.insert("environment_variables".into(), env.into());
                }
                step.inputs
                    .iter()
                    .map(|i| i.mode.map(|m| m.as_str()))
                    .collect()
            }
            Component::Pipeline(inner) => {
                job.insert("type".into(), "pipeline".into());
                job.insert("component".into(), pipeline_component(inner, base)?.into());
                inner
                    .inputs
                    .iter()
                    .map(|i| i.mode.map(|m| m.as_str()))
                    .collect()
            }
        };
        let ports = node.component.inputs();
        let mut ins = Map::new();
        for ((port, binding), mode) in ports.iter().zip(&node.inputs).zip(modes) {
            let bound = match binding {
                Binding::Input(i) => {
                    format!("${{{{parent.inputs.{}}}}}", pipeline.inputs[*i].name).into()
                }
                Binding::Output(o) => format!(
                    "${{{{parent.jobs.{}.outputs.{}}}}}",
                    pipeline.nodes[o.node].name,
                    pipeline.nodes[o.node].component.output_name(o.output)
                )
                .into(),
                Binding::Literal(l) => literal_json(l),
                Binding::Data(loc) => {
                    json!({ "type": port.ty.as_str(), "path": location(base, loc) })
                }
            };
            let v = match (mode, bound) {
                (Some(mode), Value::String(path)) => json!({ "path": path, "mode": mode }),
                (Some(mode), Value::Object(mut m)) => {
                    m.insert("mode".into(), mode.into());
                    Value::Object(m)
                }
                (_, v) => v,
            };
            ins.insert(port.name.to_owned(), v);
        }
        job.insert("inputs".into(), ins.into());
        let mut outs = Map::new();
        for (i, (port, mode)) in node.component.outputs().into_iter().enumerate() {
            let promoted = pipeline
                .outputs
                .iter()
                .find(|o| o.from.node == index && o.from.output == i);
            let v: Value = match (promoted, mode) {
                (Some(p), None) => format!("${{{{parent.outputs.{}}}}}", p.name).into(),
                (Some(p), Some(m)) => {
                    json!({ "path": format!("${{{{parent.outputs.{}}}}}", p.name), "mode": m.as_str() })
                }
                (None, Some(m)) => json!({ "type": port.ty.as_str(), "mode": m.as_str() }),
                (None, None) => continue,
            };
            outs.insert(port.name.to_owned(), v);
        }
        if !outs.is_empty() {
            job.insert("outputs".into(), outs.into());
        }
        jobs.insert(node.name.clone(), job.into());
    }
    Ok(jobs)
}

fn command_component(step: &StepDef, base: &Path) -> Result<Map<String, Value>, SpecError> {
    let mut c = Map::new();
    c.insert(
        "$schema".into(),
        "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json".into(),
    );
    c.insert("name".into(), step.name.into());
    if let Some(d) = step.display_name {
        c.insert("display_name".into(), d.into());
    }
    if let Some(d) = step.description {
        c.insert("description".into(), d.into());
    }
    c.insert("type".into(), "command".into());
    if let Some(path) = step.source_path() {
        c.insert("code".into(), rel(base, &path).into());
    }
    c.insert("command".into(), step.command.into());
    let env = step
        .environment
        .ok_or(SpecError::NoEnvironment { step: step.name })?;
    c.insert("environment".into(), env.into());
    let ins: Map<String, Value> = step
        .inputs
        .iter()
        .map(|i| (i.name.to_owned(), json!({ "type": i.ty.as_str() })))
        .collect();
    c.insert("inputs".into(), ins.into());
    let outs: Map<String, Value> = step
        .outputs
        .iter()
        .map(|o| (o.name.to_owned(), json!({ "type": o.ty.as_str() })))
        .collect();
    c.insert("outputs".into(), outs.into());
    c.insert("is_deterministic".into(), step.reuse.into());
    Ok(c)
}

fn pipeline_component(p: &Pipeline, base: &Path) -> Result<Map<String, Value>, SpecError> {
    let mut c = Map::new();
    c.insert(
        "$schema".into(),
        "https://azuremlschemas.azureedge.net/latest/pipelineComponent.schema.json".into(),
    );
    c.insert("name".into(), p.name.clone().into());
    if let Some(d) = &p.display_name {
        c.insert("display_name".into(), d.clone().into());
    }
    if let Some(d) = &p.description {
        c.insert("description".into(), d.clone().into());
    }
    c.insert("type".into(), "pipeline".into());
    let ins: Map<String, Value> = p
        .inputs
        .iter()
        .map(|i| {
            let mut m = Map::new();
            m.insert("type".into(), i.ty.as_str().into());
            if let Some(InputValue::Literal(l)) = &i.default {
                m.insert("default".into(), literal_json(l));
            }
            (i.name.clone(), m.into())
        })
        .collect();
    c.insert("inputs".into(), ins.into());
    let outs: Map<String, Value> = p
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut m = Map::new();
            m.insert("type".into(), o.ty.as_str().into());
            if let Some(mode) = p.output_mode(i) {
                m.insert("mode".into(), mode.as_str().into());
            }
            (o.name.clone(), m.into())
        })
        .collect();
    c.insert("outputs".into(), outs.into());
    c.insert("jobs".into(), jobs(p, base)?.into());
    Ok(c)
}

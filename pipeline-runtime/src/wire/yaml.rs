//! The pipeline job YAML of the Azure ML CLI v2 (`az ml job create --file pipeline.yml`): the
//! YAML rendering of the lowered job ([`super::lower`]), as `to_rest.rs` is its REST rendering.
//!
//! Command components are written inline. A sub-pipeline's pipeline component is written to its
//! own file beside the job (`NAME.component.yml`) and referenced by path: Microsoft's loader
//! takes a pipeline component only from a file (or a registered id), never inline. Local paths
//! are relative to the folder the files are written to.
//!
//! Microsoft's loader reads YAML 1.1, where `yes`, `on`, `12:30`, `1_000`, `2001-12-14`, `=` or
//! `<<` are not the strings they are in YAML 1.2. So this module writes its own YAML: every string
//! value is double-quoted (with JSON's escapes, which both versions read), a key is written
//! plain only when it is a word no version reads as anything but a string, and a float always has
//! a `.` (and a signed exponent). `serde_yaml_ng` quotes only for YAML 1.2, hence not used here.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::WireError;
use super::lower::{
    CommandModel, ComponentKind, ComponentModel, JobModel, JobValue, NodeModel, OutputModel,
    PipelineComponentModel, Source, lower,
};
use crate::graph::{DataLocation, InputRules, InputValue, Literal, Pipeline, StepKind};

/// Where the YAML will be written (local paths are made relative to it).
#[derive(Debug, Clone)]
pub struct YamlContext {
    /// The folder the YAML files are in (or the current directory when printed).
    pub base_dir: PathBuf,
    /// `settings.force_rerun`.
    pub force_rerun: bool,
}

/// The YAML files of one pipeline job: the job first (`pipeline.yml`), then one file per
/// distinct sub-pipeline component, all in one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlExport {
    /// `(file name, text)`, the job first.
    pub files: Vec<(String, String)>,
}

/// The file name of the pipeline job in a [`YamlExport`].
pub const JOB_FILE: &str = "pipeline.yml";

impl YamlExport {
    /// The pipeline job document.
    pub fn job(&self) -> &str {
        &self.files[0].1
    }

    /// The job document when it is the only file (a pipeline without sub-pipelines), which is
    /// all a loader needs; `None` when component files must sit beside it.
    pub fn single(&self) -> Option<&str> {
        match self.files.as_slice() {
            [(_, text)] => Some(text),
            _ => None,
        }
    }

    /// The file names, the job first.
    pub fn file_names(&self) -> Vec<&str> {
        self.files.iter().map(|(n, _)| n.as_str()).collect()
    }
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

/// Writes `pipeline` as a CLI v2 pipeline job YAML document and its sub-pipelines' component
/// files.
pub fn to_yaml(
    pipeline: &Pipeline,
    inputs: &[Option<InputValue>],
    ctx: &YamlContext,
) -> Result<YamlExport, WireError> {
    render_job(&lower(pipeline, inputs)?, ctx)
}

/// The YAML rendering of a lowered job.
fn render_job(model: &JobModel<'_>, ctx: &YamlContext) -> Result<YamlExport, WireError> {
    let mut w = Writer {
        base: &ctx.base_dir,
        files: vec![(JOB_FILE.to_owned(), String::new())],
    };
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json".into(),
    );
    doc.insert("type".into(), "pipeline".into());
    doc.insert("display_name".into(), model.display_name.into());
    if let Some(d) = model.description {
        doc.insert("description".into(), d.into());
    }
    doc.insert("experiment_name".into(), model.experiment_name.into());
    if !model.tags.is_empty() {
        doc.insert("tags".into(), json!(model.tags));
    }
    if !model.properties.is_empty() {
        doc.insert("properties".into(), json!(model.properties));
    }
    let mut settings = Map::new();
    if let Some(c) = model.default_compute {
        settings.insert("default_compute".into(), format!("azureml:{c}").into());
    }
    if let Some(d) = model.default_datastore {
        settings.insert("default_datastore".into(), format!("azureml:{d}").into());
    }
    settings.insert(
        "continue_on_step_failure".into(),
        model.continue_on_step_failure.into(),
    );
    if ctx.force_rerun {
        settings.insert("force_rerun".into(), true.into());
    }
    doc.insert("settings".into(), settings.into());
    let mut ins = Map::new();
    for input in &model.inputs {
        let v = match &input.value {
            JobValue::Literal(l) => literal_json(l),
            JobValue::Data {
                asset,
                location: loc,
                mode,
            } => {
                let mut m = Map::new();
                m.insert("type".into(), asset.as_str().into());
                m.insert("path".into(), location(&ctx.base_dir, loc).into());
                if let Some(mode) = mode {
                    m.insert("mode".into(), mode.as_str().into());
                }
                m.into()
            }
        };
        ins.insert(input.name.to_owned(), v);
    }
    doc.insert("inputs".into(), ins.into());
    doc.insert("outputs".into(), outputs(&model.outputs, true).into());
    doc.insert("jobs".into(), w.jobs(&model.nodes)?.into());
    w.files[0].1 = render(&Value::Object(doc));
    Ok(YamlExport { files: w.files })
}

/// `outputs:` of a pipeline job (`job_level`: with the data asset each output is registered
/// as) or of a pipeline component.
fn outputs(outputs: &[OutputModel<'_>], job_level: bool) -> Map<String, Value> {
    outputs
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("type".into(), o.ty.as_str().into());
            if let Some(mode) = o.mode {
                m.insert("mode".into(), mode.as_str().into());
            }
            if job_level {
                for (key, value) in [
                    ("path", o.asset.path),
                    ("name", o.asset.name),
                    ("version", o.asset.version),
                ] {
                    if let Some(v) = value {
                        m.insert(key.into(), v.into());
                    }
                }
            }
            (o.name.to_owned(), m.into())
        })
        .collect()
}

struct Writer<'a> {
    base: &'a Path,
    files: Vec<(String, String)>,
}

impl Writer<'_> {
    /// Writes a pipeline component to its own file (once per distinct text) and returns the
    /// reference a node puts under `component:`.
    fn component_file(
        &mut self,
        c: &ComponentModel<'_>,
        p: &PipelineComponentModel<'_>,
    ) -> Result<String, WireError> {
        let text = render(&Value::Object(self.pipeline_component(c, p)?));
        if let Some((name, _)) = self.files.iter().find(|(_, t)| *t == text) {
            return Ok(format!("./{name}"));
        }
        let mut name = format!("{}.component.yml", c.name);
        let mut n = 1;
        while self.files.iter().any(|(f, _)| *f == name) {
            n += 1;
            name = format!("{}_{n}.component.yml", c.name);
        }
        self.files.push((name.clone(), text));
        Ok(format!("./{name}"))
    }

    fn jobs(&mut self, nodes: &[NodeModel<'_>]) -> Result<Map<String, Value>, WireError> {
        let base = self.base;
        let mut jobs = Map::new();
        for node in nodes {
            let mut job = Map::new();
            match &node.component.kind {
                ComponentKind::Command(cmd)
                    if matches!(cmd.step.kind, StepKind::Copy(_) | StepKind::Spark(_)) =>
                {
                    step_kind_node(&mut job, node, cmd, base);
                }
                ComponentKind::Command(cmd) => {
                    job.insert("type".into(), "command".into());
                    job.insert(
                        "component".into(),
                        command_component(&node.component, cmd, base).into(),
                    );
                    if let Some(c) = node.compute {
                        job.insert("compute".into(), format!("azureml:{c}").into());
                    }
                    if let Some(r) = &node.resources {
                        let mut rm = Map::new();
                        if let Some(n) = r.instance_count {
                            rm.insert("instance_count".into(), n.into());
                        }
                        for (key, value) in [
                            ("instance_type", r.instance_type),
                            ("shm_size", r.shm_size),
                            ("docker_args", r.docker_args),
                        ] {
                            if let Some(v) = value {
                                rm.insert(key.into(), v.into());
                            }
                        }
                        job.insert("resources".into(), rm.into());
                    }
                    if let Some(t) = node.timeout {
                        // The YAML takes seconds; the REST body an ISO 8601 duration.
                        job.insert("limits".into(), json!({ "timeout": t }));
                    }
                    if !node.environment_variables.is_empty() {
                        let env: Map<String, Value> = node
                            .environment_variables
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).into()))
                            .collect();
                        job.insert("environment_variables".into(), env.into());
                    }
                }
                ComponentKind::Pipeline(p) => {
                    job.insert("type".into(), "pipeline".into());
                    job.insert(
                        "component".into(),
                        self.component_file(&node.component, p)?.into(),
                    );
                }
            }
            let mut ins = Map::new();
            for input in &node.inputs {
                let bound = match &input.source {
                    Source::ParentInput(name) => format!("${{{{parent.inputs.{name}}}}}").into(),
                    Source::NodeOutput { node, output } => {
                        format!("${{{{parent.jobs.{node}.outputs.{output}}}}}").into()
                    }
                    Source::Literal(l) => literal_json(l),
                    Source::Data(loc) => {
                        json!({ "type": input.ty.as_str(), "path": location(base, loc) })
                    }
                };
                let v = match (input.mode.map(|m| m.as_str()), bound) {
                    (Some(mode), Value::String(path)) => json!({ "path": path, "mode": mode }),
                    (Some(mode), Value::Object(mut m)) => {
                        m.insert("mode".into(), mode.into());
                        Value::Object(m)
                    }
                    (_, v) => v,
                };
                ins.insert(input.name.to_owned(), v);
            }
            job.insert("inputs".into(), ins.into());
            let mut outs = Map::new();
            for o in &node.outputs {
                let v: Value = match (o.promoted_to, o.mode) {
                    (Some(p), None) => format!("${{{{parent.outputs.{p}}}}}").into(),
                    (Some(p), Some(m)) => {
                        json!({ "path": format!("${{{{parent.outputs.{p}}}}}"), "mode": m.as_str() })
                    }
                    (None, Some(m)) => json!({ "type": o.ty.as_str(), "mode": m.as_str() }),
                    (None, None) => continue,
                };
                outs.insert(o.name.to_owned(), v);
            }
            if !outs.is_empty() {
                job.insert("outputs".into(), outs.into());
            }
            jobs.insert(node.name.to_owned(), job.into());
        }
        Ok(jobs)
    }

    fn pipeline_component(
        &mut self,
        c: &ComponentModel<'_>,
        p: &PipelineComponentModel<'_>,
    ) -> Result<Map<String, Value>, WireError> {
        let mut m = header(
            c,
            "https://azuremlschemas.azureedge.net/latest/pipelineComponent.schema.json",
            "pipeline",
        );
        let ins: Map<String, Value> = p
            .inputs
            .iter()
            .map(|i| {
                let mut im = component_input(i.ty.as_str(), i.rules);
                if let Some(l) = i.default {
                    im.insert("default".into(), literal_json(l));
                }
                (i.name.to_owned(), im.into())
            })
            .collect();
        m.insert("inputs".into(), ins.into());
        m.insert("outputs".into(), outputs(&p.outputs, false).into());
        m.insert("jobs".into(), self.jobs(&p.nodes)?.into());
        Ok(m)
    }
}

/// `$schema`, `name`, `display_name`, `description` and `type` of a component.
fn header(c: &ComponentModel<'_>, schema: &str, kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("$schema".into(), schema.into());
    m.insert("name".into(), c.name.into());
    if let Some(d) = c.display_name {
        m.insert("display_name".into(), d.into());
    }
    if let Some(d) = c.description {
        m.insert("description".into(), d.into());
    }
    m.insert("type".into(), kind.into());
    m
}

/// A component input: its type and rules (`optional`, `min`, `max`, `enum`).
fn component_input(ty: &str, rules: &InputRules) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), ty.into());
    if rules.optional {
        m.insert("optional".into(), true.into());
    }
    if let Some(b) = rules.min {
        m.insert("min".into(), literal_json(&b.literal()));
    }
    if let Some(b) = rules.max {
        m.insert("max".into(), literal_json(&b.literal()));
    }
    if !rules.allowed.is_empty() {
        m.insert("enum".into(), json!(rules.allowed));
    }
    m
}

/// The `type`, inline component, compute and resources of a copy or Spark node.
fn step_kind_node(
    job: &mut Map<String, Value>,
    node: &NodeModel<'_>,
    cmd: &CommandModel,
    base: &Path,
) {
    let c = &node.component;
    let inputs: Map<String, Value> = cmd
        .inputs
        .iter()
        .map(|(name, ty, rules)| {
            (
                (*name).to_owned(),
                component_input(ty.as_str(), rules).into(),
            )
        })
        .collect();
    match &cmd.step.kind {
        StepKind::Command | StepKind::Rust(_) => {}
        StepKind::Copy(copy) => {
            job.insert("type".into(), "data_transfer".into());
            job.insert("task".into(), super::data_transfer::COPY_TASK.into());
            let header = header(c, super::data_transfer::SCHEMA, "data_transfer");
            job.insert(
                "component".into(),
                super::data_transfer::yaml_component(header, cmd, copy, inputs).into(),
            );
        }
        StepKind::Spark(spark) => {
            job.insert("type".into(), "spark".into());
            let header = header(c, super::spark::SCHEMA, "spark");
            let code = cmd.code.as_deref().map(|p| rel(base, p));
            job.insert(
                "component".into(),
                super::spark::yaml_component(header, cmd, spark, code, inputs).into(),
            );
            super::spark::yaml_node(job, cmd.step, spark);
        }
    }
    if let Some(compute) = node.compute {
        job.insert("compute".into(), format!("azureml:{compute}").into());
    }
}

fn command_component(
    c: &ComponentModel<'_>,
    cmd: &CommandModel,
    base: &Path,
) -> Map<String, Value> {
    let mut m = header(
        c,
        "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
        "command",
    );
    if let Some(path) = &cmd.code {
        m.insert("code".into(), rel(base, path).into());
    }
    m.insert("command".into(), cmd.command.into());
    // A registered environment is named by its reference; a container image is an inline
    // (anonymous) environment, `environment: {image: …}`, as the CLI v2 schema wants.
    if cmd.environment.starts_with("azureml:") {
        m.insert("environment".into(), cmd.environment.into());
    } else {
        let mut env = Map::new();
        env.insert("image".into(), cmd.environment.into());
        m.insert("environment".into(), env.into());
    }
    let ins: Map<String, Value> = cmd
        .inputs
        .iter()
        .map(|(name, ty, rules)| {
            (
                (*name).to_owned(),
                component_input(ty.as_str(), rules).into(),
            )
        })
        .collect();
    m.insert("inputs".into(), ins.into());
    let outs: Map<String, Value> = cmd
        .outputs
        .iter()
        .map(|(name, ty)| ((*name).to_owned(), json!({ "type": ty.as_str() })))
        .collect();
    m.insert("outputs".into(), outs.into());
    m.insert("is_deterministic".into(), cmd.is_deterministic.into());
    m
}

/// A literal as a typed YAML scalar (the REST rendering writes every literal as a string).
fn literal_json(l: &Literal) -> serde_json::Value {
    match l {
        Literal::Integer(v) => (*v).into(),
        Literal::Number(v) => serde_json::Number::from_f64(*v)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Literal::Boolean(v) => (*v).into(),
        Literal::String(v) => v.clone().into(),
    }
}

/// Renders a JSON-shaped document as block YAML that YAML 1.1 and 1.2 readers read alike.
pub(crate) fn render(doc: &Value) -> String {
    let mut out = String::new();
    match doc {
        Value::Object(m) if !m.is_empty() => mapping(&mut out, m, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn mapping(out: &mut String, m: &Map<String, Value>, indent: usize) {
    for (k, v) in m {
        push_indent(out, indent);
        out.push_str(&key(k));
        out.push(':');
        value(out, v, indent);
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, a collection below it.
fn value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            for item in a {
                push_indent(out, indent);
                out.push('-');
                value(out, item, indent + 2);
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => quoted(s),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// A double-quoted scalar: JSON's escapes are a subset of YAML's, in 1.1 and 1.2 alike.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A YAML 1.1 float needs a `.` and a signed exponent (`1e20` would read as a string).
fn number(n: &serde_json::Number) -> String {
    let s = n.to_string();
    if !n.is_f64() || s.contains('.') && !s.contains(['e', 'E']) {
        return s;
    }
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_owned(), Some(e.to_owned())),
        None => (s.clone(), None),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa
    } else {
        format!("{mantissa}.0")
    };
    match exponent {
        None => mantissa,
        Some(e) if e.starts_with(['-', '+']) => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
    }
}

/// Words YAML 1.1 reads as booleans or null whatever their case.
const YAML11_WORDS: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// A key is written plain only when it is an identifier-like word no YAML version reads as
/// anything but that string; every other key is quoted.
fn key(k: &str) -> String {
    let mut chars = k.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !YAML11_WORDS.iter().any(|w| w.eq_ignore_ascii_case(k));
    if plain { k.to_owned() } else { quoted(k) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_keys_only_when_needed() {
        let doc = json!({
            "type": "pipeline",
            "on": "yes",
            "Y": "12:30",
            "a b": "1_000",
            "x": ["2001-12-14", "=", "<<"],
            "n": 3,
            "f": 1e20,
            "g": 0.5,
            "t": true,
            "e": {},
        });
        assert_eq!(
            render(&doc),
            "type: \"pipeline\"\n\"on\": \"yes\"\n\"Y\": \"12:30\"\n\"a b\": \"1_000\"\nx:\n- \"2001-12-14\"\n- \"=\"\n- \"<<\"\n\"n\": 3\nf: 1.0e+20\ng: 0.5\nt: true\ne: {}\n"
        );
    }

    #[test]
    fn escapes_read_back() {
        let doc = json!({ "s": "line\n\"quoted\"\ttab \\ é" });
        let back: Value = serde_yaml_ng::from_str(&render(&doc)).unwrap();
        assert_eq!(back, doc);
    }
}

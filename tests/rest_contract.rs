//! Every REST body of the golden exports, checked against Azure ML's REST contract: field names
//! at job and asset level (camelCase, nothing read-only sent, nothing required missing),
//! discriminators, and enum values, also inside the schema-less `jobs` and `componentSpec`.
//!
//! The contract is the small fact file `tests/contract/arm-2025-12-01.txt`, copied from the
//! ARM model dumps it names. When those dumps sit beside the repository
//! (`../shared/reference/arm-2025-12-01/`), the fact file is also checked against them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One model of the dumps: its fields, which are required and which read-only.
#[derive(Debug, Default, PartialEq)]
struct Model {
    fields: BTreeSet<String>,
    required: BTreeSet<String>,
    read_only: BTreeSet<String>,
    /// `(discriminator field, value)` for a concrete subtype.
    discriminator: Option<(String, String)>,
}

/// The fact file, parsed.
#[derive(Debug, Default)]
struct Contract {
    models: BTreeMap<String, Model>,
    /// `enum`, `keys` and `values` lines alike: a name and a set of words.
    sets: BTreeMap<String, BTreeSet<String>>,
}

impl Contract {
    fn load() -> Contract {
        let path = repo().join("tests/contract/arm-2025-12-01.txt");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Contract::parse(&text)
    }

    fn parse(text: &str) -> Contract {
        let mut c = Contract::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (head, rest) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("fact without `:`: {line}"));
            let mut head = head.split_whitespace();
            let kind = head.next().unwrap();
            let name = head.next().expect("a name").to_owned();
            let words = rest.split_whitespace().map(str::to_owned);
            match kind {
                "model" => {
                    let mut m = Model {
                        discriminator: head.next().map(|d| {
                            let (f, v) = d.split_once('=').expect("FIELD=VALUE");
                            (f.to_owned(), v.to_owned())
                        }),
                        ..Model::default()
                    };
                    for w in words {
                        if let Some(f) = w.strip_prefix('!') {
                            m.read_only.insert(f.to_owned());
                            m.fields.insert(f.to_owned());
                        } else if let Some(f) = w.strip_suffix('*') {
                            m.required.insert(f.to_owned());
                            m.fields.insert(f.to_owned());
                        } else {
                            m.fields.insert(w);
                        }
                    }
                    c.models.insert(name, m);
                }
                "enum" | "keys" | "values" => {
                    c.sets.insert(name, words.collect());
                }
                other => panic!("unknown fact kind `{other}`"),
            }
        }
        c
    }

    fn set(&self, name: &str) -> &BTreeSet<String> {
        self.sets
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` in the contract"))
    }

    /// The concrete model whose discriminator `field` has `value`.
    fn subtype(&self, field: &str, value: &str) -> Option<&str> {
        self.models
            .iter()
            .find(|(_, m)| m.discriminator == Some((field.to_owned(), value.to_owned())))
            .map(|(n, _)| n.as_str())
    }
}

/// Walks one request and collects every breach, each with the JSON path it was found at.
struct Checker<'c> {
    contract: &'c Contract,
    errors: Vec<String>,
}

impl Checker<'_> {
    fn fail(&mut self, at: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{at}: {msg}"));
    }

    fn object<'v>(&mut self, at: &str, v: &'v Value) -> Option<&'v serde_json::Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.fail(at, "expected an object");
        }
        o
    }

    /// Field names of `v` against `model`: known, not read-only, required ones present.
    fn model<'v>(
        &mut self,
        at: &str,
        model: &str,
        v: &'v Value,
    ) -> Option<&'v serde_json::Map<String, Value>> {
        let contract = self.contract;
        let m = &contract.models[model];
        let o = self.object(at, v)?;
        for key in o.keys() {
            if !m.fields.contains(key) {
                self.fail(at, format!("`{key}` is not a field of {model}"));
            } else if m.read_only.contains(key) {
                self.fail(at, format!("`{key}` is read-only in {model}"));
            }
        }
        for key in &m.required {
            if !o.contains_key(key) {
                self.fail(at, format!("required {model} field `{key}` is missing"));
            }
        }
        Some(o)
    }

    /// A discriminated object: `field` must hold a value of `enum_name` that names a model.
    fn discriminated(&mut self, at: &str, field: &str, enum_name: &str, v: &Value) {
        let contract = self.contract;
        let Some(value) = v.get(field).and_then(Value::as_str) else {
            self.fail(at, format!("discriminator `{field}` is missing"));
            // Still name the keys no subtype has (a snake_case `job_input_type`, say).
            let known: BTreeSet<&String> = contract
                .models
                .values()
                .filter(|m| m.discriminator.as_ref().is_some_and(|(f, _)| f == field))
                .flat_map(|m| &m.fields)
                .collect();
            for key in v.as_object().into_iter().flat_map(|o| o.keys()) {
                if !known.contains(key) {
                    self.fail(
                        at,
                        format!("`{key}` is not a field of any {enum_name} model"),
                    );
                }
            }
            return;
        };
        if !contract.set(enum_name).contains(value) {
            self.fail(at, format!("`{field}` = {value:?} is not a {enum_name}"));
            return;
        }
        match contract.subtype(field, value) {
            Some(model) => {
                self.model(at, model, v);
            }
            None => self.fail(at, format!("no model for `{field}` = {value:?}")),
        }
    }

    /// `v[key]`, when present, must be one of `set`.
    fn one_of(&mut self, at: &str, v: &Value, key: &str, set: &str) {
        let contract = self.contract;
        if let Some(x) = v.get(key) {
            match x.as_str() {
                Some(s) if contract.set(set).contains(s) => {}
                _ => self.fail(at, format!("`{key}` = {x} is not a {set}")),
            }
        }
    }

    /// Keys of a schema-less object against a `keys` fact.
    fn keys(&mut self, at: &str, keys: &str, v: &Value) {
        let contract = self.contract;
        if let Some(o) = self.object(at, v) {
            for key in o.keys() {
                if !contract.set(keys).contains(key) {
                    self.fail(at, format!("`{key}` is not a {keys} key"));
                }
            }
        }
    }

    fn request(&mut self, req: &Value) {
        let path = req["path"].as_str().unwrap_or("");
        let at = path
            .rsplit("/workspaces/{workspace_name}/")
            .next()
            .unwrap_or(path);
        let body = &req["body"];
        if req["method"] != "PUT" {
            self.fail(at, format!("unexpected method {}", req["method"]));
        }
        if path.ends_with("/jobs/{job_name}") {
            self.job(at, body);
        } else if at.starts_with("components/") && at.contains("/versions/") {
            self.component(at, body);
        } else {
            self.fail(at, "a body the contract does not describe");
        }
    }

    fn job(&mut self, at: &str, body: &Value) {
        let Some(o) = self.model(at, "JobBase", body) else {
            return;
        };
        let Some(props) = o.get("properties") else {
            return;
        };
        let at = format!("{at} properties");
        self.discriminated(&at, "jobType", "JobType", props);
        for (name, input) in props["inputs"].as_object().into_iter().flatten() {
            let at = format!("{at}.inputs.{name}");
            self.discriminated(&at, "jobInputType", "JobInputType", input);
            self.one_of(&at, input, "mode", "InputDeliveryMode");
        }
        for (name, output) in props["outputs"].as_object().into_iter().flatten() {
            let at = format!("{at}.outputs.{name}");
            self.discriminated(&at, "jobOutputType", "JobOutputType", output);
            self.one_of(&at, output, "mode", "OutputDeliveryMode");
        }
        self.nodes(&format!("{at}.jobs"), &props["jobs"]);
    }

    fn component(&mut self, at: &str, body: &Value) {
        let Some(o) = self.model(at, "ComponentVersion", body) else {
            return;
        };
        let Some(props) = o.get("properties") else {
            return;
        };
        let at = format!("{at} properties");
        self.model(&at, "ComponentVersionProperties", props);
        let spec = &props["componentSpec"];
        let at = format!("{at}.componentSpec");
        self.one_of(&at, spec, "type", "ComponentType");
        for (name, input) in spec["inputs"].as_object().into_iter().flatten() {
            let at = format!("{at}.inputs.{name}");
            self.keys(&at, "ComponentInput", input);
            for key in ["default", "min", "max"] {
                if input.get(key).is_some_and(|v| !v.is_string()) {
                    self.fail(
                        &at,
                        format!("`{key}` must be a string, as the SDK sends it"),
                    );
                }
            }
        }
        for (name, output) in spec["outputs"].as_object().into_iter().flatten() {
            let at = format!("{at}.outputs.{name}");
            self.keys(&at, "ComponentOutput", output);
            self.one_of(&at, output, "type", "JobOutputType");
            self.one_of(&at, output, "mode", "ComponentOutputMode");
        }
        if spec["type"] == "pipeline" {
            self.nodes(&format!("{at}.jobs"), &spec["jobs"]);
        } else if spec.get("jobs").is_some() {
            self.fail(&at, "`jobs` in a component that is not a pipeline");
        }
    }

    fn nodes(&mut self, at: &str, jobs: &Value) {
        let Some(jobs) = self.object(at, jobs) else {
            return;
        };
        for (name, node) in jobs {
            let at = format!("{at}.{name}");
            self.keys(&at, "Node", node);
            self.one_of(&at, node, "type", "NodeType");
            if node["name"] != json!(name) {
                self.fail(&at, "`name` differs from the node's key");
            }
            for (port, input) in node["inputs"].as_object().into_iter().flatten() {
                let at = format!("{at}.inputs.{port}");
                self.keys(&at, "NodeInput", input);
                self.one_of(&at, input, "job_input_type", "JobInputType");
                self.one_of(&at, input, "mode", "InputDeliveryMode");
                let field = if input["job_input_type"] == "literal" {
                    "value"
                } else {
                    "uri"
                };
                if !input[field].is_string() {
                    self.fail(&at, format!("`{field}` must be a string"));
                }
            }
            for (port, output) in node["outputs"].as_object().into_iter().flatten() {
                let at = format!("{at}.outputs.{port}");
                self.keys(&at, "NodeOutput", output);
                if let Some(t) = output.get("type") {
                    let promoted = output["value"]
                        .as_str()
                        .is_some_and(|v| v.starts_with("${{parent.outputs."));
                    if t != "literal" || !promoted {
                        self.fail(
                            &at,
                            "a typed output must be a `${{parent.outputs.…}}` literal",
                        );
                    }
                } else {
                    self.one_of(&at, output, "job_output_type", "JobOutputType");
                }
                self.one_of(&at, output, "mode", "OutputDeliveryMode");
            }
            if let Some(resources) = node.get("resources") {
                let at = format!("{at}.resources");
                self.keys(&at, "Resources", resources);
                if resources
                    .get("instance_count")
                    .is_some_and(|n| n.as_u64().is_none_or(|n| n < 1))
                {
                    self.fail(&at, "`instance_count` must be a whole number of at least 1");
                }
            }
            if let Some(limits) = node.get("limits") {
                let at = format!("{at}.limits");
                self.keys(&at, "Limits", limits);
                let iso = limits["timeout"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("PT")?.strip_suffix('S'))
                    .is_some_and(|n| n.parse::<u64>().is_ok());
                if limits["job_limits_type"] != "Command" || !iso {
                    self.fail(
                        &at,
                        "limits must be `{\"job_limits_type\": \"Command\", \"timeout\": \"PT<seconds>S\"}`",
                    );
                }
            }
        }
    }
}

fn check(contract: &Contract, requests: &Value) -> Vec<String> {
    let mut checker = Checker {
        contract,
        errors: Vec::new(),
    };
    for req in requests
        .as_array()
        .expect("an export is a list of requests")
    {
        checker.request(req);
    }
    checker.errors
}

fn golden(file: &str) -> Value {
    let path = repo().join("tests/golden").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("golden JSON parses")
}

#[test]
fn golden_exports_follow_the_rest_contract() {
    let contract = Contract::load();
    for file in [
        "compare_models.json",
        "model_selection.json",
        "io_showcase.json",
        "data_movement.json",
    ] {
        let requests = golden(file);
        let errors = check(&contract, &requests);
        assert!(
            errors.is_empty(),
            "{file} breaks the REST contract:\n{}",
            errors.join("\n")
        );
        let jobs = requests
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"].as_str().unwrap().ends_with("/jobs/{job_name}"))
            .count();
        assert_eq!(jobs, 1, "{file}: one job body");
    }
}

/// Each mutation of a valid body must be caught, with a message naming the breach.
#[test]
fn the_contract_check_rejects_broken_bodies() {
    let contract = Contract::load();
    let base = golden("model_selection.json");
    let last = base.as_array().unwrap().len() - 1;
    assert!(check(&contract, &base).is_empty());
    type Mutation = fn(&mut Value);
    let cases: [(&str, Mutation, &str); 13] = [
        (
            "snake_case key at job level",
            |b| {
                let i = b["properties"]["inputs"]["iris"].as_object_mut().unwrap();
                let t = i.remove("jobInputType").unwrap();
                i.insert("job_input_type".into(), t);
            },
            "`job_input_type` is not a field of any JobInputType model",
        ),
        (
            "job type in the wrong case",
            |b| b["properties"]["jobType"] = json!("pipeline"),
            "`jobType` = \"pipeline\" is not a JobType",
        ),
        (
            "read-only field sent",
            |b| b["properties"]["status"] = json!("Running"),
            "`status` is read-only in PipelineJob",
        ),
        (
            "unknown job field",
            |b| b["properties"]["experiment_name"] = json!("x"),
            "`experiment_name` is not a field of PipelineJob",
        ),
        (
            "input type that is no JobInputType",
            |b| b["properties"]["inputs"]["iris"]["jobInputType"] = json!("UriFile"),
            "`jobInputType` = \"UriFile\" is not a JobInputType",
        ),
        (
            "required uri missing",
            |b| {
                let i = b["properties"]["inputs"]["iris"].as_object_mut().unwrap();
                i.remove("uri");
            },
            "required UriFileJobInput field `uri` is missing",
        ),
        (
            "output mode in the YAML spelling",
            |b| b["properties"]["outputs"]["best"]["mode"] = json!("upload"),
            "`mode` = \"upload\" is not a OutputDeliveryMode",
        ),
        (
            "node input mode in the YAML spelling",
            |b| b["properties"]["jobs"]["split"]["inputs"]["raw"]["mode"] = json!("ro_mount"),
            "`mode` = \"ro_mount\" is not a InputDeliveryMode",
        ),
        (
            "camelCase key in a node",
            |b| b["properties"]["jobs"]["split"]["displayName"] = json!("x"),
            "`displayName` is not a Node key",
        ),
        (
            "node output type that is no JobOutputType",
            |b| {
                b["properties"]["jobs"]["split"]["outputs"]["train"]["job_output_type"] =
                    json!("folder")
            },
            "`job_output_type` = \"folder\" is not a JobOutputType",
        ),
        (
            "promoted output that is not a literal binding",
            |b| {
                b["properties"]["jobs"]["pick_best"]["outputs"]["best"]["type"] =
                    json!("uri_folder")
            },
            "a typed output must be",
        ),
        (
            "no instances",
            |b| b["properties"]["jobs"]["split"]["resources"] = json!({ "instance_count": 0 }),
            "`instance_count` must be",
        ),
        (
            "instance count in the ARM spelling inside a node",
            |b| b["properties"]["jobs"]["split"]["resources"] = json!({ "instanceCount": 2 }),
            "`instanceCount` is not a Resources key",
        ),
    ];
    for (what, mutate, expected) in cases {
        let mut requests = base.clone();
        mutate(&mut requests[last]["body"]);
        let errors = check(&contract, &requests);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{what}: expected an error containing {expected:?}, got {errors:#?}"
        );
    }
    // Component bodies are checked too.
    let mut requests = base.clone();
    let props = requests[0]["body"]["properties"].as_object_mut().unwrap();
    let a = props.remove("isAnonymous").unwrap();
    props.insert("is_anonymous".into(), a);
    let errors = check(&contract, &requests);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`is_anonymous` is not a field of ComponentVersionProperties")),
        "{errors:#?}"
    );
    let mut requests = base.clone();
    requests[0]["body"]["properties"]["componentSpec"]["outputs"]["train"]["mode"] =
        json!("Upload");
    let errors = check(&contract, &requests);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`mode` = \"Upload\" is not a ComponentOutputMode")),
        "{errors:#?}"
    );
}

/// Every discriminator value of the enums has its model in the fact file.
#[test]
fn the_contract_is_complete() {
    let c = Contract::load();
    for (field, set) in [
        ("jobInputType", "JobInputType"),
        ("jobOutputType", "JobOutputType"),
    ] {
        for value in c.set(set) {
            assert!(
                c.subtype(field, value).is_some(),
                "no model for {field}={value}"
            );
        }
    }
    assert!(c.subtype("jobType", "Pipeline").is_some());
}

/// Reads a class of the models dump the way the fact file writes it.
fn dump_model(dump: &str, name: &str) -> Option<Model> {
    let mut lines = dump.lines();
    let header = lines.find(|l| {
        l.strip_prefix("class ")
            .and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| r.starts_with('('))
    })?;
    let mut m = Model {
        discriminator: None,
        ..Model::default()
    };
    let disc_value = header
        .split_once("[discriminator value: '")
        .map(|(_, r)| r.trim_end_matches("']").to_owned());
    for line in lines.take_while(|l| l.starts_with("    ")) {
        let (field, ty) = line.trim().split_once(':')?;
        let field = field.to_owned();
        if ty.contains("DISCRIMINATOR")
            && let Some(v) = &disc_value
        {
            m.discriminator = Some((field.clone(), v.clone()));
        }
        if ty.contains("READONLY") {
            m.read_only.insert(field.clone());
        } else if !ty.contains("Optional[") && !ty.contains("NoneType") {
            m.required.insert(field.clone());
        }
        m.fields.insert(field);
    }
    Some(m)
}

/// When the model dumps are beside the repository, the fact file must agree with them.
#[test]
fn the_contract_matches_the_model_dumps() {
    let dir = repo().join("../shared/reference/arm-2025-12-01");
    let read = |f: &str| std::fs::read_to_string(Path::new(&dir).join(f));
    let (Ok(models), Ok(enums)) = (
        read("arm_ml_service_2025-12-01_models.txt"),
        read("arm_ml_service_2025-12-01_enums.txt"),
    ) else {
        eprintln!(
            "model dumps not found at {}; checked the fact file only",
            dir.display()
        );
        return;
    };
    let c = Contract::load();
    for (name, model) in &c.models {
        let dumped = dump_model(&models, name).unwrap_or_else(|| panic!("no class {name}"));
        assert_eq!(model, &dumped, "{name} differs from the dump");
    }
    for name in [
        "JobType",
        "JobInputType",
        "JobOutputType",
        "InputDeliveryMode",
        "OutputDeliveryMode",
    ] {
        let line = enums
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no enum {name}"));
        let dumped: BTreeSet<String> = line
            .split(", ")
            .map(|v| v.trim_matches('\'').to_owned())
            .collect();
        assert_eq!(c.set(name), &dumped, "enum {name} differs from the dump");
    }
}

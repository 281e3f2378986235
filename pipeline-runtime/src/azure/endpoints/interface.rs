//! An invocation checked against the published interface before anything is sent: which
//! inputs a published version accepts, the invoke body typed by them (the literal form and why:
//! [`crate::wire::endpoint::InvokeInput`]), and which `--input` values are local paths to upload
//! first. Pure functions of the component version and the options, so `--dry-run` uses them
//! with this binary's own interface.

use indexmap::IndexMap;
use serde_json::Value;

use super::InvokeOptions;
use crate::azure::components::ComponentVersion;
use crate::azure::publish::OperateError;
use crate::graph::Literal;
use crate::wire::endpoint::{InvokeInput, InvokeRequest};

/// `(name, version)` of a component version ARM id (`…/components/{n}/versions/{v}`).
pub fn component_name_version(id: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = id.trim_end_matches('/').rsplit('/').take(4).collect();
    match parts.as_slice() {
        [v, versions, n, components]
            if versions.eq_ignore_ascii_case("versions")
                && components.eq_ignore_ascii_case("components") =>
        {
            Some(((*n).to_owned(), (*v).to_owned()))
        }
        _ => None,
    }
}

/// The inputs a published version accepts: `(name, type, default)` in declaration order.
pub fn accepted_inputs(component: &ComponentVersion) -> Vec<(String, String, Option<String>)> {
    component.properties.component_spec["inputs"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v["type"].as_str().unwrap_or("string").to_owned(),
                        v.get("default").and_then(|d| match d {
                            Value::String(s) => Some(s.clone()),
                            Value::Null => None,
                            other => Some(other.to_string()),
                        }),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an `--input` value is something the service reads itself (a data asset, a
/// datastore URI, a storage URL), rather than a local path to upload.
pub fn is_remote(value: &str) -> bool {
    ["azureml:", "https://", "http://", "wasbs://", "abfss://"]
        .iter()
        .any(|p| value.starts_with(p))
}

/// The inputs of `opts` given as local paths, `(index in opts.inputs, path)`, checked against
/// `component`'s interface: a known data input, an existing path, a file for `uri_file`, a
/// folder for `uri_folder` and `mltable`.
pub fn local_inputs(
    component: &ComponentVersion,
    name: &str,
    version: &str,
    opts: &InvokeOptions,
) -> Result<Vec<(usize, std::path::PathBuf)>, OperateError> {
    let accepted = accepted_inputs(component);
    let mut locals = Vec::new();
    for (i, (key, value)) in opts.inputs.iter().enumerate() {
        if is_remote(value) {
            continue;
        }
        let Some((_, ty, _)) = accepted.iter().find(|(n, _, _)| n == key) else {
            // Unknown names are refused by `invoke_body`, with the list of what is accepted.
            continue;
        };
        if is_literal(ty) {
            continue;
        }
        let path = std::path::PathBuf::from(value);
        let wrong = |problem: String| {
            OperateError::Invalid(format!("{problem} (version `{version}` of `{name}`)"))
        };
        let meta = std::fs::metadata(&path).map_err(|e| {
            OperateError::Invalid(format!(
                "`--input {key}={value}`: no such local file or folder ({e}); give an existing \
                 path or an `azureml://datastores/…` URI"
            ))
        })?;
        match (ty.as_str(), meta.is_dir()) {
            ("uri_file", true) => {
                return Err(wrong(format!(
                    "`--input {key}={value}` is a folder, but `{key}` is a uri_file: give a file"
                )));
            }
            ("uri_folder" | "mltable", false) => {
                return Err(wrong(format!(
                    "`--input {key}={value}` is a file, but `{key}` is a {ty}: give a folder"
                )));
            }
            _ => {}
        }
        locals.push((i, path));
    }
    Ok(locals)
}

fn is_literal(ty: &str) -> bool {
    matches!(ty, "integer" | "number" | "string" | "boolean")
}

/// The invoke body for `opts` checked against `component`'s inputs: every name known, every
/// parameter of its type, every data input without a default given.
pub fn invoke_body(
    component: &ComponentVersion,
    name: &str,
    version: &str,
    opts: &InvokeOptions,
    job_name: String,
) -> Result<InvokeRequest, OperateError> {
    let accepted = accepted_inputs(component);
    let listing = || {
        accepted
            .iter()
            .map(|(n, t, d)| {
                let how = if is_literal(t) { "--param" } else { "--input" };
                let default = d
                    .as_ref()
                    .map_or(String::new(), |d| format!(" (default: {d})"));
                format!("  {how} {n}: {t}{default}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let refuse = |problem: String| OperateError::Interface {
        problem,
        name: name.to_owned(),
        version: version.to_owned(),
        accepted: listing(),
    };
    let mut input_data = IndexMap::new();
    for (key, text) in &opts.params {
        let Some((_, ty, _)) = accepted.iter().find(|(n, _, _)| n == key) else {
            return Err(refuse(format!("unknown parameter `{key}`")));
        };
        if !is_literal(ty) {
            return Err(refuse(format!(
                "`{key}` is a data input ({ty}): give it with `--input {key}=URI`"
            )));
        }
        // Checked by type, sent as text written as in a pipeline job's literal inputs (the
        // form and why: `wire::endpoint::InvokeInput`).
        let value = match ty.as_str() {
            "integer" => text.trim().parse::<i64>().ok().map(Literal::Integer),
            "number" => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Literal::Number),
            "boolean" => match text.trim().to_ascii_lowercase().as_str() {
                "true" => Some(Literal::Boolean(true)),
                "false" => Some(Literal::Boolean(false)),
                _ => None,
            },
            _ => Some(Literal::String(text.clone())),
        }
        .ok_or_else(|| refuse(format!("`--param {key}={text}` is not a {ty}")))?
        .to_wire();
        if input_data
            .insert(key.clone(), InvokeInput::Literal { value })
            .is_some()
        {
            return Err(refuse(format!("`{key}` is given twice")));
        }
    }
    for (key, uri) in &opts.inputs {
        let Some((_, ty, _)) = accepted.iter().find(|(n, _, _)| n == key) else {
            return Err(refuse(format!("unknown input `{key}`")));
        };
        if is_literal(ty) {
            return Err(refuse(format!(
                "`{key}` is a parameter ({ty}): give it with `--param {key}=VALUE`"
            )));
        }
        if !is_remote(uri) {
            return Err(refuse(format!(
                "`--input {key}={uri}` is a local path: `Endpoints::plan_invoke` uploads it \
                 first, or give an `azureml://datastores/…` URI"
            )));
        }
        let uri = uri.clone();
        let input = match ty.as_str() {
            "uri_file" => InvokeInput::UriFile { uri },
            "mltable" => InvokeInput::MlTable { uri },
            _ => InvokeInput::UriFolder { uri },
        };
        if input_data.insert(key.clone(), input).is_some() {
            return Err(refuse(format!("`{key}` is given twice")));
        }
    }
    if let Some((n, t, _)) = accepted
        .iter()
        .find(|(n, t, d)| !is_literal(t) && d.is_none() && !input_data.contains_key(n))
    {
        return Err(refuse(format!(
            "input `{n}` ({t}) has no default: give it with `--input {n}=URI`"
        )));
    }
    let mut body = InvokeRequest::default();
    body.properties.input_data = input_data;
    body.properties.name = Some(job_name);
    if let Some(x) = &opts.experiment {
        body.properties
            .properties
            .insert("experimentName".to_owned(), x.clone());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn component() -> ComponentVersion {
        serde_json::from_value(json!({"id": "/c/components/p/versions/1", "name": "1",
            "properties": {"componentSpec": {"type": "pipeline", "inputs": {
                "iris": {"type": "uri_file"},
                "pipeline_arg": {"type": "integer", "default": "10"}}}}}))
        .unwrap()
    }

    fn opts(params: &[(&str, &str)], inputs: &[(&str, &str)]) -> InvokeOptions {
        let pairs =
            |l: &[(&str, &str)]| l.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect();
        InvokeOptions {
            params: pairs(params),
            inputs: pairs(inputs),
            ..Default::default()
        }
    }

    #[test]
    fn values_are_typed_by_the_published_interface() {
        let body = invoke_body(
            &component(),
            "p",
            "1",
            &opts(
                &[("pipeline_arg", "20")],
                &[("iris", "azureml://datastores/d/paths/i.csv")],
            ),
            "job1".into(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"properties": {"inputData": {
                "pipeline_arg": {"jobInputType": "Literal", "value": "20"},
                "iris": {"jobInputType": "UriFile", "uri": "azureml://datastores/d/paths/i.csv"}},
                "name": "job1"}})
        );
    }

    #[test]
    fn unknown_names_and_wrong_types_list_what_the_version_accepts() {
        let iris = [("iris", "azureml://datastores/d/paths/i.csv")];
        for (params, want) in [
            (vec![("nope", "1")], "unknown parameter `nope`"),
            (vec![("pipeline_arg", "ten")], "is not a integer"),
            (vec![("iris", "x")], "is a data input"),
        ] {
            let e =
                invoke_body(&component(), "p", "1", &opts(&params, &iris), "j".into()).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(want), "{text}");
            assert!(
                text.contains("--param pipeline_arg: integer (default: 10)"),
                "{text}"
            );
            assert!(e.is_bad_input());
        }
        let e = invoke_body(&component(), "p", "1", &opts(&[], &[]), "j".into()).unwrap_err();
        assert!(
            e.to_string()
                .contains("input `iris` (uri_file) has no default"),
            "{e}"
        );
        let e = invoke_body(
            &component(),
            "p",
            "1",
            &opts(&[], &[("iris", "./local.csv")]),
            "j".into(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("is a local path"), "{e}");
    }

    #[test]
    fn component_ids_split_into_name_and_version() {
        assert_eq!(
            component_name_version("/s/x/components/p/versions/3"),
            Some(("p".into(), "3".into()))
        );
        assert_eq!(component_name_version("/s/x/models/p/versions/3"), None);
    }
}

//! The fake Azure ML's data assets (`{WS}/data[/{name}[/versions[/{version}]]]`): versions
//! created by PUT (checked key by key against `DataVersionBase` / `MLTableData` of the
//! 2025-12-01 models), containers whose `latestVersion` is the newest version not archived,
//! version listings with `$orderBy=createdtime desc`, `$top` and `listViewType`, and archive /
//! restore by PUTting a version back with `isArchived` changed. A version's data is immutable:
//! a PUT that changes `dataType` or `dataUri` of an existing version is a 409.

// The checks return the finished ARM error answer as their `Err`.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Value, json};

use crate::fake_computes::{Scope, bad_enum, check_keys, error, page, required, respond};

type Answer = Response<Full<Bytes>>;

/// `MLTableData` fields (a superset of `UriFileDataVersion` / `UriFolderDataVersion`).
const DATA_VERSION_PROPERTIES: &[&str] = &[
    "description",
    "properties",
    "tags",
    "isAnonymous",
    "isArchived",
    "dataType",
    "dataUri",
    "referencedUris",
];
const DATA_TYPE: &[&str] = &["uri_file", "uri_folder", "mltable"];
const LIST_VIEW_TYPE: &[&str] = &["ActiveOnly", "ArchivedOnly", "All"];

/// The data assets of the fake workspace. A cheap handle: clones share the same assets.
#[derive(Debug, Clone, Default)]
pub struct FakeData {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Versions by (name, version), in the order they were created.
    versions: Vec<((String, String), Value)>,
    puts: usize,
}

impl FakeData {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a version pointing at `uri`; the newest version is the one added last.
    pub fn add(&self, ws_id: &str, name: &str, version: &str, data_type: &str, uri: &str) {
        let body = stored(
            ws_id,
            name,
            version,
            json!({"dataType": data_type, "dataUri": uri, "isAnonymous": false,
                   "isArchived": false, "tags": {}, "properties": {}}),
        );
        let mut inner = self.lock();
        inner
            .versions
            .retain(|(k, _)| *k != (name.to_owned(), version.to_owned()));
        inner
            .versions
            .push(((name.to_owned(), version.to_owned()), body));
    }

    /// The stored version, as the service answers it.
    pub fn version(&self, name: &str, version: &str) -> Option<Value> {
        self.lock()
            .versions
            .iter()
            .find(|((n, v), _)| n == name && v == version)
            .map(|(_, b)| b.clone())
    }

    /// How many version PUTs were accepted.
    pub fn puts(&self) -> usize {
        self.lock().puts
    }
}

fn stored(ws_id: &str, name: &str, version: &str, properties: Value) -> Value {
    let mut props = properties;
    props["provisioningState"] = json!("Succeeded");
    json!({"id": format!("{ws_id}/data/{name}/versions/{version}"), "name": version,
        "type": "Microsoft.MachineLearningServices/workspaces/data/versions",
        "properties": props})
}

fn archived(v: &Value) -> bool {
    v["properties"]["isArchived"] == json!(true)
}

/// Answers `METHOD data…` (`rest` starts with `data`).
pub(crate) fn route(
    data: &FakeData,
    scope: &Scope<'_>,
    method: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    body: &Value,
) -> Answer {
    let Scope {
        options,
        ws_id,
        base,
    } = *scope;
    let mut d = data.lock();
    let container = |name: &str, versions: &[&Value]| {
        let latest = versions.iter().rev().find(|v| !archived(v));
        json!({"id": format!("{ws_id}/data/{name}"), "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/data",
            "properties": {
                "dataType": versions.last().map(|v| v["properties"]["dataType"].clone()),
                "latestVersion": latest.map(|v| v["name"].clone()),
                "isArchived": false}})
    };
    let of = |d: &Inner, name: &str| -> Vec<Value> {
        d.versions
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    match (method, rest) {
        ("GET", ["data"]) => {
            let mut names: Vec<&String> = d.versions.iter().map(|((n, _), _)| n).collect();
            names.sort();
            names.dedup();
            let items: Vec<Value> = names
                .iter()
                .map(|n| {
                    let vs = of(&d, n);
                    container(n, &vs.iter().collect::<Vec<_>>())
                })
                .collect();
            respond(
                200,
                &page(options, base, &format!("{ws_id}/data"), query, items),
            )
        }
        ("GET", ["data", name]) => {
            let vs = of(&d, name);
            if vs.is_empty() {
                return not_found(options, &format!("data/{name}"));
            }
            respond(200, &container(name, &vs.iter().collect::<Vec<_>>()))
        }
        ("GET", ["data", name, "versions"]) => {
            let view = query
                .get("listViewType")
                .map_or("ActiveOnly", String::as_str);
            if !LIST_VIEW_TYPE.contains(&view) {
                return bad_enum("listViewType", view, LIST_VIEW_TYPE);
            }
            let mut vs: Vec<Value> = of(&d, name)
                .into_iter()
                .filter(|v| match view {
                    "ActiveOnly" => !archived(v),
                    "ArchivedOnly" => archived(v),
                    _ => true,
                })
                .collect();
            match query.get("$orderBy").map(String::as_str) {
                None | Some("createdtime asc") => {}
                Some("createdtime desc") => vs.reverse(),
                Some(other) => {
                    return error(
                        400,
                        "UserError",
                        &format!("unsupported $orderBy `{other}`"),
                        Some("$orderBy"),
                    );
                }
            }
            if let Some(top) = query.get("$top").and_then(|t| t.parse::<usize>().ok()) {
                vs.truncate(top);
            }
            respond(
                200,
                &page(
                    options,
                    base,
                    &format!("{ws_id}/data/{name}/versions"),
                    query,
                    vs,
                ),
            )
        }
        ("GET", ["data", name, "versions", version]) => {
            match d
                .versions
                .iter()
                .find(|((n, v), _)| n == name && v == version)
            {
                Some((_, b)) => respond(200, b),
                None => not_found(options, &format!("data/{name}/versions/{version}")),
            }
        }
        ("PUT", ["data", name, "versions", version]) => {
            if let Err(answer) = check_version(body) {
                return answer;
            }
            let key = ((*name).to_owned(), (*version).to_owned());
            let props = body["properties"].clone();
            if let Some((_, old)) = d.versions.iter_mut().find(|(k, _)| *k == key) {
                for field in ["dataType", "dataUri"] {
                    if old["properties"][field] != props[field] {
                        return error(
                            409,
                            "UserError",
                            &format!(
                                "Conflict: data {name} version {version} already exists with \
                                 another {field}; a version's data cannot change"
                            ),
                            Some(&format!("properties.{field}")),
                        );
                    }
                }
                *old = stored(ws_id, name, version, props);
                let answer = old.clone();
                d.puts += 1;
                return respond(200, &answer);
            }
            let body = stored(ws_id, name, version, props);
            d.versions.push((key, body.clone()));
            d.puts += 1;
            respond(201, &body)
        }
        _ => error(
            404,
            "NoRegisteredProviderFound",
            &format!(
                "The fake Azure ML does not serve {method} {}",
                rest.join("/")
            ),
            None,
        ),
    }
}

fn check_version(body: &Value) -> Result<(), Answer> {
    check_keys(
        body,
        &["properties"],
        &["id", "name", "type", "systemData"],
        "",
    )?;
    let p = &body["properties"];
    if !p.is_object() {
        return Err(required("properties"));
    }
    check_keys(
        p,
        DATA_VERSION_PROPERTIES,
        &["provisioningState"],
        "properties",
    )?;
    let kind = match p["dataType"].as_str() {
        None => return Err(required("properties.dataType")),
        Some(k) if !DATA_TYPE.contains(&k) => {
            return Err(bad_enum("properties.dataType", k, DATA_TYPE));
        }
        Some(k) => k,
    };
    if p["dataUri"].as_str().is_none_or(str::is_empty) {
        return Err(required("properties.dataUri"));
    }
    if kind != "mltable" && p.get("referencedUris").is_some() {
        return Err(error(
            400,
            "UserError",
            "referencedUris is a field of mltable data only",
            Some("properties.referencedUris"),
        ));
    }
    Ok(())
}

fn not_found(options: &crate::fake_aml::FakeAmlOptions, what: &str) -> Answer {
    error(
        404,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.MachineLearningServices/workspaces/{}/{what}' under \
             resource group '{}' was not found.",
            options.workspace_name, options.resource_group
        ),
        None,
    )
}

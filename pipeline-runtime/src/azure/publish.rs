//! Publishing a pipeline (the seed's `publish_pipeline(name, version, description)`) and the
//! published versions (`PublishedPipeline.disable()` / `enable()`), on Azure ML v2: a published
//! pipeline is a named, versioned **pipeline component**; disabling archives the version.
//!
//! Publishing registers the step components and code assets exactly as `submit` does
//! ([`super::submit::prepare`]), then `PUT components/{name}/versions/{v}` with the pipeline's
//! nodes. Re-publishing the same definition under the same name changes nothing and says so
//! ([`Published::changed`]); without a version, the next free number is taken only when the
//! definition changed.
//!
//! ```no_run
//! # async fn demo(pipeline: azureml_pipelines_runtime::graph::Pipeline)
//! #     -> Result<(), azureml_pipelines_runtime::azure::publish::OperateError> {
//! use azureml_pipelines_runtime::azure::{Workspace, publish};
//! let ws = Workspace::from_config()?;
//! let options = publish::PublishOptions { version: Some("3".into()), ..Default::default() };
//! let published = publish::publish(&ws, &pipeline, &options).await?;
//! println!("{} ({})", published.id, if published.changed { "new" } else { "unchanged" });
//! publish::Published::archive(&ws, &published.name, &published.version, true).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use serde_json::Value;

use super::arm::ArmError;
use super::components::{ComponentVersion, ComponentVersionProperties};
use super::submit::{self, SubmitError, SubmitOptions};
use super::workspace::Workspace;
use crate::graph::Pipeline;
use crate::wire::endpoint::pipeline_component;

/// Why an operation on published pipelines, endpoints or schedules failed.
#[derive(Debug, thiserror::Error)]
pub enum OperateError {
    /// The workspace config could not be loaded.
    #[error(transparent)]
    Config(#[from] super::ConfigError),
    /// A control-plane or data-plane request failed (after retries).
    #[error(transparent)]
    Arm(#[from] ArmError),
    /// Registering the steps and their code failed.
    #[error(transparent)]
    Submit(Box<SubmitError>),
    /// The version is disabled: it is not deployed or invoked through this client.
    #[error(
        "pipeline `{name}` version `{version}` is disabled (archived); enable it first with \
         `published enable {name}:{version}`"
    )]
    Archived {
        /// Component name.
        name: String,
        /// Version.
        version: String,
    },
    /// The published version already exists with another definition (versions are immutable).
    #[error(
        "pipeline `{name}` version `{version}` is already published with a different \
         definition; publish under a new `--version` (or leave it out to take the next one)"
    )]
    VersionTaken {
        /// Component name.
        name: String,
        /// Version.
        version: String,
    },
    /// Something the caller named does not exist.
    #[error("{what} does not exist{hint}")]
    NotFound {
        /// What was looked for (`endpoint \`e\``).
        what: String,
        /// How to get one (` ; create it with …`).
        hint: String,
    },
    /// Values do not fit the published interface.
    #[error("{problem}; version `{version}` of `{name}` accepts:\n{accepted}")]
    Interface {
        /// What is wrong.
        problem: String,
        /// Component name.
        name: String,
        /// Version.
        version: String,
        /// One line per input: `  name  type (default: …)`.
        accepted: String,
    },
    /// A bad argument found before any request.
    #[error("{0}")]
    Invalid(String),
}

impl From<SubmitError> for OperateError {
    fn from(e: SubmitError) -> Self {
        OperateError::Submit(Box::new(e))
    }
}

impl From<super::Error> for OperateError {
    fn from(e: super::Error) -> Self {
        match e {
            super::Error::Config(e) => OperateError::Config(e),
            super::Error::Auth(e) => OperateError::Arm(ArmError::Auth(e)),
            super::Error::Arm(e) => OperateError::Arm(e),
        }
    }
}

impl OperateError {
    /// Whether the caller gave something wrong (exit code 2) rather than the service failing.
    pub fn is_bad_input(&self) -> bool {
        match self {
            OperateError::Config(_)
            | OperateError::Archived { .. }
            | OperateError::VersionTaken { .. }
            | OperateError::NotFound { .. }
            | OperateError::Interface { .. }
            | OperateError::Invalid(_) => true,
            OperateError::Arm(e) => e.status() == Some(404),
            OperateError::Submit(e) => matches!(
                **e,
                SubmitError::Snapshot { .. } | SubmitError::Data { .. } | SubmitError::Wire(_)
            ),
        }
    }
}

/// How to publish.
#[derive(Clone, Debug, Default)]
pub struct PublishOptions {
    /// The published name (default: the pipeline's name).
    pub name: Option<String>,
    /// The version (default: the latest when its definition is the same, else the next number).
    pub version: Option<String>,
    /// Description (default: the pipeline's doc comment).
    pub description: Option<String>,
    /// Upload and registration settings, as for `submit`.
    pub submit: SubmitOptions,
}

/// A published pipeline version.
#[derive(Clone, Debug)]
pub struct Published {
    /// Component name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Its ARM id: what a deployment's `componentId` points at.
    pub id: String,
    /// False when the same definition was already published under this name and version.
    pub changed: bool,
    /// Step components registered.
    pub components: usize,
}

/// Publishes `pipeline` as a versioned pipeline component; see the module documentation.
///
/// # Errors
///
/// [`OperateError`]: the registration of steps failed as a `submit` would; the version exists
/// with another definition; a request failed.
pub async fn publish(
    ws: &Workspace,
    pipeline: &Pipeline,
    opts: &PublishOptions,
) -> Result<Published, OperateError> {
    publish_with_events(
        ws,
        pipeline,
        opts,
        &(Arc::new(|_| {}) as submit::SubmitEvents),
    )
    .await
}

/// [`publish`], reporting upload and registration progress to `events`.
///
/// # Errors
///
/// As [`publish`].
pub async fn publish_with_events(
    ws: &Workspace,
    pipeline: &Pipeline,
    opts: &PublishOptions,
    events: &submit::SubmitEvents,
) -> Result<Published, OperateError> {
    let name = opts.name.clone().unwrap_or_else(|| pipeline.name.clone());
    check_name(&name)?;
    let unbound = vec![None; pipeline.inputs.len()];
    let prepared = submit::prepare(ws, pipeline, &unbound, &opts.submit, events).await?;
    let body = pipeline_component(
        pipeline,
        &prepared.bodies.job,
        &name,
        opts.description.clone(),
    )
    .map_err(SubmitError::from)?;
    let spec =
        crate::wire::to_json_value(&body.properties.component_spec, "the pipeline component")
            .map_err(OperateError::Invalid)?;
    let versions = Versions::new(ws);
    let version = match &opts.version {
        Some(v) => v.clone(),
        None => match versions
            .list(&name)
            .await?
            .into_iter()
            .max_by_key(|v| numeric(&v.name))
        {
            Some(latest) if same(&spec, &latest.properties.component_spec) => latest.name,
            Some(latest) => (numeric(&latest.name).unwrap_or(0) + 1).to_string(),
            None => "1".to_owned(),
        },
    };
    let components = prepared.bodies.components.len();
    if let Some(found) = versions.get(&name, &version).await? {
        if same(&spec, &found.properties.component_spec) {
            return Ok(Published {
                id: id_of(ws, &found, &name, &version),
                name,
                version,
                changed: false,
                components,
            });
        }
        return Err(OperateError::VersionTaken { name, version });
    }
    let created = ws
        .components()
        .create_or_update_version(&name, &version, &body)
        .await?;
    Ok(Published {
        id: id_of(ws, &created, &name, &version),
        name,
        version,
        changed: true,
        components,
    })
}

impl Published {
    /// Disables (`archived = true`) or enables a published version: GET it, then PUT it back
    /// with `isArchived` set. Returns the version and whether anything changed.
    ///
    /// # Errors
    ///
    /// [`OperateError::NotFound`] for an unknown version; a failed request.
    pub async fn archive(
        ws: &Workspace,
        name: &str,
        version: &str,
        archived: bool,
    ) -> Result<(ComponentVersion, bool), OperateError> {
        let versions = Versions::new(ws);
        let found = versions.require(name, version).await?;
        if found.properties.is_archived == archived {
            return Ok((found, false));
        }
        let properties = ComponentVersionProperties {
            is_archived: archived,
            provisioning_state: None,
            ..found.properties
        };
        let put = ws
            .components()
            .create_or_update(name, version, &properties)
            .await?;
        Ok((put, true))
    }
}

/// Published (named) component versions of a workspace.
#[derive(Debug, Clone, Copy)]
pub struct Versions<'a> {
    ws: &'a Workspace,
}

impl<'a> Versions<'a> {
    /// The published versions of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    fn api(self) -> &'a str {
        &self.ws.arm().options().api_versions.components
    }

    /// Every version of `name` (`GET components/{name}/versions`), archived ones included; empty
    /// when the name is unknown.
    pub async fn list(self, name: &str) -> Result<Vec<ComponentVersion>, ArmError> {
        let op = format!("GET components/{name}/versions");
        let mut url = self.ws.url(&["components", name, "versions"]);
        url.query_pairs_mut().append_pair("listViewType", "All");
        match self.ws.arm().list_all(url, self.api(), &op).await {
            Err(e) if e.status() == Some(404) => Ok(Vec::new()),
            other => other,
        }
    }

    /// The names of the published pipelines (`GET components`, pipeline components only when
    /// the service says their type; anonymous ones never).
    pub async fn names(self) -> Result<Vec<String>, ArmError> {
        let mut url = self.ws.url(&["components"]);
        url.query_pairs_mut().append_pair("listViewType", "All");
        let all: Vec<Value> = self
            .ws
            .arm()
            .list_all(url, self.api(), "GET components")
            .await?;
        Ok(all
            .iter()
            .filter_map(|c| c["name"].as_str())
            .filter(|n| *n != super::components::ANONYMOUS_COMPONENT_NAME)
            .map(str::to_owned)
            .collect())
    }

    /// One version, `None` when it does not exist.
    pub async fn get(
        self,
        name: &str,
        version: &str,
    ) -> Result<Option<ComponentVersion>, ArmError> {
        match self.ws.components().get(name, version).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One version, or [`OperateError::NotFound`] naming how to see what exists.
    pub async fn require(
        self,
        name: &str,
        version: &str,
    ) -> Result<ComponentVersion, OperateError> {
        self.get(name, version)
            .await?
            .ok_or_else(|| OperateError::NotFound {
                what: format!("published pipeline `{name}:{version}`"),
                hint: format!("; `published list {name}` shows its versions"),
            })
    }

    /// `name:version`, or the newest version of `name` when no version is given.
    pub async fn resolve(
        self,
        name: &str,
        version: Option<&str>,
    ) -> Result<ComponentVersion, OperateError> {
        match version {
            Some(v) => self.require(name, v).await,
            None => self
                .list(name)
                .await?
                .into_iter()
                .max_by_key(|v| numeric(&v.name))
                .ok_or_else(|| OperateError::NotFound {
                    what: format!("published pipeline `{name}`"),
                    hint: "; `publish --name NAME` publishes it".to_owned(),
                }),
        }
    }
}

/// Splits `NAME:VERSION` (the version optional unless `need_version`).
pub fn split_reference(
    text: &str,
    need_version: bool,
) -> Result<(String, Option<String>), OperateError> {
    let (name, version) = match text.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (text, None),
    };
    if name.is_empty() || version.is_some_and(str::is_empty) || (need_version && version.is_none())
    {
        return Err(OperateError::Invalid(format!(
            "`{text}` is not a published pipeline reference: write NAME:VERSION (e.g. \
             `compare_models:1`)"
        )));
    }
    Ok((name.to_owned(), version.map(str::to_owned)))
}

/// Azure ML asset names: 1 to 255 letters, digits, `_` or `-`, starting with a letter or digit.
pub(crate) fn check_name(name: &str) -> Result<(), OperateError> {
    if crate::wire::is_valid_name(name) {
        Ok(())
    } else {
        Err(OperateError::Invalid(format!(
            "`{name}` is not a valid Azure ML name: use 1 to 255 letters, digits, `_` or `-`, \
             starting with a letter or a digit"
        )))
    }
}

fn numeric(version: &str) -> Option<u64> {
    version.parse().ok()
}

fn id_of(ws: &Workspace, v: &ComponentVersion, name: &str, version: &str) -> String {
    if v.id.is_empty() {
        ws.scope().component_version_id(name, version)
    } else {
        v.id.clone()
    }
}

/// Whether every key we send is in `stored` with the same value (the service may add fields).
pub(crate) fn same(ours: &Value, stored: &Value) -> bool {
    match (ours, stored) {
        (Value::Object(a), Value::Object(b)) => {
            a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => ours == stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_need_a_name_and_maybe_a_version() {
        assert_eq!(
            split_reference("p:2", true).unwrap(),
            ("p".to_owned(), Some("2".to_owned()))
        );
        assert_eq!(split_reference("p", false).unwrap(), ("p".to_owned(), None));
        for bad in ["p", ":1", "p:"] {
            let e = split_reference(bad, true).unwrap_err().to_string();
            assert!(e.contains("NAME:VERSION"), "{e}");
        }
    }

    #[test]
    fn same_tolerates_fields_the_service_adds_but_not_changes() {
        let ours = json!({"a": 1, "b": {"c": [1, 2]}});
        assert!(same(
            &ours,
            &json!({"a": 1, "b": {"c": [1, 2], "d": 0}, "x": 1})
        ));
        assert!(!same(&ours, &json!({"a": 2, "b": {"c": [1, 2]}})));
        assert!(!same(&ours, &json!({"a": 1, "b": {"c": [1]}})));
    }
}

//! Which workspace to talk to: `config.json` discovery as the Python SDK does it, plus environment
//! overrides.
//!
//! Search order for [`WorkspaceConfig::from_config`]:
//!
//! 1. `AZUREML_CONFIG=<file>` names the file directly (it must exist);
//! 2. otherwise, starting in the current directory and walking up to the root, the first of
//!    `<dir>/.azureml/config.json` and `<dir>/config.json` that exists (the Python SDK's order);
//! 3. `AZUREML_SUBSCRIPTION_ID`, `AZUREML_RESOURCE_GROUP` and `AZUREML_WORKSPACE_NAME` override the
//!    file's keys one by one; when all three are set no file is needed.
//!
//! The file is read as Microsoft's Python SDK (`MLClient.from_config`) reads it: UTF-8 with or
//! without a byte order mark (PowerShell and Notepad write one); a JSON object holding either a
//! non-empty `Scope` (the workspace's ARM id,
//! `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`,
//! which then wins over the other keys) or `subscription_id`, `resource_group` and
//! `workspace_name`. Anything else (an array, a number) is refused.
//!
//! `AZUREML_ARM_ENDPOINT` replaces the Azure Resource Manager endpoint
//! (default `https://management.azure.com`), e.g. to point at a test server, and
//! `AZUREML_BLOB_ENDPOINT` replaces the blob service URL of Azure Blob datastores
//! (`{protocol}://{account}.blob.{suffix}`), e.g. to point at a storage emulator.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use azure_core::http::Url;
use serde::Deserialize;

/// Environment variable naming the config file to read.
pub const ENV_CONFIG: &str = "AZUREML_CONFIG";
/// Environment variable overriding `subscription_id`.
pub const ENV_SUBSCRIPTION_ID: &str = "AZUREML_SUBSCRIPTION_ID";
/// Environment variable overriding `resource_group`.
pub const ENV_RESOURCE_GROUP: &str = "AZUREML_RESOURCE_GROUP";
/// Environment variable overriding `workspace_name`.
pub const ENV_WORKSPACE_NAME: &str = "AZUREML_WORKSPACE_NAME";
/// Environment variable replacing the ARM endpoint.
pub const ENV_ARM_ENDPOINT: &str = "AZUREML_ARM_ENDPOINT";
/// Environment variable replacing the blob service URL of Azure Blob datastores.
pub const ENV_BLOB_ENDPOINT: &str = "AZUREML_BLOB_ENDPOINT";
/// The public-cloud Azure Resource Manager endpoint.
pub const DEFAULT_ARM_ENDPOINT: &str = "https://management.azure.com";

/// Where environment variables come from. The process environment in real use; a map in tests,
/// so that tests never change the process environment.
pub trait Env: Send + Sync {
    /// The value of `key`, or `None` when unset or empty.
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).cloned()
    }
}

impl Env for HashMap<&str, &str> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned())
    }
}

/// Why the workspace configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No config file was found and the environment does not name the workspace.
    #[error(
        "no Azure ML workspace config found; looked for {} and the environment is missing {}; \
         download `config.json` from the workspace's overview page in Azure ML studio into your \
         project (or `.azureml/`), or set {ENV_SUBSCRIPTION_ID}, {ENV_RESOURCE_GROUP} and \
         {ENV_WORKSPACE_NAME}",
        display_paths(searched), missing_env.join(", ")
    )]
    NotFound {
        /// The files that were looked for, in order.
        searched: Vec<PathBuf>,
        /// The override variables that were unset.
        missing_env: Vec<&'static str>,
    },
    /// The file named by `AZUREML_CONFIG` or given to `from_path` could not be read.
    #[error("cannot read workspace config `{}`: {source}; check the path (set by {ENV_CONFIG} or passed in)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a JSON object of strings.
    #[error(
        "workspace config `{}` is not valid JSON: {source}; expected {{\"subscription_id\": \"…\", \
         \"resource_group\": \"…\", \"workspace_name\": \"…\"}}",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parse error (line and column).
        source: serde_json::Error,
    },
    /// The file is JSON but not an object.
    #[error(
        "workspace config `{}` holds {found}, not a JSON object; expected {{\"subscription_id\": \"…\", \
         \"resource_group\": \"…\", \"workspace_name\": \"…\"}} as downloaded from the workspace's \
         overview page in Azure ML studio",
        path.display()
    )]
    NotAnObject {
        /// The file.
        path: PathBuf,
        /// What it holds instead, e.g. `an array`.
        found: &'static str,
    },
    /// `Scope` is not a workspace's ARM id.
    #[error(
        "workspace config `{}` has a `Scope` that is not a workspace id: `{scope}`; expected \
         `/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.MachineLearningServices/workspaces/<name>`",
        path.display()
    )]
    BadScope {
        /// The file.
        path: PathBuf,
        /// The value found.
        scope: String,
    },
    /// A key is missing or not a non-empty string, and no environment variable supplies it.
    #[error(
        "workspace config `{}` has no string `{key}`; add it to the file or set {env}",
        path.display()
    )]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The missing key, e.g. `workspace_name`.
        key: &'static str,
        /// The environment variable that could supply it.
        env: &'static str,
    },
    /// `AZUREML_ARM_ENDPOINT` or `AZUREML_BLOB_ENDPOINT` is not a URL.
    #[error("{variable}=`{value}` is not a valid URL: {source}")]
    BadEndpoint {
        /// The environment variable.
        variable: &'static str,
        /// The value given.
        value: String,
        /// The parse error.
        source: url::ParseError,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    match paths {
        [] => "no files".to_owned(),
        [one] => format!("`{}`", one.display()),
        [first, .., last] => format!(
            "{} files from `{}` up to `{}`",
            paths.len(),
            first.display(),
            last.display()
        ),
    }
}

/// The workspace an `AmlClient` talks to.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkspaceConfig {
    /// Azure subscription id.
    pub subscription_id: String,
    /// Resource group of the workspace.
    pub resource_group: String,
    /// Workspace name.
    pub workspace_name: String,
    /// Azure Resource Manager endpoint, `https://management.azure.com` unless overridden.
    pub arm_endpoint: Url,
    /// The config file the values came from, if any.
    pub source: Option<PathBuf>,
    /// Blob service URL used for every Azure Blob datastore instead of the one the datastore
    /// names (`AZUREML_BLOB_ENDPOINT`; a storage emulator such as Azurite).
    pub blob_endpoint: Option<Url>,
}

impl fmt::Debug for WorkspaceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkspaceConfig")
            .field("subscription_id", &self.subscription_id)
            .field("resource_group", &self.resource_group)
            .field("workspace_name", &self.workspace_name)
            .field("arm_endpoint", &self.arm_endpoint.as_str())
            .field("source", &self.source)
            .field(
                "blob_endpoint",
                &self.blob_endpoint.as_ref().map(Url::as_str),
            )
            .finish()
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    subscription_id: Option<serde_json::Value>,
    resource_group: Option<serde_json::Value>,
    workspace_name: Option<serde_json::Value>,
    #[serde(rename = "Scope")]
    scope: Option<serde_json::Value>,
}

impl ConfigFile {
    /// Parses the file's text: a UTF-8 byte order mark is skipped, the JSON must be an object,
    /// and a non-empty `Scope` replaces the three keys.
    fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| ConfigError::Malformed {
                path: path.to_owned(),
                source,
            })?;
        let found = match &value {
            serde_json::Value::Object(_) => None,
            serde_json::Value::Array(_) => Some("an array"),
            serde_json::Value::String(_) => Some("a string"),
            serde_json::Value::Number(_) => Some("a number"),
            serde_json::Value::Bool(_) => Some("a boolean"),
            serde_json::Value::Null => Some("null"),
        };
        if let Some(found) = found {
            return Err(ConfigError::NotAnObject {
                path: path.to_owned(),
                found,
            });
        }
        let mut file: ConfigFile =
            serde_json::from_value(value).map_err(|source| ConfigError::Malformed {
                path: path.to_owned(),
                source,
            })?;
        let scope = match &file.scope {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(serde_json::Value::Null) | None => return Ok(file),
            Some(serde_json::Value::String(_)) => return Ok(file),
            Some(other) => {
                return Err(ConfigError::BadScope {
                    path: path.to_owned(),
                    scope: other.to_string(),
                });
            }
        };
        let (subscription, group, workspace) =
            parse_workspace_id(&scope).ok_or_else(|| ConfigError::BadScope {
                path: path.to_owned(),
                scope: scope.clone(),
            })?;
        file.subscription_id = Some(subscription.into());
        file.resource_group = Some(group.into());
        file.workspace_name = Some(workspace.into());
        Ok(file)
    }
}

/// Splits a workspace ARM id into subscription, resource group and workspace name (segment names
/// compared without regard to case, as ARM does).
fn parse_workspace_id(id: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    let [subs, s, rgs, rg, providers, namespace, workspaces, ws] = parts.as_slice() else {
        return None;
    };
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    (is(subs, "subscriptions")
        && is(rgs, "resourceGroups")
        && is(providers, "providers")
        && is(namespace, "Microsoft.MachineLearningServices")
        && is(workspaces, "workspaces")
        && [s, rg, ws].iter().all(|p| !p.is_empty()))
    .then(|| ((*s).to_owned(), (*rg).to_owned(), (*ws).to_owned()))
}

impl WorkspaceConfig {
    /// Builds a config from its three parts, with the public ARM endpoint. The environment is not
    /// read; use [`WorkspaceConfig::with_arm_endpoint`] to point elsewhere.
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        workspace_name: impl Into<String>,
    ) -> Self {
        Self {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            workspace_name: workspace_name.into(),
            arm_endpoint: Url::parse(DEFAULT_ARM_ENDPOINT).expect("constant URL"),
            source: None,
            blob_endpoint: None,
        }
    }

    /// Replaces the ARM endpoint (e.g. a fake server in tests).
    pub fn with_arm_endpoint(mut self, endpoint: Url) -> Self {
        self.arm_endpoint = endpoint;
        self
    }

    /// Sends blob uploads to Azure Blob datastores to this blob service URL instead of the
    /// one each datastore names (a storage emulator in tests).
    pub fn with_blob_endpoint(mut self, endpoint: Url) -> Self {
        self.blob_endpoint = Some(endpoint);
        self
    }

    /// Finds the workspace config the way the Python SDK's `from_config()` does, starting in the
    /// current directory, with environment overrides (see the module docs).
    pub fn from_config() -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().map_err(|source| ConfigError::Read {
            path: PathBuf::from("."),
            source,
        })?;
        Self::discover(&cwd, &ProcessEnv)
    }

    /// Reads the given config file, with environment overrides for each key.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load(Some(path.as_ref()), &ProcessEnv)
    }

    /// [`WorkspaceConfig::from_config`] with an explicit start directory and environment.
    pub fn discover(start_dir: &Path, env: &dyn Env) -> Result<Self, ConfigError> {
        if let Some(path) = env.var(ENV_CONFIG) {
            return Self::load(Some(Path::new(&path)), env);
        }
        let mut searched = Vec::new();
        for dir in start_dir.ancestors() {
            for candidate in [
                dir.join(".azureml").join("config.json"),
                dir.join("config.json"),
            ] {
                if candidate.is_file() {
                    tracing::debug!(path = %candidate.display(), "found workspace config");
                    return Self::load(Some(&candidate), env);
                }
                searched.push(candidate);
            }
        }
        let missing_env: Vec<&'static str> =
            [ENV_SUBSCRIPTION_ID, ENV_RESOURCE_GROUP, ENV_WORKSPACE_NAME]
                .into_iter()
                .filter(|k| env.var(k).is_none())
                .collect();
        if missing_env.is_empty() {
            return Self::load(None, env);
        }
        Err(ConfigError::NotFound {
            searched,
            missing_env,
        })
    }

    fn load(path: Option<&Path>, env: &dyn Env) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Some(ConfigFile::parse(path, &text)?)
            }
            None => None,
        };
        let pick = |key: &'static str,
                    env_key: &'static str,
                    value: Option<&serde_json::Value>|
         -> Result<String, ConfigError> {
            if let Some(v) = env.var(env_key) {
                return Ok(v);
            }
            match value.and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
                Some(s) => Ok(s.to_owned()),
                None => Err(ConfigError::MissingKey {
                    path: path.map(Path::to_owned).unwrap_or_default(),
                    key,
                    env: env_key,
                }),
            }
        };
        let subscription_id = pick(
            "subscription_id",
            ENV_SUBSCRIPTION_ID,
            file.as_ref().and_then(|f| f.subscription_id.as_ref()),
        )?;
        let resource_group = pick(
            "resource_group",
            ENV_RESOURCE_GROUP,
            file.as_ref().and_then(|f| f.resource_group.as_ref()),
        )?;
        let workspace_name = pick(
            "workspace_name",
            ENV_WORKSPACE_NAME,
            file.as_ref().and_then(|f| f.workspace_name.as_ref()),
        )?;
        let arm_endpoint = match env.var(ENV_ARM_ENDPOINT) {
            Some(value) => Url::parse(&value).map_err(|source| ConfigError::BadEndpoint {
                variable: ENV_ARM_ENDPOINT,
                value,
                source,
            })?,
            None => Url::parse(DEFAULT_ARM_ENDPOINT).expect("constant URL"),
        };
        let blob_endpoint = match env.var(ENV_BLOB_ENDPOINT) {
            Some(value) => Some(
                Url::parse(&value).map_err(|source| ConfigError::BadEndpoint {
                    variable: ENV_BLOB_ENDPOINT,
                    value,
                    source,
                })?,
            ),
            None => None,
        };
        Ok(Self {
            subscription_id,
            resource_group,
            workspace_name,
            arm_endpoint,
            source: path.map(Path::to_owned),
            blob_endpoint,
        })
    }

    /// The workspace's ARM resource id,
    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`.
    pub fn resource_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
            self.subscription_id, self.resource_group, self.workspace_name
        )
    }
}

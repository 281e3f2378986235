//! `data create|create-tabular|list|show|archive|restore`: data assets, in the local workspace
//! ([`crate::local::data_assets`]) or, with `--azure`, in the Azure ML workspace
//! ([`crate::azure::data`]).
//!
//! ```text
//! data create NAME --version V --type uri_file|uri_folder|mltable --path LOCAL|azureml://… [--azure]
//! data create-tabular NAME --version V --from-delimited 'azureml://datastores/DS/paths/d/*.csv'
//!                     [--delimiter ,] [--header all_files_same_headers] [--azure]
//! data list [--azure]
//! data show NAME[:V] [--azure]
//! data archive NAME:V [--azure]      data restore NAME:V [--azure]
//! ```
//!
//! A pipeline input then names the asset: `--input iris=azureml:iris:1` (or `azureml:iris@latest`)
//! runs locally from the local registry and is submitted as the Azure asset's id.
//!
//! `create` is idempotent: the same version of the same data again changes nothing (and sends
//! no file); the same version of other data is refused (a version never changes). On Azure,
//! local files go to the default datastore under `LocalUpload/<object hash>/…`, as Microsoft's
//! SDK puts them, and an upload already marked complete is skipped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::graph::Pipeline;
use crate::local::Workspace;
use crate::local::data_assets::{LocalDataAssets, LocalDataVersion, copy_into, glob_match};
use crate::wire::data::{DataType, Header, MlTable};

use super::CliError;
#[cfg(feature = "azure")]
use super::args::AzureConfigArg;
use super::args::WorkspaceArg;
#[cfg(feature = "azure")]
use super::dry_run::DryRunArgs;
use super::output::outln;

/// `data`: data assets.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The `data` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DataCommand {
    /// Register a version of a data asset from a local file or folder or a datastore URI.
    Create(CreateArgs),
    /// Register a table (`mltable`) read from delimited files (the seed's
    /// `Dataset.Tabular.from_delimited_files` + `register`).
    CreateTabular(TabularArgs),
    /// List the data assets and their latest versions.
    List(Target),
    /// Show an asset's versions, or one version (`NAME:V`).
    Show(ShowArgs),
    /// Archive a version: hidden from `list` and from `@latest`.
    Archive(ShowArgs),
    /// Restore an archived version.
    Restore(ShowArgs),
}

/// Where: the local workspace, or with `--azure` the Azure ML workspace.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The Azure ML workspace instead of the local one.
    #[arg(long)]
    pub azure: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: WorkspaceArg,
    #[cfg(feature = "azure")]
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
    #[cfg(feature = "azure")]
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
}

/// `data create`.
#[derive(Debug, Clone, clap::Args)]
pub struct CreateArgs {
    /// The asset name.
    pub name: String,
    /// The version.
    #[arg(long, value_name = "V")]
    pub version: String,
    /// What the data is.
    #[arg(long = "type", value_name = "TYPE")]
    pub data_type: DataType,
    /// A local file or folder (an `mltable` folder holds an `MLTable` file), or
    /// `azureml://datastores/DS/paths/P`.
    #[arg(long, value_name = "PATH|URI")]
    pub path: String,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: Target,
}

/// `data create-tabular`.
#[derive(Debug, Clone, clap::Args)]
pub struct TabularArgs {
    /// The asset name.
    pub name: String,
    /// The version.
    #[arg(long, value_name = "V")]
    pub version: String,
    /// The delimited files: a file, a folder (ending in `/`) or a glob such as
    /// `azureml://datastores/DS/paths/train-dataset/*.csv`.
    #[arg(long, value_name = "PATTERN")]
    pub from_delimited: String,
    /// Column separator.
    #[arg(long, default_value = ",")]
    pub delimiter: String,
    /// Where the header row is.
    #[arg(long, value_name = "HEADER", default_value = "all_files_same_headers")]
    pub header: Header,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: Target,
}

/// `data show|archive|restore`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// `NAME` or `NAME:VERSION` (archive and restore need the version).
    pub asset: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: Target,
}

/// `data …`.
pub fn data(pipeline: &Pipeline, args: &DataArgs) -> Result<ExitCode, CliError> {
    let target = match &args.command {
        DataCommand::Create(a) => &a.target,
        DataCommand::CreateTabular(a) => &a.target,
        DataCommand::List(a) => a,
        DataCommand::Show(a) | DataCommand::Archive(a) | DataCommand::Restore(a) => &a.target,
    };
    if target.azure {
        #[cfg(feature = "azure")]
        return azure::data(args);
        #[cfg(not(feature = "azure"))]
        return Err(CliError::Usage(
            "`--azure` needs the `azure` feature of `azureml-pipelines`".into(),
        ));
    }
    #[cfg(feature = "azure")]
    if target.dry_run.dry_run {
        return Err(CliError::Usage(
            "`--dry-run` shows the requests sent to Azure ML: add `--azure`".into(),
        ));
    }
    let ws = Workspace::open(target.workspace.path(pipeline))?;
    let assets = LocalDataAssets::new(&ws);
    match &args.command {
        DataCommand::Create(a) => local_create(&ws, &assets, a),
        DataCommand::CreateTabular(a) => local_tabular(&ws, &assets, a),
        DataCommand::List(_) => {
            let all = assets.all()?;
            let mut names: Vec<&str> = all.iter().map(|v| v.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            if names.is_empty() {
                outln!(
                    "No data assets in the local workspace {}: register one with `data create`.",
                    super::shown(ws.root())
                );
            }
            for name in names {
                if let Some(v) = assets.latest(name)? {
                    outln!(
                        "{name}  latest {}  {}  {}",
                        v.version,
                        v.data_type,
                        v.source
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Show(a) => {
            let (name, version) = split(&a.asset)?;
            let versions = match version {
                Some(v) => assets.get(name, v)?.into_iter().collect(),
                None => assets.versions(name)?,
            };
            if versions.is_empty() {
                return Err(CliError::Usage(format!(
                    "no data asset `{}` in the local workspace {}; `data list` shows what it has",
                    a.asset,
                    super::shown(ws.root())
                )));
            }
            for v in versions {
                outln!(
                    "{}:{}  {}  {}{}  -> {}",
                    v.name,
                    v.version,
                    v.data_type,
                    v.source,
                    if v.archived { "  (archived)" } else { "" },
                    assets
                        .path_of(&ws, &v)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|e| e.to_string())
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DataCommand::Archive(a) | DataCommand::Restore(a) => {
            let archive = matches!(args.command, DataCommand::Archive(_));
            let (name, version) = split(&a.asset)?;
            let version = version.ok_or_else(|| need_version(&a.asset))?;
            match assets.set_archived(name, version, archive)? {
                None => Err(CliError::Usage(format!(
                    "no version `{version}` of data asset `{name}` in the local workspace"
                ))),
                Some(changed) => {
                    outln!("{}", archived_line(name, version, archive, changed));
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

fn archived_line(name: &str, version: &str, archive: bool, changed: bool) -> String {
    match (archive, changed) {
        (true, true) => format!("Archived `{name}:{version}`."),
        (false, true) => format!("Restored `{name}:{version}`."),
        (true, false) => format!("`{name}:{version}` was already archived; nothing changed."),
        (false, false) => format!("`{name}:{version}` is not archived; nothing changed."),
    }
}

fn need_version(asset: &str) -> CliError {
    CliError::Usage(format!("name the version: `{asset}:VERSION`"))
}

/// `NAME` or `NAME:VERSION`, checked against Azure ML's asset name rules.
fn split(asset: &str) -> Result<(&str, Option<&str>), CliError> {
    let (name, version) = match asset.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (asset, None),
    };
    check_name(name, "data asset name")?;
    if let Some(v) = version {
        check_name(v, "version")?;
    }
    Ok((name, version))
}

fn check_name(text: &str, what: &str) -> Result<(), CliError> {
    let ok = !text.is_empty()
        && text.len() <= 255
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "{what} `{text}` is not valid: letters, digits, `-`, `_` and `.`, starting with a \
             letter or digit"
        )))
    }
}

fn is_uri(path: &str) -> bool {
    path.contains("://")
}

/// The local file or folder a `--path` names, checked to exist and to fit `data_type`.
fn local_source(path: &str, data_type: DataType) -> Result<PathBuf, CliError> {
    let p = super::cwd().join(path);
    let meta = std::fs::metadata(&p).map_err(|_| {
        CliError::Usage(format!(
            "`--path {path}`: {} does not exist",
            super::shown(&p)
        ))
    })?;
    match data_type {
        DataType::UriFile if !meta.is_file() => Err(CliError::Usage(format!(
            "`--path {path}` is a folder; a `uri_file` asset is one file: use `--type uri_folder`"
        ))),
        DataType::UriFolder | DataType::Mltable if !meta.is_dir() => Err(CliError::Usage(format!(
            "`--path {path}` is a file; a `{data_type}` asset is a folder"
        ))),
        DataType::Mltable if !p.join("MLTable").is_file() => Err(CliError::Usage(format!(
            "`--path {path}` has no `MLTable` file; write one, or use `data create-tabular`"
        ))),
        _ => Ok(p),
    }
}

fn object_hash(path: &Path) -> Result<String, CliError> {
    crate::snapshot::object_hash(path).map_err(|source| CliError::Snapshot {
        what: format!("data `{}`", path.display()),
        source,
    })
}

fn local_create(
    ws: &Workspace,
    assets: &LocalDataAssets,
    a: &CreateArgs,
) -> Result<ExitCode, CliError> {
    check_name(&a.name, "data asset name")?;
    check_name(&a.version, "version")?;
    let (location, hash, source) = if is_uri(&a.path) {
        let resolved = ws.resolve_uri(&a.path, &a.name)?;
        if !resolved.exists() {
            return Err(CliError::Usage(format!(
                "`{}` names {}, which does not exist in the local datastore",
                a.path,
                resolved.display()
            )));
        }
        (a.path.clone(), None, a.path.clone())
    } else {
        let p = local_source(&a.path, a.data_type)?;
        (String::new(), Some(object_hash(&p)?), a.path.clone())
    };
    if let Some(existing) = assets.get(&a.name, &a.version)? {
        return same_or_conflict(&existing, a.data_type, &hash, &location, &a.path);
    }
    let location = match &hash {
        None => location,
        Some(_) => {
            let p = super::cwd().join(&a.path);
            let dir = assets.files_dir(&a.name, &a.version);
            copy_into(&p, &dir)?;
            let copied = dir.join(p.file_name().unwrap_or_default());
            copied
                .strip_prefix(ws.root())
                .unwrap_or(&copied)
                .display()
                .to_string()
        }
    };
    let v = assets.insert(LocalDataVersion {
        name: a.name.clone(),
        version: a.version.clone(),
        data_type: a.data_type,
        location,
        source,
        hash,
        description: a.description.clone(),
        archived: false,
        created: 0,
    })?;
    outln!(
        "Registered `{}:{}` ({}) in the local workspace; use it as `--input NAME=azureml:{}:{}`.",
        v.name,
        v.version,
        v.data_type,
        v.name,
        v.version
    );
    Ok(ExitCode::SUCCESS)
}

fn same_or_conflict(
    existing: &LocalDataVersion,
    data_type: DataType,
    hash: &Option<String>,
    location: &str,
    path: &str,
) -> Result<ExitCode, CliError> {
    let same = existing.data_type == data_type
        && match hash {
            Some(h) => existing.hash.as_deref() == Some(h.as_str()),
            None => existing.location == location,
        };
    if same {
        outln!(
            "`{}:{}` already exists with the same data; nothing changed.",
            existing.name,
            existing.version
        );
        return Ok(ExitCode::SUCCESS);
    }
    Err(CliError::Usage(format!(
        "`{}:{}` already exists with other data ({} from `{}`, not {data_type} from `{path}`); a \
         version never changes: register the new data as another `--version`",
        existing.name, existing.version, existing.data_type, existing.source
    )))
}

fn local_tabular(
    ws: &Workspace,
    assets: &LocalDataAssets,
    a: &TabularArgs,
) -> Result<ExitCode, CliError> {
    check_name(&a.name, "data asset name")?;
    check_name(&a.version, "version")?;
    if let Some(existing) = assets.get(&a.name, &a.version)? {
        let same = existing.data_type == DataType::Mltable && existing.source == a.from_delimited;
        return same_or_conflict(
            &existing,
            DataType::Mltable,
            &None,
            if same { &existing.location } else { "" },
            &a.from_delimited,
        );
    }
    let dir = assets.files_dir(&a.name, &a.version).join(&a.name);
    std::fs::create_dir_all(&dir).map_err(|e| crate::local::LocalError::io("create", &dir, e))?;
    // Locally the table's folder is self-contained: the matching files are copied beside the
    // `MLTable` file, which reads them relative to itself.
    let (parent, glob) = a
        .from_delimited
        .rsplit_once('/')
        .unwrap_or(("", a.from_delimited.as_str()));
    let base = if is_uri(parent) {
        ws.resolve_uri(&format!("{parent}/"), &a.name)?
    } else {
        super::cwd().join(parent)
    };
    let mut copied = 0;
    let entries = std::fs::read_dir(&base).map_err(|_| {
        CliError::Usage(format!(
            "`--from-delimited {}`: {} does not exist",
            a.from_delimited,
            base.display()
        ))
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && (glob.is_empty() || glob_match(glob, &name)) {
            std::fs::copy(entry.path(), dir.join(&name))
                .map_err(|e| crate::local::LocalError::io("copy", entry.path(), e))?;
            copied += 1;
        }
    }
    if copied == 0 {
        return Err(CliError::Usage(format!(
            "`--from-delimited {}` matches no file in {}",
            a.from_delimited,
            base.display()
        )));
    }
    let pattern = if glob.is_empty() {
        "./".to_owned()
    } else {
        format!("./{glob}")
    };
    let table = MlTable::from_delimited_files(&pattern, &a.delimiter, a.header);
    let file = dir.join("MLTable");
    std::fs::write(&file, table.to_yaml())
        .map_err(|e| crate::local::LocalError::io("write", &file, e))?;
    let location = dir
        .strip_prefix(ws.root())
        .unwrap_or(&dir)
        .display()
        .to_string();
    assets.insert(LocalDataVersion {
        name: a.name.clone(),
        version: a.version.clone(),
        data_type: DataType::Mltable,
        location,
        source: a.from_delimited.clone(),
        hash: None,
        description: a.description.clone(),
        archived: false,
        created: 0,
    })?;
    outln!(
        "Registered table `{}:{}` ({copied} file(s) read as delimited text) in the local \
         workspace; use it as `--input NAME=azureml:{}:{}`.",
        a.name,
        a.version,
        a.name,
        a.version
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "azure")]
mod azure {
    //! The `--azure` half of `data`.

    use std::process::ExitCode;

    use super::*;
    use crate::azure::blob::UploadOptions;
    use crate::azure::data::ListView;
    use crate::wire::LocalUpload;
    use crate::wire::data::DataVersion;

    use super::super::dry_run::{self, PlannedRequest};
    use super::super::output::{errln, outln};

    pub(super) fn data(args: &DataArgs) -> Result<ExitCode, CliError> {
        match &args.command {
            DataCommand::Create(a) => create(
                &a.name,
                &a.version,
                a.data_type,
                &a.path,
                a.description.clone(),
                None,
                &a.target,
            ),
            DataCommand::CreateTabular(a) => tabular(a),
            DataCommand::List(t) => list(t),
            DataCommand::Show(a) => show(a),
            DataCommand::Archive(a) => archive(a, true),
            DataCommand::Restore(a) => archive(a, false),
        }
    }

    fn versions() -> crate::azure::ApiVersions {
        crate::azure::ApiVersions::from_env()
    }

    fn body(
        data_type: DataType,
        uri: String,
        description: Option<String>,
        referenced: Option<Vec<String>>,
    ) -> DataVersion {
        let mut v = DataVersion::new(data_type, uri);
        v.properties.description = description;
        v.properties.referenced_uris = referenced;
        v
    }

    /// Registers a version from a local path or a URI; `referenced` for tables.
    pub(super) fn create(
        name: &str,
        version: &str,
        data_type: DataType,
        path: &str,
        description: Option<String>,
        referenced: Option<Vec<String>>,
        target: &Target,
    ) -> Result<ExitCode, CliError> {
        check_name(name, "data asset name")?;
        check_name(version, "version")?;
        // Checked before anything is sent: a local path exists and fits the type.
        let local = (!is_uri(path))
            .then(|| local_source(path, data_type))
            .transpose()?;
        let referenced = match (&local, data_type, referenced) {
            (Some(dir), DataType::Mltable, None) => Some(mltable_paths(dir)?),
            (_, _, r) => r,
        };
        let api = versions();
        if target.dry_run.dry_run {
            let scope = dry_run::scope(&target.config)?;
            let id = scope.data_version_id(name, version);
            let mut reqs = vec![
                PlannedRequest::arm("GET", id.clone(), &api.data)
                    .only_if("always: a version that exists with the same data is left alone"),
            ];
            let uri = match &local {
                None => path.to_owned(),
                Some(p) => {
                    let hash = object_hash(p)?;
                    let target = LocalUpload {
                        datastore: "{default_datastore}".into(),
                        hash,
                        name: p
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        is_dir: p.is_dir(),
                    };
                    let mut ds = scope.resource_id("datastores");
                    ds.push_str("?isDefault=true");
                    reqs.push(PlannedRequest::arm("GET", ds, &api.datastores));
                    reqs.push(
                        PlannedRequest::arm(
                            "POST",
                            scope.datastore_id("{default_datastore}") + "/listSecrets",
                            &api.datastores,
                        )
                        .with_body(
                            serde_json::json!({"expirableSecret": true, "expireAfterHours": 1}),
                            "list-secrets.json",
                        ),
                    );
                    let mut blobs = PlannedRequest::arm(
                        "PUT",
                        format!("/{{container}}/{}/…", target.blob_prefix()),
                        "",
                    )
                    .only_if(
                        "the first blob is not yet marked `upload_status: completed` (one PUT \
                         a file)",
                    );
                    blobs.host = Some("{default_datastore_blob_endpoint}".into());
                    blobs.api_version = None;
                    reqs.push(blobs);
                    target.uri()
                }
            };
            let b = body(data_type, uri, description, referenced);
            reqs.push(
                PlannedRequest::arm("PUT", id, &api.data)
                    .with_body(
                        crate::wire::to_json_value(&b, "the data version")
                            .map_err(CliError::Usage)?,
                        "data-version.json",
                    )
                    .only_if("the version does not exist yet"),
            );
            return dry_run::show(&reqs, target.dry_run.out.as_deref());
        }
        super::super::azure_workspace::block_on(async {
            let ws = super::super::azure_workspace::workspace(target.config.file.as_deref())?;
            let assets = ws.data();
            let existing = assets.find_version(name, version).await?;
            let uri = match &local {
                None => path.to_owned(),
                Some(p) => {
                    if let Some(e) = &existing {
                        // Compare without uploading: the URI names the content's hash.
                        let store = ws.datastores().get_default().await?;
                        let target = LocalUpload {
                            datastore: store.name,
                            hash: object_hash(p)?,
                            name: p
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            is_dir: p.is_dir(),
                        };
                        return same_or_conflict(name, version, e, data_type, &target.uri());
                    }
                    let started = std::time::Instant::now();
                    let done = assets
                        .upload_local(p, &format!("data `{name}`"), &UploadOptions::default())
                        .await?;
                    match done.uploaded {
                        Some(r) => errln!(
                            "Uploaded {} file(s), {} bytes, in {:.2} s to {}",
                            r.files,
                            r.bytes,
                            started.elapsed().as_secs_f64(),
                            done.uri
                        ),
                        None => errln!(
                            "{} is already uploaded ({}); nothing sent",
                            super::super::shown(p),
                            done.uri
                        ),
                    }
                    done.uri
                }
            };
            if let Some(e) = &existing {
                return same_or_conflict(name, version, e, data_type, &uri);
            }
            let b = body(data_type, uri, description, referenced);
            let made = assets.create_version(name, version, &b).await?;
            outln!(
                "Registered `{name}:{version}` ({}) in Azure ML workspace `{}`: {}; use it as \
                 `--input NAME=azureml:{name}:{version}`.",
                made.properties.data_type,
                ws.config().workspace_name,
                made.properties.data_uri
            );
            Ok(ExitCode::SUCCESS)
        })
    }

    fn same_or_conflict(
        name: &str,
        version: &str,
        existing: &DataVersion,
        data_type: DataType,
        uri: &str,
    ) -> Result<ExitCode, CliError> {
        let p = &existing.properties;
        if p.data_type == data_type && p.data_uri.trim_end_matches('/') == uri.trim_end_matches('/')
        {
            outln!("`{name}:{version}` already exists with the same data; nothing changed.");
            return Ok(ExitCode::SUCCESS);
        }
        Err(CliError::Usage(format!(
            "`{name}:{version}` already exists with other data ({} at {}, not {data_type} at \
             {uri}); a version never changes: register the new data as another `--version`",
            p.data_type, p.data_uri
        )))
    }

    /// The `paths` of a local `MLTable` file, for `referencedUris`.
    fn mltable_paths(dir: &Path) -> Result<Vec<String>, CliError> {
        let file = dir.join("MLTable");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| crate::local::LocalError::io("read", &file, e))?;
        let table = MlTable::from_yaml(&text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
        Ok(table.paths.iter().map(|p| p.uri().to_owned()).collect())
    }

    fn tabular(a: &TabularArgs) -> Result<ExitCode, CliError> {
        check_name(&a.name, "data asset name")?;
        let dir =
            std::env::temp_dir().join(format!("azureml-mltable-{}-{}", std::process::id(), a.name));
        let folder = dir.join(&a.name);
        std::fs::create_dir_all(&folder)
            .map_err(|e| crate::local::LocalError::io("create", &folder, e))?;
        let table = MlTable::from_delimited_files(&a.from_delimited, &a.delimiter, a.header);
        let file = folder.join("MLTable");
        std::fs::write(&file, table.to_yaml())
            .map_err(|e| crate::local::LocalError::io("write", &file, e))?;
        let result = create(
            &a.name,
            &a.version,
            DataType::Mltable,
            &folder.display().to_string(),
            a.description.clone(),
            Some(vec![a.from_delimited.clone()]),
            &a.target,
        );
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn list(t: &Target) -> Result<ExitCode, CliError> {
        super::super::azure_workspace::block_on(async {
            let ws = super::super::azure_workspace::workspace(t.config.file.as_deref())?;
            let all = ws.data().list().await?;
            if all.is_empty() {
                outln!(
                    "No data assets in Azure ML workspace `{}`: register one with `data create \
                     --azure`.",
                    ws.config().workspace_name
                );
            }
            for c in all {
                outln!(
                    "{}  latest {}  {}",
                    c.name,
                    c.properties.latest_version.as_deref().unwrap_or("-"),
                    c.properties.data_type.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        })
    }

    fn show(a: &ShowArgs) -> Result<ExitCode, CliError> {
        let (name, version) = split(&a.asset)?;
        super::super::azure_workspace::block_on(async {
            let ws = super::super::azure_workspace::workspace(a.target.config.file.as_deref())?;
            let list = match version {
                Some(v) => vec![ws.data().get_version(name, v).await?],
                None => {
                    let all = ws.data().list_versions(name, ListView::All).await?;
                    if all.is_empty() {
                        // Names the asset and the workspace.
                        ws.data().get_container(name).await?;
                    }
                    all
                }
            };
            for v in list {
                let p = &v.properties;
                outln!(
                    "{name}:{}  {}  {}{}",
                    v.name.as_deref().unwrap_or("-"),
                    p.data_type,
                    p.data_uri,
                    if p.is_archived { "  (archived)" } else { "" }
                );
            }
            Ok(ExitCode::SUCCESS)
        })
    }

    fn archive(a: &ShowArgs, archive: bool) -> Result<ExitCode, CliError> {
        let (name, version) = split(&a.asset)?;
        let version = version.ok_or_else(|| need_version(&a.asset))?;
        let api = versions();
        if a.target.dry_run.dry_run {
            let scope = dry_run::scope(&a.target.config)?;
            let id = scope.data_version_id(name, version);
            let reqs = [
                PlannedRequest::arm("GET", id.clone(), &api.data),
                PlannedRequest::arm("PUT", id, &api.data)
                    .with_body(
                        serde_json::json!({"properties": {"…": "the version as read",
                            "isArchived": archive}}),
                        "data-version.json",
                    )
                    .only_if("`isArchived` is not already so"),
            ];
            return dry_run::show(&reqs, a.target.dry_run.out.as_deref());
        }
        super::super::azure_workspace::block_on(async {
            let ws = super::super::azure_workspace::workspace(a.target.config.file.as_deref())?;
            let changed = ws.data().set_archived(name, version, archive).await?;
            outln!("{}", archived_line(name, version, archive, changed));
            Ok(ExitCode::SUCCESS)
        })
    }
}

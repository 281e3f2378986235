//! What can go wrong before or around a local run (a failing step is not an error: it is a
//! step outcome).

use std::path::PathBuf;

use crate::graph::BindError;

/// Why the local backend could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// `--param` / `--input` values did not fit the pipeline.
    #[error(transparent)]
    Bind(#[from] BindError),

    /// A data input points at a local file or folder that does not exist.
    #[error("input `{input}`: {path} does not exist{hint}", hint = fmt_hint(hint))]
    MissingInput {
        /// The pipeline or step input.
        input: String,
        /// The path that was looked up.
        path: PathBuf,
        /// What to do about it.
        hint: Option<String>,
    },

    /// A data input folder holds the local workspace: delivering it would copy the workspace
    /// (and the run's own folder) into itself.
    #[error(
        "input `{input}`: {} contains the local workspace {}, so the run would copy its own \
         folder into itself; pass a folder that does not contain the workspace, or put the \
         workspace elsewhere with `--workspace DIR`",
        path.display(),
        workspace.display()
    )]
    InputContainsWorkspace {
        /// The pipeline input.
        input: String,
        /// The input folder.
        path: PathBuf,
        /// The local workspace folder.
        workspace: PathBuf,
    },

    /// An `azureml://datastores/NAME/...` URI names a datastore the local workspace lacks.
    #[error(
        "{}datastore `{datastore}` does not exist in the local workspace {}; \
         known datastores: {known}; create it with `mkdir -p {}/datastores/{datastore}`",
        if input.is_empty() { String::new() } else { format!("input `{input}`: ") },
        workspace.display(),
        workspace.display()
    )]
    UnknownDatastore {
        /// The input whose URI names the datastore (empty for `upload`).
        input: String,
        /// The datastore name.
        datastore: String,
        /// The workspace folder.
        workspace: PathBuf,
        /// Datastores that exist.
        known: String,
    },

    /// A URI the local backend cannot read (`https://…`, `azureml:NAME:VERSION`, …).
    #[error("input `{input}`: `{uri}` cannot be read by a local run; {hint}")]
    UnsupportedUri {
        /// The input.
        input: String,
        /// The URI.
        uri: String,
        /// What to do instead.
        hint: String,
    },

    /// A step's snapshot folder could not be scanned.
    #[error("step `{step}`: cannot snapshot {dir}: {reason}")]
    Snapshot {
        /// The step.
        step: String,
        /// Its source folder.
        dir: PathBuf,
        /// What went wrong (a missing folder, a symlink loop, an unreadable file, …).
        reason: String,
    },

    /// A step's command line uses a placeholder that the step cannot fill.
    #[error("step `{step}`: {message}")]
    Command {
        /// The step.
        step: String,
        /// What is wrong with the command.
        message: String,
    },

    /// No Python interpreter could be found for commands that call `python`.
    #[error(
        "`{wanted}` was not found{where_}; install Python 3, or pass `--python PATH` \
         (or set AZUREML_LOCAL_PYTHON)",
        where_ = if *.on_path { " on PATH" } else { "" }
    )]
    Python {
        /// What was looked for.
        wanted: String,
        /// Whether it was looked for on PATH (as opposed to an explicit path).
        on_path: bool,
    },

    /// `upload` would replace a file that exists.
    #[error("{} exists in datastore `{datastore}`; pass `--overwrite` to replace it", path.display())]
    Exists {
        /// The datastore.
        datastore: String,
        /// The file that exists.
        path: PathBuf,
    },

    /// A file operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`create`, `copy`, `read`, …).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// The run store could not be read or written.
    #[error("run store {path}: {source}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },

    /// The disk holding the run store is full.
    #[error(
        "no space left on device at {}: the run store {} could not be written; the run history is \
         intact (the unfinished change was rolled back); free some space and run again",
        dir.display(),
        path.display()
    )]
    NoSpace {
        /// The database file.
        path: PathBuf,
        /// The folder on the full file system.
        dir: PathBuf,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },

    /// No run matches the id given.
    #[error("no run `{run}` in {workspace}; `runs list` shows the runs there")]
    UnknownRun {
        /// The id or prefix given.
        run: String,
        /// The workspace folder.
        workspace: PathBuf,
    },

    /// A run id prefix matches more than one run.
    #[error("`{run}` matches several runs ({matches}); give more of the id")]
    AmbiguousRun {
        /// The prefix given.
        run: String,
        /// Some of the runs it matches.
        matches: String,
    },

    /// A step name that the pipeline or run does not have.
    #[error("no step `{step}` in {scope}; its steps are: {known}")]
    UnknownStep {
        /// The step name given.
        step: String,
        /// Where it was looked up (`pipeline compare_models`, `run R`).
        scope: String,
        /// The steps there.
        known: String,
    },

    /// A step has no `source_dir`, so it has no snapshot.
    #[error("step `{0}` has no `source_dir`, so it has no snapshot")]
    NoSourceDir(String),
}

fn fmt_hint(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default()
}

impl LocalError {
    /// Whether the error is the user's input (exit code 2) rather than a failure of this
    /// machine (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            LocalError::Io { .. } | LocalError::Store { .. } | LocalError::NoSpace { .. }
        )
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        LocalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

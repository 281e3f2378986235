//! The run store: an embedded SQLite database (`runs.db` in the workspace, WAL mode), one
//! transaction per state change.
//!
//! Tables: `runs` (one row per pipeline run) and `step_runs` (one row per step of a run). A
//! step run is a reuse candidate only once its outputs were sealed and its row says
//! `Completed`; anything else left behind by a killed run is never taken for a finished output.
//!
//! Why one long file: every statement against `runs.db` (schema, writes, reuse lookups, history
//! queries) is here, so a schema change is made in one place; its unit tests are the last 165 lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::error::LocalError;
use super::reuse::ReuseParts;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    pipeline    TEXT NOT NULL,
    experiment  TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      TEXT NOT NULL,      -- JSON object: name -> value
    inputs      TEXT NOT NULL,      -- JSON object: name -> location
    properties  TEXT NOT NULL,      -- JSON object: Azure ML run properties (azureml.git.*, …)
    git_commit  TEXT,
    git_branch  TEXT,
    git_dirty   INTEGER,
    started_ms  INTEGER NOT NULL,
    ended_ms    INTEGER,
    pid         INTEGER NOT NULL,   -- the process running it, to spot runs that were killed
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_ms);
CREATE TABLE IF NOT EXISTS step_runs (
    run_id        TEXT NOT NULL REFERENCES runs (id),
    node          TEXT NOT NULL,    -- path-qualified node name
    pipeline      TEXT NOT NULL,
    component     TEXT NOT NULL,
    seq           INTEGER NOT NULL, -- position in the run's plan
    status        TEXT NOT NULL,
    started_ms    INTEGER,
    ended_ms      INTEGER,
    exit_code     INTEGER,
    reuse_key     TEXT,
    reuse_parts   TEXT,             -- JSON: the parts the key covers, to explain misses
    reused_run    TEXT,
    reused_node   TEXT,
    reasons       TEXT,             -- JSON array: why the step was not reused
    command       TEXT,             -- the command line as run
    outputs       TEXT,             -- JSON object: name -> {path, hash}
    log_path      TEXT,
    error         TEXT,
    PRIMARY KEY (run_id, node)
);
CREATE INDEX IF NOT EXISTS step_runs_key ON step_runs (reuse_key, status);
CREATE INDEX IF NOT EXISTS step_runs_node ON step_runs (pipeline, node, status);
CREATE TABLE IF NOT EXISTS data_hashes (
    path         TEXT PRIMARY KEY,  -- a local input file or folder
    fingerprint  TEXT NOT NULL,     -- SHA-256 of every file's name, size and mtime
    hash         TEXT NOT NULL      -- its content hash, valid while the fingerprint matches
);
CREATE TABLE IF NOT EXISTS metrics (  -- added with Rust steps; `IF NOT EXISTS` migrates old stores
    run_id  TEXT NOT NULL,
    node    TEXT NOT NULL,
    seq     INTEGER NOT NULL,           -- order logged
    name    TEXT NOT NULL,
    step    INTEGER,                    -- index in a series (`log_at`), NULL for `log`
    value   REAL NOT NULL,
    PRIMARY KEY (run_id, node, seq)
);
"#;

/// The status of a pipeline run (Azure ML's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Steps are running.
    Running,
    /// Every step completed or was reused.
    Completed,
    /// A step failed, or the process running it died.
    Failed,
    /// Stopped by the user (Ctrl-C).
    Canceled,
}

/// The status of one step of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepStatus {
    /// Waiting for its inputs.
    NotStarted,
    /// Its process is running.
    Running,
    /// It ran and its outputs were sealed.
    Completed,
    /// An earlier run's outputs were reused.
    Reused,
    /// Its process failed, or its outputs were not usable.
    Failed,
    /// Not run because a step it depends on failed or the run stopped.
    Skipped,
    /// Stopped by the user.
    Canceled,
}

macro_rules! string_enum {
    ($ty:ident { $($variant:ident),* }) => {
        impl $ty {
            /// The stored name.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => stringify!($variant),)* }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $(stringify!($variant) => Ok($ty::$variant),)*
                    other => Err(format!("unknown status `{other}`")),
                }
            }
        }
    };
}
string_enum!(RunStatus {
    Running,
    Completed,
    Failed,
    Canceled
});
string_enum!(StepStatus {
    NotStarted,
    Running,
    Completed,
    Reused,
    Failed,
    Skipped,
    Canceled
});

impl StepStatus {
    /// Whether the step's outputs are available to downstream steps.
    pub fn succeeded(self) -> bool {
        matches!(self, StepStatus::Completed | StepStatus::Reused)
    }

    /// Whether the step will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, StepStatus::NotStarted | StepStatus::Running)
    }
}

/// One sealed output of a step run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// The sealed folder.
    pub path: PathBuf,
    /// Its content hash, computed when it was sealed.
    pub hash: String,
}

/// Git facts of the folder a run started from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitInfo {
    /// The commit (`HEAD`).
    pub commit: Option<String>,
    /// The branch.
    pub branch: Option<String>,
    /// Whether the work tree had changes.
    pub dirty: Option<bool>,
    /// The `origin` remote's URL.
    pub repository: Option<String>,
}

impl GitInfo {
    /// The Azure ML run properties that carry these facts (`azureml.git.*`,
    /// `mlflow.source.git.*`).
    pub fn properties(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        if let Some(c) = &self.commit {
            p.insert("azureml.git.commit".into(), c.clone());
            p.insert("mlflow.source.git.commit".into(), c.clone());
        }
        if let Some(b) = &self.branch {
            p.insert("azureml.git.branch".into(), b.clone());
            p.insert("mlflow.source.git.branch".into(), b.clone());
        }
        if let Some(d) = self.dirty {
            p.insert(
                "azureml.git.dirty".into(),
                if d { "True" } else { "False" }.into(),
            );
        }
        if let Some(r) = &self.repository {
            p.insert("azureml.git.repository_uri".into(), r.clone());
            p.insert("mlflow.source.git.repoURL".into(), r.clone());
        }
        p
    }
}

/// A stored pipeline run.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// Run id.
    pub id: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Experiment name.
    pub experiment: String,
    /// Status.
    pub status: RunStatus,
    /// Parameter values (name → value as given).
    pub params: BTreeMap<String, String>,
    /// Data inputs (name → location).
    pub inputs: BTreeMap<String, String>,
    /// Run properties (`azureml.git.*`, `mlflow.source.git.*`).
    pub properties: BTreeMap<String, String>,
    /// Git facts.
    pub git: GitInfo,
    /// Start, in milliseconds since the Unix epoch.
    pub started_ms: i64,
    /// End, in milliseconds since the Unix epoch.
    pub ended_ms: Option<i64>,
    /// The process that ran it.
    pub pid: u32,
    /// Why it failed or stopped.
    pub error: Option<String>,
}

/// A stored step run.
#[derive(Clone, Debug)]
pub struct StepRunRecord {
    /// The run.
    pub run_id: String,
    /// Path-qualified node name.
    pub node: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Component (step) name.
    pub component: String,
    /// Status.
    pub status: StepStatus,
    /// Start (ms since the epoch).
    pub started_ms: Option<i64>,
    /// End (ms since the epoch).
    pub ended_ms: Option<i64>,
    /// The process's exit code.
    pub exit_code: Option<i32>,
    /// The reuse key.
    pub reuse_key: Option<String>,
    pub(crate) reuse_parts: Option<ReuseParts>,
    /// The run and node whose outputs were reused.
    pub reused_from: Option<(String, String)>,
    /// Why the step was not reused.
    pub reasons: Vec<String>,
    /// The command line as run.
    pub command: Option<String>,
    /// Sealed outputs.
    pub outputs: BTreeMap<String, OutputRecord>,
    /// The step's log file.
    pub log_path: Option<PathBuf>,
    /// Why it failed.
    pub error: Option<String>,
}

impl StepRunRecord {
    /// How long it ran, if it started and ended.
    pub fn duration(&self) -> Option<std::time::Duration> {
        match (self.started_ms, self.ended_ms) {
            (Some(s), Some(e)) if e >= s => Some(std::time::Duration::from_millis((e - s) as u64)),
            _ => None,
        }
    }
}

/// The run store of a local workspace.
pub struct RunStore {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for RunStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const STEP_COLUMNS: &str = "run_id, node, pipeline, component, status, started_ms, ended_ms, \
     exit_code, reuse_key, reuse_parts, reused_run, reused_node, reasons, command, outputs, \
     log_path, error";

/// The error for a failed database call: a full disk says so (SQLite reports it as `database or
/// disk is full`, or as a bare `disk I/O error` when the write-ahead log could not grow), anything
/// else is [`LocalError::Store`].
pub(crate) fn store_error(path: &Path, source: rusqlite::Error) -> LocalError {
    let code = source.sqlite_error_code();
    let full = code == Some(rusqlite::ErrorCode::DiskFull)
        || (code == Some(rusqlite::ErrorCode::SystemIoFailure) && nearly_full(path));
    if full {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        LocalError::NoSpace {
            path: path.to_path_buf(),
            dir,
            source,
        }
    } else {
        LocalError::Store {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether the file system holding `path` has less than 1 MiB left for this user.
fn nearly_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path and `stat` a plain struct the call fills.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return false;
    }
    (stat.f_bavail as u128) * (stat.f_frsize as u128) < 1 << 20
}

impl RunStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<RunStore, LocalError> {
        let path = path.as_ref().to_path_buf();
        let err = |source| store_error(&path, source);
        let conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(RunStore { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> LocalError {
        store_error(&self.path, source)
    }

    /// Records a new run and its steps (all `NotStarted`), in one transaction.
    pub(crate) fn create_run(
        &mut self,
        run: &RunRecord,
        steps: &[(String, String)],
    ) -> Result<(), LocalError> {
        let path = self.path.clone();
        let err = |source| store_error(&path, source);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO runs (id, pipeline, experiment, status, params, inputs, properties, \
             git_commit, git_branch, git_dirty, started_ms, pid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                run.id,
                run.pipeline,
                run.experiment,
                run.status.as_str(),
                json(&run.params),
                json(&run.inputs),
                json(&run.properties),
                run.git.commit,
                run.git.branch,
                run.git.dirty,
                run.started_ms,
                run.pid,
            ],
        )
        .map_err(err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO step_runs (run_id, node, pipeline, component, seq, status) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 'NotStarted')",
                )
                .map_err(err)?;
            for (seq, (node, component)) in steps.iter().enumerate() {
                stmt.execute(params![run.id, node, run.pipeline, component, seq as i64])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Marks a step as running.
    pub(crate) fn step_started(
        &self,
        run: &str,
        node: &str,
        parts: &ReuseParts,
        reasons: &[String],
        command: &str,
        log_path: &Path,
    ) -> Result<(), LocalError> {
        self.conn
            .execute(
                "UPDATE step_runs SET status = 'Running', started_ms = ?3, reuse_key = ?4, \
                 reuse_parts = ?5, reasons = ?6, command = ?7, log_path = ?8 \
                 WHERE run_id = ?1 AND node = ?2",
                params![
                    run,
                    node,
                    now_ms(),
                    parts.key(),
                    json(parts),
                    json(&reasons),
                    command,
                    log_path.to_string_lossy(),
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records a finished step: its outputs were sealed (`Completed`), or it failed.
    pub(crate) fn step_finished(
        &self,
        run: &str,
        node: &str,
        status: StepStatus,
        exit_code: Option<i32>,
        outputs: &BTreeMap<String, OutputRecord>,
        error: Option<&str>,
    ) -> Result<(), LocalError> {
        self.conn
            .execute(
                "UPDATE step_runs SET status = ?3, ended_ms = ?4, exit_code = ?5, outputs = ?6, \
                 error = ?7 WHERE run_id = ?1 AND node = ?2",
                params![
                    run,
                    node,
                    status.as_str(),
                    now_ms(),
                    exit_code,
                    json(outputs),
                    error
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records a step that reused an earlier step run's outputs.
    pub(crate) fn step_reused(
        &self,
        run: &str,
        node: &str,
        parts: &ReuseParts,
        from: &StepRunRecord,
    ) -> Result<(), LocalError> {
        let now = now_ms();
        self.conn
            .execute(
                "UPDATE step_runs SET status = 'Reused', started_ms = ?3, ended_ms = ?3, \
                 reuse_key = ?4, reuse_parts = ?5, reused_run = ?6, reused_node = ?7, \
                 outputs = ?8, log_path = ?9, command = ?10 WHERE run_id = ?1 AND node = ?2",
                params![
                    run,
                    node,
                    now,
                    parts.key(),
                    json(parts),
                    from.run_id,
                    from.node,
                    json(&from.outputs),
                    from.log_path
                        .as_ref()
                        .map(|p| p.to_string_lossy().into_owned()),
                    from.command,
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Marks a step that will not run (`Skipped` or `Canceled`), with the reason.
    pub(crate) fn step_not_run(
        &self,
        run: &str,
        node: &str,
        status: StepStatus,
        why: &str,
    ) -> Result<(), LocalError> {
        self.conn
            .execute(
                "UPDATE step_runs SET status = ?3, error = ?4, \
                 ended_ms = CASE WHEN started_ms IS NULL THEN NULL ELSE ?5 END \
                 WHERE run_id = ?1 AND node = ?2",
                params![run, node, status.as_str(), why, now_ms()],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records the end of a run.
    pub(crate) fn finish_run(
        &self,
        run: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), LocalError> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, ended_ms = ?3, error = ?4 WHERE id = ?1",
                params![run, status.as_str(), now_ms(), error],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The latest `Completed` step run with this reuse key.
    pub(crate) fn find_reusable(&self, key: &str) -> Result<Option<StepRunRecord>, LocalError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {STEP_COLUMNS} FROM step_runs WHERE reuse_key = ?1 \
                     AND status = 'Completed' ORDER BY ended_ms DESC LIMIT 1"
                ),
                params![key],
                step_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The latest successful (completed or reused) run of a node of a pipeline.
    pub(crate) fn latest_success(
        &self,
        pipeline: &str,
        node: &str,
    ) -> Result<Option<StepRunRecord>, LocalError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {STEP_COLUMNS} FROM step_runs WHERE pipeline = ?1 AND node = ?2 \
                     AND status IN ('Completed', 'Reused') ORDER BY ended_ms DESC LIMIT 1"
                ),
                params![pipeline, node],
                step_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The content hash recorded for a local input whose fingerprint has not changed.
    pub(crate) fn cached_data_hash(&self, path: &Path, fingerprint: &str) -> Option<String> {
        self.conn
            .query_row(
                "SELECT hash FROM data_hashes WHERE path = ?1 AND fingerprint = ?2",
                params![path.to_string_lossy(), fingerprint],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten()
    }

    /// Records the content hash of a local input for its fingerprint.
    pub(crate) fn cache_data_hash(
        &self,
        path: &Path,
        fingerprint: &str,
        hash: &str,
    ) -> Result<(), LocalError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO data_hashes (path, fingerprint, hash) VALUES (?1, ?2, ?3)",
                params![path.to_string_lossy(), fingerprint, hash],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Runs still marked `Running` whose process is gone (killed): they are marked `Failed`
    /// along with their unfinished steps. Returns their ids.
    pub(crate) fn close_abandoned_runs(&self) -> Result<Vec<String>, LocalError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, pid FROM runs WHERE status = 'Running'")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, u32)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        let mut closed = Vec::new();
        for (id, pid) in rows {
            if pid == std::process::id() || process_alive(pid) {
                continue;
            }
            let why = "the process running this run ended before it finished (killed?)";
            self.conn
                .execute(
                    "UPDATE step_runs SET status = CASE status WHEN 'Running' THEN 'Failed' \
                     ELSE 'Skipped' END, error = ?2 \
                     WHERE run_id = ?1 AND status IN ('Running', 'NotStarted')",
                    params![id, why],
                )
                .map_err(|e| self.err(e))?;
            self.finish_run(&id, RunStatus::Failed, Some(why))?;
            closed.push(id);
        }
        Ok(closed)
    }

    /// The most recent runs, newest first.
    pub fn list_runs(&self, limit: usize) -> Result<Vec<RunRecord>, LocalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, pipeline, experiment, status, params, inputs, properties, git_commit, \
                 git_branch, git_dirty, started_ms, ended_ms, pid, error FROM runs \
                 ORDER BY started_ms DESC, rowid DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(params![limit as i64], run_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Finds a run by id, unique id prefix, or `last` / `latest`.
    pub fn find_run(&self, id: &str, workspace: &Path) -> Result<RunRecord, LocalError> {
        let unknown = || LocalError::UnknownRun {
            run: id.to_owned(),
            workspace: workspace.to_path_buf(),
        };
        if id == "last" || id == "latest" {
            return self.list_runs(1)?.into_iter().next().ok_or_else(unknown);
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, pipeline, experiment, status, params, inputs, properties, git_commit, \
                 git_branch, git_dirty, started_ms, ended_ms, pid, error FROM runs \
                 WHERE id = ?1 OR substr(id, 1, length(?1)) = ?1 ORDER BY id = ?1 DESC LIMIT 6",
            )
            .map_err(|e| self.err(e))?;
        let found: Vec<RunRecord> = stmt
            .query_map(params![id], run_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        match found.as_slice() {
            [] => Err(unknown()),
            [one, ..] if one.id == id => Ok(one.clone()),
            [one] => Ok(one.clone()),
            many => Err(LocalError::AmbiguousRun {
                run: id.to_owned(),
                matches: many
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Stores the metrics a step logged (replacing any stored for it before).
    pub(crate) fn store_metrics(
        &self,
        run: &str,
        node: &str,
        metrics: &[crate::metrics::Metric],
    ) -> Result<(), LocalError> {
        let err = |source| store_error(&self.path, source);
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        tx.execute(
            "DELETE FROM metrics WHERE run_id = ?1 AND node = ?2",
            params![run, node],
        )
        .map_err(err)?;
        for (seq, m) in metrics.iter().enumerate() {
            tx.execute(
                "INSERT INTO metrics (run_id, node, seq, name, step, value) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, node, seq as i64, m.name, m.step, m.value],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The metrics of a run: `(node, metric)` in the order each step logged them.
    pub fn metrics(
        &self,
        run_id: &str,
    ) -> Result<Vec<(String, crate::metrics::Metric)>, LocalError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT node, name, step, value FROM metrics WHERE run_id = ?1 ORDER BY node, seq",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map(params![run_id], |r| {
            Ok((
                r.get(0)?,
                crate::metrics::Metric {
                    name: r.get(1)?,
                    step: r.get(2)?,
                    value: r.get(3)?,
                },
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// The steps of a run, in plan order.
    pub fn steps(&self, run_id: &str) -> Result<Vec<StepRunRecord>, LocalError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {STEP_COLUMNS} FROM step_runs WHERE run_id = ?1 ORDER BY seq"
            ))
            .map_err(|e| self.err(e))?;
        stmt.query_map(params![run_id], step_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

fn parse_json<T: for<'de> Deserialize<'de> + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn bad_column(i: usize, e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::new(std::io::Error::other(e)),
    )
}

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = r.get(3)?;
    Ok(RunRecord {
        id: r.get(0)?,
        pipeline: r.get(1)?,
        experiment: r.get(2)?,
        status: status.parse().map_err(|e| bad_column(3, e))?,
        params: parse_json(r.get(4)?),
        inputs: parse_json(r.get(5)?),
        properties: parse_json(r.get(6)?),
        git: GitInfo {
            commit: r.get(7)?,
            branch: r.get(8)?,
            dirty: r.get(9)?,
            repository: None,
        },
        started_ms: r.get(10)?,
        ended_ms: r.get(11)?,
        pid: r.get(12)?,
        error: r.get(13)?,
    })
}

fn step_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StepRunRecord> {
    let status: String = r.get(4)?;
    let reused_run: Option<String> = r.get(10)?;
    let reused_node: Option<String> = r.get(11)?;
    let parts: Option<String> = r.get(9)?;
    Ok(StepRunRecord {
        run_id: r.get(0)?,
        node: r.get(1)?,
        pipeline: r.get(2)?,
        component: r.get(3)?,
        status: status.parse().map_err(|e| bad_column(4, e))?,
        started_ms: r.get(5)?,
        ended_ms: r.get(6)?,
        exit_code: r.get(7)?,
        reuse_key: r.get(8)?,
        reuse_parts: parts.and_then(|p| serde_json::from_str(&p).ok()),
        reused_from: reused_run.zip(reused_node),
        reasons: parse_json(r.get(12)?),
        command: r.get(13)?,
        outputs: parse_json(r.get(14)?),
        log_path: r.get::<_, Option<String>>(15)?.map(PathBuf::from),
        error: r.get(16)?,
    })
}

/// Whether a process with this id exists.
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, pid: u32) -> RunRecord {
        RunRecord {
            id: id.into(),
            pipeline: "p".into(),
            experiment: "e".into(),
            status: RunStatus::Running,
            params: BTreeMap::new(),
            inputs: BTreeMap::new(),
            properties: BTreeMap::new(),
            git: GitInfo::default(),
            started_ms: now_ms(),
            ended_ms: None,
            pid,
            error: None,
        }
    }

    #[test]
    fn runs_are_found_by_id_prefix_or_last() {
        let d = tempfile::tempdir().unwrap();
        let mut s = RunStore::open(d.path().join("runs.db")).unwrap();
        let me = std::process::id();
        s.create_run(
            &run("20260101-000000-aaaa", me),
            &[("a".into(), "a".into())],
        )
        .unwrap();
        s.create_run(&run("20260101-000000-aabb", me), &[]).unwrap();
        s.create_run(&run("20260102-000000-cccc", me), &[]).unwrap();
        let w = d.path();
        assert_eq!(
            s.find_run("20260102", w).unwrap().id,
            "20260102-000000-cccc"
        );
        assert!(matches!(
            s.find_run("20260101-000000-aa", w),
            Err(LocalError::AmbiguousRun { .. })
        ));
        assert!(matches!(
            s.find_run("nope", w),
            Err(LocalError::UnknownRun { .. })
        ));
        assert_eq!(
            s.steps("20260101-000000-aaaa").unwrap()[0].status,
            StepStatus::NotStarted
        );
        assert_eq!(s.list_runs(10).unwrap().len(), 3);
        assert!(s.find_run("last", w).is_ok());
    }

    #[test]
    fn runs_of_dead_processes_are_closed() {
        let d = tempfile::tempdir().unwrap();
        let mut s = RunStore::open(d.path().join("runs.db")).unwrap();
        // A pid that cannot exist (above the kernel's maximum).
        s.create_run(&run("dead", 4_194_999), &[("x".into(), "x".into())])
            .unwrap();
        s.create_run(&run("alive", std::process::id()), &[])
            .unwrap();
        assert_eq!(s.close_abandoned_runs().unwrap(), vec!["dead".to_owned()]);
        let dead = s.find_run("dead", d.path()).unwrap();
        assert_eq!(dead.status, RunStatus::Failed);
        assert_eq!(s.steps("dead").unwrap()[0].status, StepStatus::Skipped);
        assert_eq!(
            s.find_run("alive", d.path()).unwrap().status,
            RunStatus::Running
        );
    }

    #[test]
    fn a_full_disk_says_so_and_where() {
        // The seam: the error SQLite gives when a write meets ENOSPC.
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let err = store_error(Path::new("/work/ws/runs.db"), full);
        let text = err.to_string();
        assert!(
            text.starts_with("no space left on device at /work/ws: the run store /work/ws/runs.db"),
            "{text}"
        );
        assert!(text.contains("the run history is intact"), "{text}");
        assert!(!err.is_bad_input());
        // Other failures stay what they are.
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(
            store_error(Path::new("/work/ws/runs.db"), busy),
            LocalError::Store { .. }
        ));
    }

    /// A small tmpfs mounted for one test; unmounted when dropped.
    struct Tmpfs(PathBuf);

    impl Tmpfs {
        fn mount(at: &Path, size: &str) -> Option<Self> {
            std::fs::create_dir_all(at).ok()?;
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(at)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            ok.then(|| Tmpfs(at.to_owned()))
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }

    #[test]
    fn a_store_on_a_really_full_disk_says_so_and_keeps_its_history() {
        let d = tempfile::tempdir().unwrap();
        let mnt = d.path().join("small");
        let Some(_fs) = Tmpfs::mount(&mnt, "512k") else {
            // Mounting needs root (CI runs as root); the seam test above covers the mapping.
            eprintln!("skipped: cannot mount a tmpfs here");
            return;
        };
        let db = mnt.join("runs.db");
        let mut s = RunStore::open(&db).unwrap();
        let me = std::process::id();
        s.create_run(&run("kept", me), &[("a".into(), "a".into())])
            .unwrap();
        // Fill the disk.
        {
            use std::io::Write;
            let mut filler = std::fs::File::create(mnt.join("filler")).unwrap();
            let chunk = vec![0u8; 4096];
            while filler.write_all(&chunk).is_ok() {}
        }
        let steps: Vec<(String, String)> = (0..200)
            .map(|i| (format!("step{i}"), "c".repeat(200)))
            .collect();
        let mut failure = None;
        for i in 0..200 {
            if let Err(e) = s.create_run(&run(&format!("more-{i}"), me), &steps) {
                failure = Some(e);
                break;
            }
        }
        let err = failure.expect("a full disk fails a write");
        let text = err.to_string();
        eprintln!("{text}");
        assert!(matches!(err, LocalError::NoSpace { .. }), "{err:?}");
        assert!(
            text.contains(&format!("no space left on device at {}", mnt.display())),
            "{text}"
        );
        drop(s);
        std::fs::remove_file(mnt.join("filler")).unwrap();
        let s = RunStore::open(&db).unwrap();
        assert!(s.find_run("kept", &mnt).is_ok(), "the history is intact");
    }
}

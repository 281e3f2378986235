//! `runs list|show|logs`: the run history, local or (with `--azure`) the Azure ML workspace's
//! pipeline jobs.

#[cfg(feature = "azure")]
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::CliError;
#[cfg(feature = "azure")]
use super::args::AzureConfigArg;
use super::args::WorkspaceArg;
use super::output::{errln, out, outln};
use super::run::secs;
#[cfg(feature = "azure")]
use crate::azure::{jobs::JobStatus, submit};
use crate::graph::Pipeline;
use crate::local::{self, LocalError, StepStatus, Workspace};

/// `runs`: the run history.
#[derive(Debug, Clone, clap::Args)]
pub struct RunsArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: RunsCommand,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub workspace: WorkspaceArg,
    /// Pipeline jobs of the Azure ML workspace instead of local runs
    /// (`runs list --azure`, `runs show --azure JOB`).
    #[cfg(feature = "azure")]
    #[arg(long, global = true)]
    pub azure: bool,
    #[cfg(feature = "azure")]
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// The `runs` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RunsCommand {
    /// The most recent runs.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// A run's steps with status, duration, reuse and outputs.
    Show {
        /// Run id, a unique prefix of one, or `last`.
        run: String,
    },
    /// A step's log.
    Logs {
        /// Run id, a unique prefix of one, or `last`.
        run: String,
        /// Step name (`train`, or `outer.inner` inside a sub-pipeline).
        step: String,
        /// Only the last N lines.
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
    },
}

/// Runs `runs`.
pub fn runs(pipeline: &Pipeline, args: &RunsArgs) -> Result<ExitCode, CliError> {
    #[cfg(feature = "azure")]
    if args.azure {
        let config = args.config.file.as_deref();
        match &args.command {
            RunsCommand::List { limit } => {
                azure_list(config, Some(pipeline.experiment_name()), *limit)?
            }
            RunsCommand::Show { run } => azure_show(config, run)?,
            RunsCommand::Logs { run, .. } => {
                return Err(CliError::Usage(format!(
                    "the logs of Azure ML jobs are in the studio; `runs show --azure {run}` prints its link"
                )));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Reading the history creates nothing: no workspace folder where none was.
    let ws_dir = args.workspace.path(pipeline);
    let Some(ws) = Workspace::open_existing(&ws_dir) else {
        if let RunsCommand::List { .. } = &args.command {
            outln!("No runs yet in {}.", super::shown(&ws_dir));
            return Ok(ExitCode::SUCCESS);
        }
        return Err(CliError::NoHistory { workspace: ws_dir });
    };
    match &args.command {
        RunsCommand::List { limit } => local_list(&ws, *limit)?,
        RunsCommand::Show { run } => local_show(&ws, run)?,
        RunsCommand::Logs { run, step, tail } => {
            let (path, text) = local::step_log(ws.root(), run, step, *tail)?;
            if path.as_os_str().is_empty() {
                errln!("step `{step}` has no log (it did not run)");
            } else {
                out!("{text}");
                if !text.ends_with('\n') && !text.is_empty() {
                    outln!();
                }
                errln!("({})", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ms_between(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) if e >= start => secs(Duration::from_millis((e - start) as u64)),
        _ => "-".to_owned(),
    }
}

fn local_list(ws: &Workspace, limit: usize) -> Result<(), LocalError> {
    let runs = ws.history()?.list_runs(limit)?;
    if runs.is_empty() {
        outln!("No runs yet in {}.", ws.root().display());
        return Ok(());
    }
    outln!(
        "{:<22} {:<10} {:<24} {:<20} {:>8}  GIT",
        "RUN",
        "STATUS",
        "PIPELINE",
        "STARTED (UTC)",
        "DURATION"
    );
    for r in runs {
        let git = match (&r.git.commit, r.git.dirty) {
            (Some(c), Some(true)) => format!("{} (dirty)", &c[..c.len().min(8)]),
            (Some(c), _) => c[..c.len().min(8)].to_owned(),
            _ => "-".to_owned(),
        };
        outln!(
            "{:<22} {:<10} {:<24} {:<20} {:>8}  {git}",
            r.id,
            r.status.as_str(),
            r.pipeline,
            local::format_utc(r.started_ms),
            ms_between(r.started_ms, r.ended_ms)
        );
    }
    Ok(())
}

/// `4f014f8f8378 on main, dirty`: the commit, branch and state of the tree a run started from.
fn git_line(git: &local::GitInfo) -> Option<String> {
    let commit = git.commit.as_deref()?;
    let mut text = commit[..commit.len().min(12)].to_owned();
    if let Some(b) = &git.branch {
        text.push_str(&format!(" on {b}"));
    }
    match git.dirty {
        Some(true) => text.push_str(", dirty (uncommitted changes)"),
        Some(false) => text.push_str(", clean"),
        None => {}
    }
    Some(text)
}

fn local_show(ws: &Workspace, run: &str) -> Result<(), LocalError> {
    let store = ws.history()?;
    let r = store.find_run(run, ws.root())?;
    outln!("Run        {}", r.id);
    outln!("Pipeline   {} (experiment {})", r.pipeline, r.experiment);
    outln!("Status     {}", r.status);
    outln!(
        "Started    {} UTC, took {}",
        local::format_utc(r.started_ms),
        ms_between(r.started_ms, r.ended_ms)
    );
    if let Some(e) = &r.error {
        outln!("Error      {e}");
    }
    if let Some(git) = git_line(&r.git) {
        outln!("Git        {git}");
    }
    for (k, v) in &r.params {
        outln!("Param      {k} = {v}");
    }
    for (k, v) in &r.inputs {
        outln!("Input      {k} = {v}");
    }
    for (k, v) in &r.properties {
        outln!("Property   {k} = {v}");
    }
    let steps = store.steps(&r.id)?;
    let w = steps.iter().map(|s| s.node.len()).max().unwrap_or(4).max(4);
    outln!();
    outln!("{:<w$}  {:<10} {:>8}  REUSE", "STEP", "STATUS", "DURATION");
    for s in &steps {
        let reuse = match (&s.reused_from, s.status) {
            (Some((run, node)), _) => format!("reused (run {run}, step {node})"),
            (None, StepStatus::Skipped | StepStatus::Canceled) => {
                s.error.clone().unwrap_or_default()
            }
            (None, _) if !s.reasons.is_empty() => format!("not reused: {}", s.reasons.join("; ")),
            _ => String::new(),
        };
        let duration = s.duration().map_or_else(|| "-".to_owned(), secs);
        outln!(
            "{:<w$}  {:<10} {:>8}  {reuse}",
            s.node,
            s.status.as_str(),
            duration
        );
        if s.status == StepStatus::Failed
            && let Some(e) = &s.error
        {
            outln!("{:<w$}    error: {e}", "");
        }
        for (name, out) in &s.outputs {
            outln!("{:<w$}    output {name}: {}", "", out.path.display());
        }
        if let Some(log) = &s.log_path
            && matches!(s.status, StepStatus::Failed | StepStatus::Completed)
        {
            outln!("{:<w$}    log: {}", "", log.display());
        }
    }
    let metrics = store.metrics(&r.id)?;
    if !metrics.is_empty() {
        outln!();
        outln!("METRICS (logged by Rust steps)");
        for line in metric_lines(&metrics) {
            outln!("{line}");
        }
    }
    Ok(())
}

/// One line per step and metric: a single value as it is (the last one logged), a series as
/// its length, last point, minimum and maximum.
fn metric_lines(metrics: &[(String, crate::metrics::Metric)]) -> Vec<String> {
    let mut groups: Vec<((&str, &str), Vec<&crate::metrics::Metric>)> = Vec::new();
    for (node, m) in metrics {
        let key = (node.as_str(), m.name.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(m),
            None => groups.push((key, vec![m])),
        }
    }
    let w = groups.iter().map(|((n, _), _)| n.len()).max().unwrap_or(4);
    groups
        .iter()
        .map(|((node, name), list)| {
            let series: Vec<_> = list.iter().filter(|m| m.step.is_some()).collect();
            let text = match (series.last(), list.last()) {
                (Some(last), _) => {
                    let min = series.iter().map(|m| m.value).fold(f64::INFINITY, f64::min);
                    let max = series
                        .iter()
                        .map(|m| m.value)
                        .fold(f64::NEG_INFINITY, f64::max);
                    format!(
                        "series of {}: last {} at {}, min {min}, max {max}",
                        series.len(),
                        last.value,
                        last.step.unwrap_or_default()
                    )
                }
                (None, Some(last)) => last.value.to_string(),
                (None, None) => String::new(),
            };
            format!("{node:<w$}  {name} = {text}")
        })
        .collect()
}

#[cfg(feature = "azure")]
/// `runs list --azure`: the workspace's pipeline jobs, newest first as the service lists them.
fn azure_list(
    config: Option<&Path>,
    experiment: Option<&str>,
    limit: usize,
) -> Result<(), CliError> {
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(config)?;
        let jobs = ws.jobs().list(Some("Pipeline")).await?;
        let jobs: Vec<_> = jobs
            .into_iter()
            .filter(|j| {
                experiment.is_none_or(|e| j.properties.experiment_name.as_deref() == Some(e))
            })
            .take(limit)
            .collect();
        if jobs.is_empty() {
            errln!(
                "No pipeline jobs in workspace `{}`{}.",
                ws.config().workspace_name,
                experiment
                    .map(|e| format!(" for experiment `{e}`"))
                    .unwrap_or_default()
            );
            return Ok(());
        }
        let width = jobs.iter().map(|j| j.name.len()).max().unwrap_or(4).max(4);
        outln!(
            "{:<width$}  {:<12}  {:<24}  DISPLAY NAME",
            "JOB",
            "STATUS",
            "EXPERIMENT"
        );
        for j in &jobs {
            let p = &j.properties;
            outln!(
                "{:<width$}  {:<12}  {:<24}  {}",
                j.name,
                p.status.map(|s| s.to_string()).unwrap_or_default(),
                p.experiment_name.as_deref().unwrap_or(""),
                p.display_name.as_deref().unwrap_or("")
            );
        }
        Ok(())
    })
}

#[cfg(feature = "azure")]
/// `runs show --azure JOB`: the job's status, link, steps and outputs.
fn azure_show(config: Option<&Path>, name: &str) -> Result<(), CliError> {
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(config)?;
        let job = ws.jobs().get(name).await?;
        let p = &job.properties;
        let status = p.status.unwrap_or(JobStatus::Unknown);
        outln!("Job        {name}");
        outln!("Status     {status}");
        if let Some(e) = &p.experiment_name {
            outln!("Experiment {e}");
        }
        if let Some(d) = &p.display_name {
            outln!("Display    {d}");
        }
        outln!("Studio     {}", submit::studio_url(&ws, &job, name));
        let git: Vec<String> = [
            "azureml.git.commit",
            "azureml.git.branch",
            "azureml.git.dirty",
        ]
        .iter()
        .filter_map(|k| {
            job.properties
                .properties
                .get(*k)
                .map(|v| format!("{}={v}", k.trim_start_matches("azureml.git.")))
        })
        .collect();
        if !git.is_empty() {
            outln!("Git        {}", git.join(" "));
        }
        match ws.jobs().list_children(name).await {
            Ok(steps) if !steps.is_empty() => {
                outln!();
                let width = steps
                    .iter()
                    .map(|s| submit::step_name(s).len())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                outln!("{:<width$}  {:<12}  {:<20}  END", "STEP", "STATUS", "START");
                for s in &steps {
                    outln!(
                        "{:<width$}  {:<12}  {:<20}  {}",
                        submit::step_name(s),
                        s.status.as_deref().unwrap_or(""),
                        s.start_time_utc.as_deref().unwrap_or("-"),
                        s.end_time_utc.as_deref().unwrap_or("-")
                    );
                }
            }
            Ok(_) => {}
            Err(e) => errln!("(step statuses are unavailable: {e})"),
        }
        if status == JobStatus::Completed {
            let outputs = submit::output_locations(&job);
            if !outputs.is_empty() {
                outln!();
                for (output, uri) in outputs {
                    outln!("Output {output}: {uri}");
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_facts_fit_one_line() {
        let mut git = local::GitInfo {
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            branch: Some("main".into()),
            dirty: Some(true),
            repository: None,
        };
        assert_eq!(
            git_line(&git).unwrap(),
            "0123456789ab on main, dirty (uncommitted changes)"
        );
        git.dirty = Some(false);
        git.branch = None;
        assert_eq!(git_line(&git).unwrap(), "0123456789ab, clean");
        assert_eq!(git_line(&local::GitInfo::default()), None);
    }

    #[test]
    fn metrics_show_singles_as_values_and_series_summarised() {
        let m = |node: &str, name: &str, step, value| {
            (
                node.to_owned(),
                crate::metrics::Metric {
                    name: name.into(),
                    step,
                    value,
                },
            )
        };
        let lines = metric_lines(&[
            m("prep", "rows", None, 149.0),
            m("prep", "rows", None, 150.0),
            m("train", "loss", Some(0), 0.9),
            m("train", "loss", Some(1), 0.4),
            m("train", "loss", Some(2), 0.5),
        ]);
        assert_eq!(
            lines,
            vec![
                "prep   rows = 150",
                "train  loss = series of 3: last 0.5 at 2, min 0.4, max 0.9"
            ]
        );
    }
}

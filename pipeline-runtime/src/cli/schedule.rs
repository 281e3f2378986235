//! `schedule create S (--cron EXPR [--time-zone TZ] | --every UNIT [--interval K] [--at HH:MM])`
//! and `schedule list|show|enable|disable|delete S`: the seed's `Schedule`, on Azure ML v2 a
//! schedule whose action creates this pipeline's job ([`crate::azure::schedules`]). `create`
//! registers the steps and their code as `submit` does; the job takes `--param`/`--input` like
//! `submit`. Changing commands take `--dry-run [--out DIR]`.

use std::process::ExitCode;
use std::sync::Arc;

use crate::azure::schedules::Schedules;
use crate::azure::submit::{self, SubmitOptions};
use crate::graph::Pipeline;
use crate::wire::schedule::{Frequency, RecurrenceSchedule, Schedule, Trigger};
use crate::wire::{self, WorkspaceScope};

use super::CliError;
use super::args::{AzureConfigArg, PipelineInputArgs};
use super::azure_workspace::{block_on, workspace};
use super::dry_run::{self, DryRunArgs, PlannedRequest};
use super::endpoint::{cli_error, json};
use super::output::{errln, outln};

/// `schedule`: run the pipeline on a timetable.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

/// The `schedule` commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Create (or update) a schedule that runs this pipeline.
    Create(CreateArgs),
    /// List the workspace's schedules.
    List(Nameless),
    /// Show a schedule.
    Show(Named),
    /// Enable a schedule.
    Enable(Changing),
    /// Disable a schedule (it stops firing until enabled).
    Disable(Changing),
    /// Delete a schedule.
    Delete(Changing),
}

/// The unit of `--every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Every {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks.
    Week,
    /// Months.
    Month,
}

/// `schedule create`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["cron", "every"])))]
pub struct CreateArgs {
    /// The schedule name.
    pub schedule: String,
    /// A five-field cron expression, e.g. `"0 6 * * *"`.
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// The time zone the schedule is read in.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub time_zone: String,
    /// Run every `--interval` of this unit.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub every: Option<Every>,
    /// How many units between two runs.
    #[arg(long, value_name = "K", default_value = "1", requires = "every")]
    pub interval: u32,
    /// The time of day (day, week and month units).
    #[arg(long, value_name = "HH:MM", requires = "every")]
    pub at: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pipeline: PipelineInputArgs,
    /// The experiment the jobs are filed under.
    #[arg(long, value_name = "X")]
    pub experiment: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `schedule list`.
#[derive(Debug, Clone, clap::Args)]
pub struct Nameless {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `schedule show S`.
#[derive(Debug, Clone, clap::Args)]
pub struct Named {
    /// The schedule name.
    pub schedule: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `schedule enable|disable|delete S`.
#[derive(Debug, Clone, clap::Args)]
pub struct Changing {
    /// The schedule name.
    pub schedule: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// Runs `schedule`.
pub fn schedule(pipeline: &Pipeline, args: &ScheduleArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        ScheduleCommand::Create(a) => create(pipeline, a),
        ScheduleCommand::List(a) => list(a),
        ScheduleCommand::Show(a) => show(a),
        ScheduleCommand::Enable(a) => set_enabled(a, true),
        ScheduleCommand::Disable(a) => set_enabled(a, false),
        ScheduleCommand::Delete(a) => delete(a),
    }
}

/// The trigger from the flags, checked before any request.
pub fn trigger(args: &CreateArgs) -> Result<Trigger, CliError> {
    if let Some(expr) = &args.cron {
        if expr.split_whitespace().count() != 5 {
            return Err(CliError::Usage(format!(
                "`--cron {expr}` is not a five-field cron expression (minute hour day month \
                 weekday), e.g. \"0 6 * * *\""
            )));
        }
        return Ok(Trigger::Cron {
            expression: expr.trim().to_owned(),
            time_zone: args.time_zone.clone(),
            start_time: None,
            end_time: None,
        });
    }
    let every = args.every.unwrap_or(Every::Day);
    if args.interval == 0 {
        return Err(CliError::Usage("`--interval` must be at least 1".into()));
    }
    let frequency = match every {
        Every::Minute => Frequency::Minute,
        Every::Hour => Frequency::Hour,
        Every::Day => Frequency::Day,
        Every::Week => Frequency::Week,
        Every::Month => Frequency::Month,
    };
    let schedule = match &args.at {
        None => None,
        Some(at) => {
            let parsed = at
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
                .filter(|(h, m)| *h < 24 && *m < 60);
            let Some((h, m)) = parsed else {
                return Err(CliError::Usage(format!(
                    "`--at {at}` is not a time of day: write HH:MM, e.g. 06:30"
                )));
            };
            if matches!(every, Every::Minute | Every::Hour) {
                return Err(CliError::Usage(
                    "`--at` needs `--every day`, `week` or `month`".into(),
                ));
            }
            Some(RecurrenceSchedule {
                hours: vec![h],
                minutes: vec![m],
                week_days: None,
                month_days: None,
            })
        }
    };
    Ok(Trigger::Recurrence {
        frequency,
        interval: args.interval,
        schedule,
        time_zone: args.time_zone.clone(),
        start_time: None,
        end_time: None,
    })
}

fn path(scope: &WorkspaceScope, name: &str) -> String {
    scope.resource_id(&format!("schedules/{name}"))
}

fn create(pipeline: &Pipeline, args: &CreateArgs) -> Result<ExitCode, CliError> {
    let trigger = trigger(args)?;
    let cwd = super::cwd();
    let params = args.pipeline.param_pairs()?;
    let inputs = args.pipeline.input_pairs()?;
    let values = pipeline.bind(&params, &inputs, &cwd)?;
    pipeline.check_local_inputs(&values)?;
    let name = &args.schedule;
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let bound: Vec<_> = values.iter().cloned().map(Some).collect();
        let mut ctx = super::export::wire_context(
            pipeline,
            &bound,
            scope.clone(),
            "workspaceblobstore",
            false,
        )?;
        ctx.experiment = args.experiment.clone();
        let bodies = wire::rest_bodies(pipeline, &bound, &ctx)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let mut planned = Vec::new();
        for (i, c) in bodies.components.iter().enumerate() {
            planned.push(
                PlannedRequest::arm(
                    "PUT",
                    scope.resource_id(&bodies.component_path(i)),
                    "2024-01-01-preview",
                )
                .with_body(json(&c.body)?, format!("component_{i}.json"))
                .only_if("after the snapshots are found by hash or uploaded, as `submit` does"),
            );
        }
        planned.push(PlannedRequest::arm(
            "GET",
            path(&scope, name),
            &schedules_version(),
        ));
        let body = Schedule::create_job(bodies.job.properties, trigger, Some(name.clone()));
        planned.push(
            PlannedRequest::arm("PUT", path(&scope, name), &schedules_version())
                .with_body(json(&body)?, "schedule.json")
                .only_if("the schedule does not exist with this trigger and job"),
        );
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        // Rust steps: their Linux binary, checked before any request.
        let rust_binary = super::submit::linux_binary_for(pipeline).await?;
        let ws = workspace(args.config.file.as_deref())?;
        let opts = SubmitOptions {
            experiment: args.experiment.clone(),
            properties: crate::local::git_info(&cwd).properties(),
            rust_binary,
            ..SubmitOptions::default()
        };
        let bound: Vec<_> = values.iter().cloned().map(Some).collect();
        let prepared = submit::prepare(
            &ws,
            pipeline,
            &bound,
            &opts,
            &(Arc::new(|_| {}) as submit::SubmitEvents),
        )
        .await?;
        errln!(
            "Creating schedule `{name}` ({}; a long-running operation)…",
            trigger.describe()
        );
        let change = Schedules::new(&ws)
            .create(name, prepared.bodies.job.properties, trigger)
            .await
            .map_err(cli_error)?;
        if change.changed {
            errln!(
                "Schedule `{name}` is set: {}.",
                change.value.properties.trigger.describe()
            );
        } else {
            errln!("Schedule `{name}` already exists as asked; nothing changed.");
        }
        outln!(
            "{}",
            if change.value.enabled() {
                "enabled"
            } else {
                "disabled"
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn line(s: &Schedule) -> String {
    format!(
        "{}\t{}\t{}",
        s.name.as_deref().unwrap_or("?"),
        if s.enabled() { "enabled" } else { "disabled" },
        s.properties.trigger.describe()
    )
}

fn list(args: &Nameless) -> Result<ExitCode, CliError> {
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let all = Schedules::new(&ws).list().await?;
        if all.is_empty() {
            errln!(
                "No schedules in workspace `{}`.",
                ws.config().workspace_name
            );
        }
        for s in all {
            outln!("{}", line(&s));
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn show(args: &Named) -> Result<ExitCode, CliError> {
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let s = Schedules::new(&ws)
            .require(&args.schedule)
            .await
            .map_err(cli_error)?;
        outln!("{}", line(&s));
        Ok(ExitCode::SUCCESS)
    })
}

fn set_enabled(args: &Changing, enabled: bool) -> Result<ExitCode, CliError> {
    let name = &args.schedule;
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let planned = [
            PlannedRequest::arm("GET", path(&scope, name), &schedules_version()),
            PlannedRequest::arm("PUT", path(&scope, name), &schedules_version())
                .with_body(
                    serde_json::json!({"properties": {"trigger": "{as read}", "action": "{as read}", "isEnabled": enabled}}),
                    "schedule.json",
                )
                .only_if(format!("`isEnabled` is not {enabled} (the schedule as read, whole)")),
        ];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        let change = Schedules::new(&ws)
            .set_enabled(name, enabled)
            .await
            .map_err(cli_error)?;
        let now = if change.value.enabled() {
            "enabled"
        } else {
            "disabled"
        };
        if change.changed {
            errln!("Schedule `{name}` is now {now}.");
        } else {
            errln!("Schedule `{name}` is already {now}; nothing changed.");
        }
        outln!("{now}");
        Ok(ExitCode::SUCCESS)
    })
}

fn delete(args: &Changing) -> Result<ExitCode, CliError> {
    let name = &args.schedule;
    if args.dry_run.dry_run {
        let scope = dry_run::scope(&args.config)?;
        let planned = [PlannedRequest::arm(
            "DELETE",
            path(&scope, name),
            &schedules_version(),
        )];
        return dry_run::show(&planned, args.dry_run.out.as_deref());
    }
    block_on(async {
        let ws = workspace(args.config.file.as_deref())?;
        if Schedules::new(&ws).delete(name).await? {
            errln!("Deleted schedule `{name}`.");
        } else {
            errln!("There is no schedule `{name}`; nothing to delete.");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The schedules api-version `--dry-run` shows (`AZUREML_API_VERSION_SCHEDULES` or the default).
fn schedules_version() -> String {
    crate::azure::ApiVersions::from_env().schedules
}

//! `snapshot`: which files a step's snapshot holds, what was left out, and its content hash.

use std::path::PathBuf;
use std::process::ExitCode;

use super::output::outln;
use super::{CliError, cwd};
use crate::graph::Pipeline;
use crate::local;
use crate::snapshot::Snapshot;

/// `snapshot`: what a step's snapshot holds.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotArgs {
    /// The step whose `source_dir` to show.
    #[arg(long, conflicts_with = "path")]
    pub step: Option<String>,
    /// A folder to show instead.
    pub path: Option<PathBuf>,
    /// List at most this many files and exclusions (0 = all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Runs `snapshot`.
pub fn snapshot(pipeline: &Pipeline, args: &SnapshotArgs) -> Result<ExitCode, CliError> {
    let roots: Vec<(String, PathBuf)> = match (&args.step, &args.path) {
        (Some(step), _) => vec![(
            format!("step `{step}`"),
            local::step_source(pipeline, step)?,
        )],
        (None, Some(path)) => vec![(path.display().to_string(), cwd().join(path))],
        (None, None) => {
            let mut seen = Vec::new();
            for (name, def) in local::steps_of(pipeline) {
                if let Some(p) = def.source_path()
                    && !seen.iter().any(|(_, q)| q == &p)
                {
                    seen.push((format!("step `{name}`"), p));
                }
            }
            seen
        }
    };
    let mut code = ExitCode::SUCCESS;
    let detailed = roots.len() == 1;
    for (label, root) in roots {
        let snap = match Snapshot::scan(&root) {
            Ok(s) => s,
            Err(source) => {
                let e = CliError::Snapshot {
                    what: label,
                    source,
                };
                super::output::print_error(&e);
                code = e.exit_code();
                continue;
            }
        };
        let hash = match snap.content_hash_cached() {
            Ok(h) => h,
            Err(source) => {
                let e = CliError::Snapshot {
                    what: label,
                    source,
                };
                super::output::print_error(&e);
                code = e.exit_code();
                continue;
            }
        };
        outln!("{label}: {}", root.display());
        match snap.ignore_file() {
            Some(f) => outln!("  ignore file   {}", f.display()),
            None => outln!("  ignore file   none (.amlignore or .gitignore)"),
        }
        outln!(
            "  files         {} ({} bytes)",
            snap.files().len(),
            snap.total_size()
        );
        outln!("  excluded      {}", snap.excluded().len());
        outln!(
            "  content hash  {hash} (version {})",
            crate::snapshot::HASH_VERSION
        );
        if detailed {
            let limit = if args.limit == 0 {
                usize::MAX
            } else {
                args.limit
            };
            outln!("  included:");
            for f in snap.files().iter().take(limit) {
                outln!("    {:>10}  {}", f.size, f.relative);
            }
            if snap.files().len() > limit {
                outln!(
                    "    … {} more (--limit 0 shows all)",
                    snap.files().len() - limit
                );
            }
            if !snap.excluded().is_empty() {
                outln!("  excluded:");
                for x in snap.excluded().iter().take(limit) {
                    let source = x
                        .source
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    outln!("    {}  by `{}` ({source}:{})", x.relative, x.rule, x.line);
                }
                if snap.excluded().len() > limit {
                    outln!("    … {} more", snap.excluded().len() - limit);
                }
            }
        }
    }
    Ok(code)
}

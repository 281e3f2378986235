//! `datastores`: the Azure ML workspace's datastores, the default marked.

use std::process::ExitCode;

use super::CliError;
use super::args::AzureConfigArg;
use super::output::outln;

/// `datastores`: the Azure ML workspace's datastores.
#[derive(Debug, Clone, clap::Args)]
pub struct DatastoresArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub config: AzureConfigArg,
}

/// `datastores`: the workspace's datastores, the default marked.
pub fn datastores(args: &DatastoresArgs) -> Result<ExitCode, CliError> {
    super::azure_workspace::block_on(async {
        let ws = super::azure_workspace::workspace(args.config.file.as_deref())?;
        let stores = ws.datastores().list().await?;
        let width = stores
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        outln!("{:<width$}  {:<18}  LOCATION", "NAME", "TYPE");
        for d in &stores {
            let p = &d.properties;
            let location = d
                .blob_container_url()
                .unwrap_or_else(|| p.account_name.clone().unwrap_or_else(|| "-".to_owned()));
            outln!(
                "{:<width$}  {:<18}  {location}{}",
                d.name,
                p.datastore_type,
                if p.is_default { "  (default)" } else { "" }
            );
        }
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

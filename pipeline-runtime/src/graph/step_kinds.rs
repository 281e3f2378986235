//! What the copy and Spark step forms declare beyond a command step: Azure ML's `data_transfer`
//! node with the `copy_data` task (the seed's `DataTransferStep`) and its `spark` node (the
//! successor of the seed's `DatabricksStep`).

/// How a copy step treats files that already exist at its destination (Azure ML's
/// `data_copy_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyMode {
    /// Files of the same name are replaced (`merge_with_overwrite`).
    MergeWithOverwrite,
    /// The copy fails when a file of the same name exists (`fail_if_conflict`).
    FailIfConflict,
}

impl CopyMode {
    /// The name users write and the wire carries (`merge_with_overwrite`, `fail_if_conflict`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CopyMode::MergeWithOverwrite => "merge_with_overwrite",
            CopyMode::FailIfConflict => "fail_if_conflict",
        }
    }
}

/// A copy step (`#[step(copy, compute = "adf", copy_mode = "…")]`): one data input copied to
/// one output of the same kind, on Azure ML by a Data Factory compute (`data_transfer` node,
/// task `copy_data`, experimental in Azure ML), locally by a verified copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyStep {
    /// `data_copy_mode`; `None` leaves it to Azure ML (which merges with overwrite).
    pub mode: Option<CopyMode>,
}

/// A Spark step (`#[step(spark, entry = "main.py", …)]`): Azure ML's `spark` node, on serverless
/// Spark (`instance_type` and `runtime_version`) or an attached Synapse Spark pool
/// (`compute`), locally through `spark-submit`.
///
/// The step's [`command`](super::StepDef::command) holds the entry's arguments (the node's
/// `args`, with `${{inputs.x}}` / `${{outputs.y}}`), its [`script`](super::StepDef::script) the
/// entry file and its [`source_dir`](super::StepDef::source_dir) the code folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparkStep {
    /// Python files put on the `PYTHONPATH` (`py_files`, `--py-files`), relative to the code
    /// folder.
    pub py_files: &'static [&'static str],
    /// Other Spark settings (`conf(...)`), as written.
    pub conf: &'static [(&'static str, &'static str)],
    /// `spark.driver.cores`.
    pub driver_cores: u32,
    /// `spark.driver.memory` (`2g`).
    pub driver_memory: &'static str,
    /// `spark.executor.cores`.
    pub executor_cores: u32,
    /// `spark.executor.memory` (`2g`).
    pub executor_memory: &'static str,
    /// `spark.executor.instances`.
    pub executor_instances: u32,
    /// The serverless Spark runtime (`resources.runtime_version`, e.g. `3.4`); with
    /// [`StepDef::instance_type`](super::StepDef::instance_type), the step runs on serverless
    /// Spark.
    pub runtime_version: Option<&'static str>,
}

impl SparkStep {
    /// Every Spark setting: the five resource settings first (as Microsoft's SDK writes them),
    /// then `conf(...)` in declaration order.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("spark.driver.cores", self.driver_cores.to_string()),
            ("spark.driver.memory", self.driver_memory.to_owned()),
            ("spark.executor.cores", self.executor_cores.to_string()),
            ("spark.executor.memory", self.executor_memory.to_owned()),
            (
                "spark.executor.instances",
                self.executor_instances.to_string(),
            ),
        ];
        out.extend(self.conf.iter().map(|(k, v)| (*k, (*v).to_owned())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_settings_put_resources_first_then_conf() {
        let s = SparkStep {
            py_files: &[],
            conf: &[("spark.sql.shuffle.partitions", "8")],
            driver_cores: 1,
            driver_memory: "2g",
            executor_cores: 2,
            executor_memory: "4g",
            executor_instances: 3,
            runtime_version: None,
        };
        let keys: Vec<String> = s
            .settings()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            keys,
            [
                "spark.driver.cores=1",
                "spark.driver.memory=2g",
                "spark.executor.cores=2",
                "spark.executor.memory=4g",
                "spark.executor.instances=3",
                "spark.sql.shuffle.partitions=8"
            ]
        );
        assert_eq!(CopyMode::FailIfConflict.as_str(), "fail_if_conflict");
    }
}

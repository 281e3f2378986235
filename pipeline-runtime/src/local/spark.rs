//! A Spark step run locally, through Apache Spark's `spark-submit` when it is on PATH: the
//! entry file with `--py-files`, every `--conf` and the step's arguments, in the step's working
//! copy of its code folder. Without `spark-submit` the step fails and says how to get it; it is
//! never skipped.

use std::sync::mpsc::Sender;

use crate::graph::{SparkStep, StepDef};

use super::process::{Job, JobResult, Msg, execute as run_command};

/// The program a Spark step runs locally.
pub const SPARK_SUBMIT: &str = "spark-submit";

/// `spark-submit --py-files A,B --conf K=V … ENTRY ARGS`, with the step's placeholders left for
/// the executor to fill.
pub(super) fn template(def: &StepDef, spark: &SparkStep) -> String {
    let quote = |s: &str| {
        shlex::try_quote(s)
            .map(|q| q.into_owned())
            .unwrap_or_else(|_| s.to_owned())
    };
    let mut line = SPARK_SUBMIT.to_owned();
    if !spark.py_files.is_empty() {
        line.push_str(" --py-files ");
        line.push_str(&quote(&spark.py_files.join(",")));
    }
    for (k, v) in spark.settings() {
        line.push_str(" --conf ");
        line.push_str(&quote(&format!("{k}={v}")));
    }
    line.push(' ');
    line.push_str(&quote(def.script.unwrap_or_default()));
    if !def.command.is_empty() {
        line.push(' ');
        line.push_str(def.command);
    }
    line
}

/// Runs a Spark step through `spark-submit`, or fails it when `spark-submit` is not on PATH.
pub(super) fn execute(job: &Job, tx: &Sender<Msg>) -> JobResult {
    if !on_path(&job.path_env) {
        return JobResult::Failed {
            reason: missing_message(job.def.name),
            exit_code: None,
            log_tail: Vec::new(),
            canceled: false,
        };
    }
    run_command(job, tx)
}

/// What a user reads when `spark-submit` is missing.
pub(crate) fn missing_message(step: &str) -> String {
    format!(
        "`{SPARK_SUBMIT}` is not on PATH: the Spark step `{step}` runs locally through Apache Spark's `{SPARK_SUBMIT}`; install Spark (`pip install pyspark` provides `{SPARK_SUBMIT}`, or unpack a release from https://spark.apache.org/downloads.html and add its `bin` folder to PATH), or submit the pipeline to run it on Azure ML's Spark"
    )
}

fn on_path(path_env: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_env).any(|d| {
        std::fs::metadata(d.join(SPARK_SUBMIT))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::StepKind;

    #[test]
    fn the_command_line_has_py_files_every_conf_the_entry_and_args() {
        static SPARK: SparkStep = SparkStep {
            py_files: &["utils.py", "more.py"],
            conf: &[("spark.app.name", "my app")],
            driver_cores: 1,
            driver_memory: "2g",
            executor_cores: 2,
            executor_memory: "2g",
            executor_instances: 2,
            runtime_version: Some("3.4"),
        };
        let def = crate::graph::StepDef {
            name: "wordcount",
            display_name: None,
            description: None,
            kind: StepKind::Spark(SPARK),
            command: "--in ${{inputs.data}}",
            script: Some("main.py"),
            source_dir: None,
            manifest_dir: ".",
            compute: None,
            environment: None,
            reuse: true,
            instance_count: None,
            instance_type: Some("standard_e4s_v3"),
            shm_size: None,
            docker_args: None,
            timeout: None,
            environment_variables: &[],
            inputs: &[],
            outputs: &[],
        };
        assert_eq!(
            template(&def, &SPARK),
            "spark-submit --py-files 'utils.py,more.py' --conf 'spark.driver.cores=1' \
             --conf 'spark.driver.memory=2g' --conf 'spark.executor.cores=2' \
             --conf 'spark.executor.memory=2g' --conf 'spark.executor.instances=2' \
             --conf 'spark.app.name=my app' main.py --in ${{inputs.data}}"
        );
        assert!(missing_message("wordcount").contains("`spark-submit` is not on PATH"));
        assert!(!on_path(std::ffi::OsStr::new("/nonexistent")));
    }
}

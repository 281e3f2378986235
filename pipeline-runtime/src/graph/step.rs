//! Static descriptions of steps and pipelines, written by the macros.

use super::handles::DefaultValue;
use super::kinds::{AssetType, Literal, PortType};

/// How a step input is delivered to the step (the seed's `as_download()` / `as_mount()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputMode {
    /// A private copy of the data (`download`).
    Download,
    /// A read-only path (`ro_mount`).
    ReadOnlyMount,
    /// The URI itself, for the step to read (`direct`).
    Direct,
}

impl InputMode {
    /// The name users write (`download`, `ro_mount`, `direct`).
    pub const fn as_str(self) -> &'static str {
        match self {
            InputMode::Download => "download",
            InputMode::ReadOnlyMount => "ro_mount",
            InputMode::Direct => "direct",
        }
    }

    /// The REST enum value (`Download`, `ReadOnlyMount`, `Direct`).
    pub const fn wire(self) -> &'static str {
        match self {
            InputMode::Download => "Download",
            InputMode::ReadOnlyMount => "ReadOnlyMount",
            InputMode::Direct => "Direct",
        }
    }
}

/// How a step output is written back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputMode {
    /// Written through a read-write mount (`rw_mount`).
    ReadWriteMount,
    /// Written locally and uploaded when the step ends (`upload`).
    Upload,
}

impl OutputMode {
    /// The name users write (`rw_mount`, `upload`).
    pub const fn as_str(self) -> &'static str {
        match self {
            OutputMode::ReadWriteMount => "rw_mount",
            OutputMode::Upload => "upload",
        }
    }

    /// The REST enum value (`ReadWriteMount`, `Upload`).
    pub const fn wire(self) -> &'static str {
        match self {
            OutputMode::ReadWriteMount => "ReadWriteMount",
            OutputMode::Upload => "Upload",
        }
    }
}

/// A bound of a numeric parameter (`#[min(1)]`, `#[max(0.5)]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A bound of a `Param<i64>`.
    Integer(i64),
    /// A bound of a `Param<f64>`.
    Number(f64),
}

impl Bound {
    /// The bound as Azure ML's component spec carries it: a string (`"10"`, `"0.5"`), the way
    /// Microsoft's SDK writes it.
    pub fn to_wire(self) -> String {
        self.literal().to_wire()
    }

    /// The bound as a literal of its parameter type.
    pub fn literal(self) -> Literal {
        match self {
            Bound::Integer(v) => Literal::Integer(v),
            Bound::Number(v) => Literal::Number(v),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Bound::Integer(v) => v as f64,
            Bound::Number(v) => v,
        }
    }
}

/// What an input accepts beyond its type: whether it may be left unbound, the range of a
/// number, the allowed values of a string (Azure ML's `optional`, `min`, `max` and `enum`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InputRules {
    /// The input may be left unbound (`Option<...>` on a step port).
    pub optional: bool,
    /// The smallest value of a number (`#[min(...)]`).
    pub min: Option<Bound>,
    /// The largest value of a number (`#[max(...)]`).
    pub max: Option<Bound>,
    /// The values a string may take (`#[allowed("a", "b")]`); empty = any.
    pub allowed: &'static [&'static str],
}

impl InputRules {
    /// No rules: a required input taking any value of its type.
    pub const NONE: InputRules = InputRules {
        optional: false,
        min: None,
        max: None,
        allowed: &[],
    };

    /// Checks a value against the range and the allowed values; the error says what is
    /// accepted (`must be between 1 and 10`, `must be one of `fast`, `slow``).
    pub fn check(&self, value: &Literal) -> Result<(), String> {
        let number = match value {
            Literal::Integer(v) => Some(*v as f64),
            Literal::Number(v) => Some(*v),
            _ => None,
        };
        if let Some(v) = number {
            let low = self.min.is_some_and(|m| v < m.as_f64());
            let high = self.max.is_some_and(|m| v > m.as_f64());
            if low || high {
                return Err(format!("`{value}` is out of range; {}", self.range_text()));
            }
        }
        if let Literal::String(s) = value
            && !self.allowed.is_empty()
            && !self.allowed.contains(&s.as_str())
        {
            let list = self
                .allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!("`{s}` is not allowed; it must be one of {list}"));
        }
        Ok(())
    }

    fn range_text(&self) -> String {
        let show = |b: Bound| b.literal().to_string();
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("it must be between {} and {}", show(a), show(b)),
            (Some(a), None) => format!("it must be at least {}", show(a)),
            (None, Some(b)) => format!("it must be at most {}", show(b)),
            (None, None) => String::new(),
        }
    }
}

/// One input port of a step.
#[derive(Debug)]
pub struct InputDef {
    /// Port name (the fn parameter's name).
    pub name: &'static str,
    /// Port type.
    pub ty: PortType,
    /// Delivery mode (`#[mode(...)]`); `None` = Azure ML's default.
    pub mode: Option<InputMode>,
    /// Optional, range, allowed values.
    pub rules: InputRules,
}

/// One output port of a step.
#[derive(Debug)]
pub struct OutputDef {
    /// Port name.
    pub name: &'static str,
    /// Asset type.
    pub ty: AssetType,
    /// Write-back mode; `None` = Azure ML's default.
    pub mode: Option<OutputMode>,
}

/// A pipeline output registered as a data asset when the job writes it
/// (`outputs(model(name = "iris-model", version = "3", path = "azureml://…"))`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputAsset {
    /// The data asset name the output is registered under.
    pub name: Option<&'static str>,
    /// Its version (the YAML's `version`).
    pub version: Option<&'static str>,
    /// Where the output is written: an `azureml://datastores/NAME/paths/PATH` URI.
    pub path: Option<&'static str>,
}

/// What a step runs. A bodiless `#[step]` fn is a [`StepKind::Command`]; other kinds are
/// declared by the macro's other forms.
#[derive(Debug)]
pub enum StepKind {
    /// A command line (`command`), run in the step's snapshot folder: Azure ML's `command` node.
    Command,
    /// A copy of one data input to one output (`#[step(copy, …)]`): Azure ML's `data_transfer`
    /// node with the `copy_data` task.
    Copy(super::step_kinds::CopyStep),
    /// A Spark application (`#[step(spark, …)]`): Azure ML's `spark` node.
    Spark(super::step_kinds::SparkStep),
    /// A Rust step: the body of a `#[step]` fn, run by the pipeline binary's hidden entry point
    /// (`BIN __step NAME …`). Its [`StepDef::command`] holds the entry point's arguments, without
    /// the binary; on Azure ML it is a `command` node whose code is a Linux build of the binary.
    Rust(RustStep),
}

/// What a Rust step runs and what its reuse identity is made of.
#[derive(Debug)]
pub struct RustStep {
    /// Calls the body with the ports read from the arguments; `Err` is the failure's text.
    pub run: fn(&crate::rust_step::RustStepArgs) -> Result<(), String>,
    /// A hash of the tokens of the fn's signature and body, computed by the macro (comments
    /// and formatting are not tokens, so they do not count).
    pub body_hash: &'static str,
    /// `#[step(version = "...")]`: bumped by hand when something the body calls changed.
    pub version: Option<&'static str>,
    /// The declaring crate's name (`CARGO_PKG_NAME`).
    pub crate_name: &'static str,
    /// The declaring crate's version (`CARGO_PKG_VERSION`).
    pub crate_version: &'static str,
}

/// A step, as declared by `#[step(...)]`.
#[derive(Debug)]
pub struct StepDef {
    /// Component name (the fn name, or `name = "..."`).
    pub name: &'static str,
    /// Display name.
    pub display_name: Option<&'static str>,
    /// Description (`description = "..."`, or the fn's doc comment).
    pub description: Option<&'static str>,
    /// What the step runs.
    pub kind: StepKind,
    /// The command line, with `${{inputs.x}}` / `${{outputs.y}}` placeholders.
    pub command: &'static str,
    /// The script the command runs, if declared with `script = "..."`.
    pub script: Option<&'static str>,
    /// The snapshot folder, relative to [`manifest_dir`](Self::manifest_dir).
    pub source_dir: Option<&'static str>,
    /// The directory of the crate that declared the step (`CARGO_MANIFEST_DIR`).
    pub manifest_dir: &'static str,
    /// Compute target name.
    pub compute: Option<&'static str>,
    /// Environment: `azureml:NAME@latest`, `azureml:NAME:VERSION`, an `azureml://registries/…`
    /// id, or a Docker image.
    pub environment: Option<&'static str>,
    /// Whether Azure ML may reuse an earlier run's outputs (the seed's `allow_reuse`).
    pub reuse: bool,
    /// Number of nodes to run on.
    pub instance_count: Option<u32>,
    /// VM size or Kubernetes instance type to run on (`resources.instance_type`).
    pub instance_type: Option<&'static str>,
    /// Size of the container's `/dev/shm` (`resources.shm_size`, e.g. `2g`).
    pub shm_size: Option<&'static str>,
    /// Extra `docker run` arguments (`resources.docker_args`).
    pub docker_args: Option<&'static str>,
    /// Seconds after which the step is stopped and fails (`limits.timeout`).
    pub timeout: Option<u64>,
    /// Environment variables set for the command.
    pub environment_variables: &'static [(&'static str, &'static str)],
    /// Input ports, in declaration order.
    pub inputs: &'static [InputDef],
    /// Output ports, in declaration order.
    pub outputs: &'static [OutputDef],
}

impl StepDef {
    /// The snapshot folder as an absolute path, if the step has one.
    pub fn source_path(&self) -> Option<std::path::PathBuf> {
        self.source_dir
            .map(|dir| std::path::Path::new(self.manifest_dir).join(dir))
    }
}

/// One input of a `#[pipeline]` fn.
#[derive(Debug)]
pub struct PipelineInputDef {
    /// Input name (the fn parameter's name).
    pub name: &'static str,
    /// Input type.
    pub ty: PortType,
    /// Delivery mode for data inputs.
    pub mode: Option<InputMode>,
    /// The `#[default(...)]` value.
    pub default: Option<fn() -> DefaultValue>,
    /// Range and allowed values of a parameter.
    pub rules: InputRules,
}

/// A pipeline, as declared by `#[pipeline(...)]`.
#[derive(Debug)]
pub struct PipelineDef {
    /// Pipeline name (the fn name, or `name = "..."`).
    pub name: &'static str,
    /// Display name.
    pub display_name: Option<&'static str>,
    /// Description (`description = "..."`, or the fn's doc comment).
    pub description: Option<&'static str>,
    /// Experiment the runs are filed under.
    pub experiment: Option<&'static str>,
    /// Compute for steps that name none.
    pub default_compute: Option<&'static str>,
    /// Datastore for outputs.
    pub default_datastore: Option<&'static str>,
    /// Whether independent branches keep running after a step fails.
    pub continue_on_step_failure: bool,
    /// Tags.
    pub tags: &'static [(&'static str, &'static str)],
    /// Job properties (`properties(key = "value")`).
    pub properties: &'static [(&'static str, &'static str)],
    /// The environment of steps that name none.
    pub default_environment: Option<&'static str>,
    /// The directory of the crate that declared the pipeline.
    pub manifest_dir: &'static str,
    /// Inputs, in declaration order.
    pub inputs: &'static [PipelineInputDef],
    /// Output names, in order of the returned tuple.
    pub outputs: &'static [&'static str],
    /// Per output (same order, or empty): the data asset it is registered as.
    pub output_assets: &'static [OutputAsset],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_check_ranges_and_allowed_values() {
        let range = InputRules {
            min: Some(Bound::Integer(1)),
            max: Some(Bound::Integer(10)),
            ..InputRules::NONE
        };
        assert_eq!(range.check(&Literal::Integer(1)), Ok(()));
        assert_eq!(range.check(&Literal::Integer(10)), Ok(()));
        assert_eq!(
            range.check(&Literal::Integer(11)).unwrap_err(),
            "`11` is out of range; it must be between 1 and 10"
        );
        let floor = InputRules {
            min: Some(Bound::Number(0.5)),
            ..InputRules::NONE
        };
        assert_eq!(
            floor.check(&Literal::Number(0.25)).unwrap_err(),
            "`0.25` is out of range; it must be at least 0.5"
        );
        let allowed = InputRules {
            allowed: &["fast", "slow"],
            ..InputRules::NONE
        };
        assert_eq!(allowed.check(&Literal::String("slow".into())), Ok(()));
        assert_eq!(
            allowed
                .check(&Literal::String("medium".into()))
                .unwrap_err(),
            "`medium` is not allowed; it must be one of `fast`, `slow`"
        );
        assert_eq!(InputRules::NONE.check(&Literal::Integer(-5)), Ok(()));
        assert_eq!(Bound::Number(1.0).to_wire(), "1.0");
        assert_eq!(Bound::Integer(3).to_wire(), "3");
    }
}

//! Static descriptions of steps and pipelines, written by the macros.

use super::handles::DefaultValue;
use super::kinds::{AssetType, PortType};

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

/// One input port of a step.
#[derive(Debug)]
pub struct InputDef {
    /// Port name (the fn parameter's name).
    pub name: &'static str,
    /// Port type.
    pub ty: PortType,
    /// Delivery mode (`#[mode(...)]`); `None` = Azure ML's default.
    pub mode: Option<InputMode>,
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

/// A command step, as declared by `#[step(...)]` on a bodiless fn.
#[derive(Debug)]
pub struct StepDef {
    /// Component name (the fn name, or `name = "..."`).
    pub name: &'static str,
    /// Display name.
    pub display_name: Option<&'static str>,
    /// Description (`description = "..."`, or the fn's doc comment).
    pub description: Option<&'static str>,
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
    /// The directory of the crate that declared the pipeline.
    pub manifest_dir: &'static str,
    /// Inputs, in declaration order.
    pub inputs: &'static [PipelineInputDef],
    /// Output names, in order of the returned tuple.
    pub outputs: &'static [&'static str],
}

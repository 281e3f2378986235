//! How a Rust step looks on the wire: a `command` component whose code asset is a folder
//! holding a Linux build of the pipeline binary, and whose command runs the binary's hidden
//! entry point with Azure ML's placeholders:
//!
//! ```text
//! chmod +x ./azureml-pipeline 2>/dev/null; ./azureml-pipeline __step train --input prepped_data=${{inputs.prepped_data}} --output training_results=${{outputs.training_results}}
//! ```
//!
//! The folder is one for all the Rust steps of a pipeline. In the lowering it is the relative
//! path [`RUST_BINARY_DIR`]: submission stages the binary into a folder, uploads it, and maps
//! this path to the code asset's id in [`WireContext::code`](super::WireContext::code); an
//! export without a binary writes this path (YAML) and a placeholder code id (JSON), so golden
//! files do not depend on a build. The binary is named [`RUST_BINARY_FILE`] in the folder,
//! whatever its name on the build machine. `chmod` comes first because a code asset's files
//! are stored as blobs, which keep no permission bits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::graph::{StepDef, StepKind};

/// The code folder of Rust steps in the lowering: the key submission maps to the uploaded
/// binary's code asset, and the folder an exported YAML names (`./rust-binary`, where the
/// Linux binary is to be put as [`RUST_BINARY_FILE`] before `az ml job create`).
pub const RUST_BINARY_DIR: &str = "rust-binary";

/// The file name of the pipeline binary inside the Rust steps' code folder.
pub const RUST_BINARY_FILE: &str = "azureml-pipeline";

/// The code asset name an export writes for the Rust steps' folder (no binary was built):
/// `…/codes/rust-binary-placeholder/versions/1`.
pub const RUST_BINARY_PLACEHOLDER: &str = "rust-binary-placeholder";

/// The code folder of a Rust step in the lowering (`None` for other steps).
pub fn code_dir(step: &StepDef) -> Option<PathBuf> {
    matches!(step.kind, StepKind::Rust(_)).then(|| PathBuf::from(RUST_BINARY_DIR))
}

/// The command line of a Rust step on Azure ML; other steps' own command.
pub(crate) fn command(step: &'static StepDef) -> &'static str {
    if !matches!(step.kind, StepKind::Rust(_)) {
        return step.command;
    }
    // One string per step definition (a `static` each), kept for the life of the process, so
    // the lowering can borrow it like any command.
    static LINES: OnceLock<Mutex<HashMap<usize, &'static str>>> = OnceLock::new();
    let key = step as *const StepDef as usize;
    let mut lines = LINES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    lines.entry(key).or_insert_with(|| {
        Box::leak(
            format!(
                "chmod +x ./{RUST_BINARY_FILE} 2>/dev/null; ./{RUST_BINARY_FILE} {}",
                step.command
            )
            .into_boxed_str(),
        )
    })
}

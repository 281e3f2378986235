//! A copy step run locally: the input copied to the output folder, then verified: the copy's
//! content hash must equal the source's, or the step fails. (Azure ML's Data Factory copy has
//! `data_copy_mode`; locally each run writes a fresh output folder, so there is never anything
//! to merge with or conflict with, and the mode changes nothing.)

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::graph::StepDef;

use super::deliver::copy_tree;
use super::hash::data_hash;
use super::mount;
use super::process::{Job, JobResult, discard_outputs, prepare, seal};
use super::workspace::remove_tree;

/// `${{inputs.SOURCE}} ${{outputs.DESTINATION}}`: the executor fills in the two paths.
pub(super) fn template(def: &StepDef) -> String {
    let input = def.inputs.first().map_or("", |i| i.name);
    let output = def.outputs.first().map_or("", |o| o.name);
    format!("${{{{inputs.{input}}}}} ${{{{outputs.{output}}}}}")
}

/// What a verified copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Files copied.
    pub files: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// The content hash both sides have.
    pub hash: String,
}

/// Copies `source` (a file or folder) into the folder `dest` (a file keeps its name) and
/// checks that the copy has the source's content hash.
pub(crate) fn verified_copy(source: &Path, dest: &Path) -> Result<Copied, String> {
    let target = copy_target(source, dest);
    copy_tree(source, &target).map_err(|e| e.to_string())?;
    verify(source, &target)
}

fn copy_target(source: &Path, dest: &Path) -> PathBuf {
    match source.file_name() {
        Some(name) if source.is_file() => dest.join(name),
        _ => dest.to_path_buf(),
    }
}

/// Compares the content hashes of `source` and its copy `target`.
pub(crate) fn verify(source: &Path, target: &Path) -> Result<Copied, String> {
    let want = data_hash(source).map_err(|e| e.to_string())?;
    let got = data_hash(target).map_err(|e| e.to_string())?;
    if want != got {
        return Err(format!(
            "the copy of {} does not match its source: content hash {got} instead of {want}; the source changed while it was copied, or the disk is failing",
            source.display()
        ));
    }
    let (mut files, mut bytes) = (0, 0);
    for entry in walkdir::WalkDir::new(target)
        .follow_links(true)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            files += 1;
            bytes += entry.metadata().map_or(0, |m| m.len());
        }
    }
    Ok(Copied {
        files,
        bytes,
        hash: want,
    })
}

/// Runs a copy step: prepares its folders as for any step, copies, verifies, seals.
pub(super) fn execute(job: &Job) -> JobResult {
    let result = run(job);
    if !job.views.is_empty() {
        mount::release(&job.step_dir.join("inputs"));
    }
    if matches!(result, JobResult::Sealed(_)) {
        let _ = remove_tree(&job.step_dir);
    }
    result
}

fn run(job: &Job) -> JobResult {
    let fail = |reason: String| JobResult::Failed {
        reason,
        exit_code: None,
        log_tail: Vec::new(),
        canceled: false,
    };
    if job.cancel.is_canceled() {
        return JobResult::Failed {
            reason: "canceled before it started".into(),
            exit_code: None,
            log_tail: Vec::new(),
            canceled: true,
        };
    }
    if let Err(e) = prepare(job) {
        return fail(e.to_string());
    }
    let paths = shlex::split(&job.command).unwrap_or_default();
    let [source, dest] = paths.as_slice() else {
        return fail(format!(
            "a copy step needs one input and one output; it was given `{}`",
            job.command
        ));
    };
    let (source, dest) = (Path::new(source), Path::new(dest));
    let line = match verified_copy(source, dest) {
        Ok(c) => format!(
            "copied {} file(s), {} bytes, from {} to {}; content hash {} verified\n",
            c.files,
            c.bytes,
            source.display(),
            dest.display(),
            c.hash
        ),
        Err(reason) => {
            discard_outputs(job);
            let _ = std::fs::write(&job.log, format!("{reason}\n"));
            return fail(reason);
        }
    };
    if let Ok(mut f) = std::fs::File::create(&job.log) {
        let _ = f.write_all(line.as_bytes());
    }
    match seal(job) {
        Ok(outputs) => JobResult::Sealed(outputs),
        Err(reason) => {
            discard_outputs(job);
            fail(reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_copied_whole_and_verified() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("a.csv"), "1,2\n").unwrap();
        std::fs::write(src.join("sub/b.csv"), "3,4,5\n").unwrap();
        let dst = tmp.path().join("dst");
        std::fs::create_dir_all(&dst).unwrap();
        let c = verified_copy(&src, &dst).unwrap();
        assert_eq!((c.files, c.bytes), (2, 10));
        assert_eq!(
            std::fs::read_to_string(dst.join("sub/b.csv")).unwrap(),
            "3,4,5\n"
        );
        assert_eq!(c.hash, data_hash(&src).unwrap());
    }

    #[test]
    fn a_file_keeps_its_name_in_the_output_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("iris.csv");
        std::fs::write(&src, "a,b\n").unwrap();
        let dst = tmp.path().join("out");
        std::fs::create_dir_all(&dst).unwrap();
        verified_copy(&src, &dst).unwrap();
        assert_eq!(
            std::fs::read_to_string(dst.join("iris.csv")).unwrap(),
            "a,b\n"
        );
    }

    #[test]
    fn a_copy_that_differs_from_its_source_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("a.csv"), "1,2\n").unwrap();
        let dst = tmp.path().join("dst");
        copy_tree(&src, &dst).unwrap();
        std::fs::write(dst.join("a.csv"), "1,3\n").unwrap();
        let err = verify(&src, &dst).unwrap_err();
        assert!(err.contains("does not match its source"), "{err}");
        std::fs::write(dst.join("a.csv"), "1,2\n").unwrap();
        std::fs::write(dst.join("extra.csv"), "").unwrap();
        assert!(verify(&src, &dst).is_err(), "an extra file is a mismatch");
    }
}

//! Git facts recorded with every run (commit, branch, dirty, remote), read with the `git`
//! command. A folder outside a repository, or no `git` at all, gives empty facts.

use std::path::Path;
use std::process::{Command, Stdio};

use super::store::GitInfo;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Reads the git facts of the repository holding `dir`.
pub(crate) fn info(dir: &Path) -> GitInfo {
    let Some(commit) = git(dir, &["rev-parse", "HEAD"]) else {
        return GitInfo::default();
    };
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD");
    let dirty = git(
        dir,
        &[
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--ignore-submodules",
        ],
    )
    .map(|s| !s.is_empty());
    let repository = git(dir, &["config", "--get", "remote.origin.url"]).filter(|r| !r.is_empty());
    GitInfo {
        commit: Some(commit),
        branch,
        dirty,
        repository,
    }
}

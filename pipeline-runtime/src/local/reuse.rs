//! The reuse key of a step run and the explanation of a miss.
//!
//! A step run is reused when its component (command template, snapshot content hash,
//! environment, interface), the content of each data input and each parameter value equal those
//! of an earlier successful run. The key is a SHA-256 over a canonical JSON encoding of those
//! parts; the parts themselves are stored with each step run so that a miss can be explained by
//! comparing with the latest successful run of the same node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hash::sha256_hex;

/// Everything the reuse key covers, plus the per-file hashes of the snapshot (used only to
/// name the files that changed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReuseParts {
    /// The command template (before substitution).
    pub command: String,
    /// The declared environment (not rebuilt locally, but part of the component).
    pub environment: String,
    /// Port names, types and modes.
    pub interface: String,
    /// Environment variables set for the command.
    pub env_vars: BTreeMap<String, String>,
    /// The snapshot's content hash (empty without a `source_dir`).
    pub snapshot: String,
    /// Relative path → SHA-256 of each snapshot file; not part of the key.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Data input name → content hash.
    pub inputs: BTreeMap<String, String>,
    /// Parameter name → value as sent on the wire.
    pub params: BTreeMap<String, String>,
    /// A Rust step's code identity (`None` for command steps, whose code is the snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustIdentity>,
}

/// What a Rust step's code is, for reuse: the hash of its fn's tokens, its hand-bumped
/// `version`, and the crate that declares it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RustIdentity {
    /// The step's component name (for the explanations).
    pub step: String,
    /// Hash of the tokens of the fn's signature and body.
    pub body: String,
    /// `#[step(version = "...")]`, empty when not given.
    pub version: String,
    /// `NAME VERSION` of the declaring crate.
    pub krate: String,
}

#[derive(Serialize)]
struct KeyForm<'a> {
    v: u32,
    command: &'a str,
    environment: &'a str,
    interface: &'a str,
    env_vars: &'a BTreeMap<String, String>,
    snapshot: &'a str,
    inputs: &'a BTreeMap<String, String>,
    params: &'a BTreeMap<String, String>,
    // Left out for command steps, so their keys are those of stores written before Rust steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    rust: Option<&'a RustIdentity>,
}

impl ReuseParts {
    /// The reuse key: SHA-256 of the canonical encoding (maps are ordered, so it is stable).
    pub fn key(&self) -> String {
        let form = KeyForm {
            v: 1,
            command: &self.command,
            environment: &self.environment,
            interface: &self.interface,
            env_vars: &self.env_vars,
            snapshot: &self.snapshot,
            inputs: &self.inputs,
            params: &self.params,
            rust: self.rust.as_ref(),
        };
        let json = serde_json::to_vec(&form).unwrap_or_default();
        sha256_hex(&json)
    }

    /// Why `self` does not match `previous` (empty when every part is equal).
    pub fn explain(&self, previous: &ReuseParts) -> Vec<String> {
        let mut why = Vec::new();
        if self.command != previous.command {
            why.push("command changed".to_owned());
        }
        if self.environment != previous.environment {
            why.push(format!(
                "environment {} → {}",
                or_none(&previous.environment),
                or_none(&self.environment)
            ));
        }
        match (&self.rust, &previous.rust) {
            (Some(now), Some(before)) => {
                if now.body != before.body {
                    why.push(format!("body of {} changed", now.step));
                }
                if now.version != before.version {
                    why.push(format!(
                        "version of {} {} → {}",
                        now.step,
                        or_none(&before.version),
                        or_none(&now.version)
                    ));
                }
                if now.krate != before.krate {
                    why.push(format!("crate {} → {}", before.krate, now.krate));
                }
            }
            (Some(now), None) => why.push(format!("{} became a Rust step", now.step)),
            (None, Some(before)) => why.push(format!("{} is no longer a Rust step", before.step)),
            (None, None) => {}
        }
        if self.interface != previous.interface {
            why.push("interface changed (inputs, outputs or modes)".to_owned());
        }
        if self.env_vars != previous.env_vars {
            why.push("environment variables changed".to_owned());
        }
        if self.snapshot != previous.snapshot {
            let changed = diff_keys(&self.files, &previous.files, |a, b| a != b);
            let added: Vec<&str> = self
                .files
                .keys()
                .filter(|k| !previous.files.contains_key(*k))
                .map(String::as_str)
                .collect();
            let removed: Vec<&str> = previous
                .files
                .keys()
                .filter(|k| !self.files.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !changed.is_empty() {
                why.push(format!("script changed: {}", list(&changed)));
            }
            if !added.is_empty() {
                why.push(format!("file added: {}", list(&added)));
            }
            if !removed.is_empty() {
                why.push(format!("file removed: {}", list(&removed)));
            }
            if changed.is_empty() && added.is_empty() && removed.is_empty() {
                why.push("snapshot changed".to_owned());
            }
        }
        for (name, hash) in &self.inputs {
            match previous.inputs.get(name) {
                Some(h) if h == hash => {}
                _ => why.push(format!("input `{name}` changed")),
            }
        }
        for (name, value) in &self.params {
            match previous.params.get(name) {
                Some(v) if v == value => {}
                Some(v) => why.push(format!("`{name}` {v} → {value}")),
                None => why.push(format!("`{name}` is new ({value})")),
            }
        }
        why
    }
}

fn diff_keys<'a>(
    a: &'a BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    differs: impl Fn(&String, &String) -> bool,
) -> Vec<&'a str> {
    a.iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|w| differs(v, w)))
        .map(|(k, _)| k.as_str())
        .collect()
}

fn list(names: &[&str]) -> String {
    const MAX: usize = 5;
    let quoted: Vec<String> = names.iter().take(MAX).map(|n| format!("`{n}`")).collect();
    if names.len() <= MAX {
        quoted.join(", ")
    } else {
        format!("{} and {} more", quoted.join(", "), names.len() - MAX)
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> ReuseParts {
        ReuseParts {
            command: "python prepare.py --x ${{inputs.x}}".into(),
            snapshot: "abc".into(),
            files: [("prepare.py".to_owned(), "1".to_owned())].into(),
            inputs: [("x".to_owned(), "h1".to_owned())].into(),
            params: [("param1".to_owned(), "10".to_owned())].into(),
            ..ReuseParts::default()
        }
    }

    #[test]
    fn equal_parts_equal_keys_and_no_reasons() {
        assert_eq!(parts().key(), parts().key());
        assert!(parts().explain(&parts()).is_empty());
    }

    #[test]
    fn each_change_is_named() {
        let old = parts();
        let mut new = parts();
        new.snapshot = "def".into();
        new.files.insert("prepare.py".into(), "2".into());
        new.inputs.insert("x".into(), "h2".into());
        new.params.insert("param1".into(), "20".into());
        assert_ne!(new.key(), old.key());
        assert_eq!(
            new.explain(&old),
            vec![
                "script changed: `prepare.py`",
                "input `x` changed",
                "`param1` 10 → 20"
            ]
        );
    }

    #[test]
    fn a_rust_steps_identity_is_in_the_key_and_each_change_is_named() {
        let identity = RustIdentity {
            step: "train".into(),
            body: "b1".into(),
            version: String::new(),
            krate: "demo 0.1.0".into(),
        };
        let old = ReuseParts {
            rust: Some(identity.clone()),
            ..parts()
        };
        assert_eq!(old.key(), old.clone().key());
        // A command step's key is unchanged by the new field.
        assert_ne!(old.key(), parts().key());
        let mut new = old.clone();
        new.rust = Some(RustIdentity {
            body: "b2".into(),
            version: "2".into(),
            krate: "demo 0.2.0".into(),
            ..identity
        });
        assert_ne!(new.key(), old.key());
        assert_eq!(
            new.explain(&old),
            vec![
                "body of train changed",
                "version of train (none) → 2",
                "crate demo 0.1.0 → demo 0.2.0"
            ]
        );
    }

    #[test]
    fn a_command_steps_key_is_what_it_was_before_rust_steps() {
        // SHA-256 of the encoding without the `rust` field: stores written before keep reusing.
        let json = serde_json::json!({
            "v": 1, "command": "python prepare.py --x ${{inputs.x}}", "environment": "",
            "interface": "", "env_vars": {}, "snapshot": "abc", "inputs": {"x": "h1"},
            "params": {"param1": "10"}
        });
        assert_eq!(
            parts().key(),
            sha256_hex(&serde_json::to_vec(&json).unwrap())
        );
    }

    #[test]
    fn files_are_not_part_of_the_key() {
        let mut a = parts();
        a.files.clear();
        assert_eq!(a.key(), parts().key());
    }
}

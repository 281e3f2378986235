//! Azure ML naming rules, checked at compile time so that the service never rejects a name.

/// Component and node names: `^[a-z][a-z0-9_]*$`, at most 255 characters (Azure ML's rule for
/// component names; it also allows `.` and `-`, which node names do not, and refuses a leading
/// `_`; we use one name for both).
pub fn check_component_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid Azure ML component name: use lowercase letters, digits and `_`, starting with a letter (at most 255 characters)"
        ))
    }
}

/// Input/output port names: an identifier of ASCII letters, digits and `_`.
pub fn check_port_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid Azure ML port name: use ASCII letters, digits and `_`, starting with a letter or `_`"
        ))
    }
}

/// Compute names (ARM pattern `^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$`).
pub fn check_compute_name(name: &str) -> Result<(), String> {
    let chars_ok = name.len() >= 3
        && name.len() <= 24
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ends_with_dash_number = name
        .rsplit_once('-')
        .is_some_and(|(_, tail)| !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()));
    if chars_ok && !ends_with_dash_number {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid Azure ML compute name: 3 to 24 letters, digits and `-`, starting with a letter, not ending in `-` and a number"
        ))
    }
}

/// Experiment names: letters, digits, `_` and `-`, starting with a letter or digit, at most 256.
pub fn check_experiment_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid Azure ML experiment name: letters, digits, `_` and `-`, starting with a letter or digit"
        ))
    }
}

/// Datastore names: lowercase letters, digits and `_`.
pub fn check_datastore_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid Azure ML datastore name: lowercase letters, digits and `_`"
        ))
    }
}

/// Environment variable names.
pub fn check_env_var_name(name: &str) -> Result<(), String> {
    if check_port_name(name).is_ok() {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid environment variable name: ASCII letters, digits and `_`, not starting with a digit"
        ))
    }
}

/// Environments: `azureml:NAME@latest`, `azureml:NAME@LABEL`, `azureml:NAME:VERSION`,
/// `azureml://registries/…`, `azureml:/subscriptions/…` (an ARM id), or a Docker image.
pub fn check_environment(env: &str) -> Result<(), String> {
    let asset_name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 255
            && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if let Some(rest) = env.strip_prefix("azureml://registries/") {
        return if rest.split('/').count() >= 3 && !rest.contains("//") {
            Ok(())
        } else {
            Err(format!(
                "`{env}` is not a registry environment id; expected `azureml://registries/REGISTRY/environments/NAME/versions/VERSION` or `.../labels/latest`"
            ))
        };
    }
    if env.starts_with("azureml:/subscriptions/") {
        return Ok(());
    }
    if let Some(rest) = env.strip_prefix("azureml:") {
        let hint = format!(
            "environment `{env}` must name a version or a label: `azureml:NAME:VERSION` or `azureml:NAME@latest`"
        );
        if let Some((name, label)) = rest.split_once('@') {
            return if asset_name_ok(name) && asset_name_ok(label) {
                Ok(())
            } else {
                Err(hint)
            };
        }
        if let Some((name, version)) = rest.split_once(':') {
            return if asset_name_ok(name) && asset_name_ok(version) {
                Ok(())
            } else {
                Err(hint)
            };
        }
        return Err(hint);
    }
    // A Docker image reference: lowercase repository path, optional `:tag` / `@digest`.
    let (repo, tag) = match env.rsplit_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => match env.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (env, None),
        },
    };
    let repo_ok = !repo.is_empty()
        && repo.split('/').enumerate().all(|(i, part)| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || matches!(c, '.' | '_' | '-')
                        || (i == 0 && c == ':')
                })
        });
    let tag_ok = tag.is_none_or(|t| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
    });
    if repo_ok && tag_ok {
        Ok(())
    } else {
        Err(format!(
            "`{env}` is neither an Azure ML environment (`azureml:NAME@latest`, `azureml:NAME:VERSION`) nor a Docker image (`mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest`)"
        ))
    }
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments() {
        for ok in [
            "azureml:AzureML-sklearn-1.5@latest",
            "azureml:my-env:3",
            "azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
            "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
            "python:3.11-slim",
            "localhost:5000/img:1",
        ] {
            assert_eq!(check_environment(ok), Ok(()), "{ok}");
        }
        for bad in [
            "azureml:AzureML-sklearn-1.5",
            "AzureML-sklearn-1.5",
            "azureml:@latest",
            "",
            "Python:3",
        ] {
            assert!(check_environment(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compute_names() {
        assert!(check_compute_name("aml-compute").is_ok());
        assert!(check_compute_name("cpu-cluster-1").is_err());
        assert!(check_compute_name("1cpu").is_err());
        assert!(check_compute_name("ab").is_err());
    }

    #[test]
    fn component_names() {
        assert!(check_component_name("data_prep").is_ok());
        assert!(check_component_name("DataPrep").is_err());
        assert!(check_component_name("9x").is_err());
        assert!(check_component_name("_lead").is_err());
        assert!(check_component_name("lead_2").is_ok());
    }

    #[test]
    fn suggestions() {
        let keys = ["reuse", "compute", "script"];
        assert_eq!(did_you_mean("reuses", &keys), Some("reuse"));
        assert_eq!(did_you_mean("computer", &keys), Some("compute"));
        assert_eq!(did_you_mean("zzzzzz", &keys), None);
    }
}

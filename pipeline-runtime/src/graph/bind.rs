//! Binding values to a pipeline's inputs: `--param name=value`, `--input name=PATH`, defaults.

use std::path::{Path, PathBuf};

use super::kinds::{AssetType, PortType};
use super::pipeline::{DataLocation, InputValue, Pipeline};

/// Why values could not be bound to a pipeline's inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    /// `--param`/`--input` named an input the pipeline does not have.
    #[error("pipeline `{pipeline}` has no input named `{name}`; its inputs are: {known}")]
    UnknownInput {
        /// The pipeline.
        pipeline: String,
        /// The unknown name.
        name: String,
        /// The inputs it has.
        known: String,
    },
    /// A value did not parse as the parameter's type.
    #[error("bad value for parameter `{name}` ({ty}): {reason}")]
    BadValue {
        /// The parameter.
        name: String,
        /// Its Rust type.
        ty: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `--param` named a data input, or `--input` a parameter.
    #[error("`{name}` is a {actual}; pass it with `{flag} {name}=...`")]
    WrongFlag {
        /// The input.
        name: String,
        /// What it is.
        actual: &'static str,
        /// The flag to use.
        flag: &'static str,
    },
    /// A required input got no value and has no default.
    #[error("pipeline input `{name}` ({ty}) has no value and no default; pass `{flag} {name}=...`")]
    Missing {
        /// The input.
        name: String,
        /// Its type.
        ty: String,
        /// The flag to use.
        flag: &'static str,
    },
    /// The same input was given twice.
    #[error("`{0}` was given more than once")]
    Duplicate(String),
    /// An argument was not `name=value`.
    #[error("`{0}` is not `name=value`")]
    NotAssignment(String),
    /// `--input name=` with nothing after the `=`.
    #[error(
        "input `{name}` ({kind}) got an empty value; pass `--input {name}=PATH` with a local path \
         or an `azureml://` URI"
    )]
    EmptyValue {
        /// The input.
        name: String,
        /// Its kind.
        kind: AssetType,
    },
    /// A local folder bound to a file input, or a file to a folder input.
    #[error(
        "input `{name}` is a {expected} but {} is a {} ({found}); pass a {}, or declare the input \
         with a {found} kind",
        path.display(),
        what(*found),
        what(*expected)
    )]
    WrongKind {
        /// The input.
        name: String,
        /// The kind the pipeline declares.
        expected: AssetType,
        /// The kind the path is (`uri_file` for a file, `uri_folder` for a folder).
        found: AssetType,
        /// The local path.
        path: PathBuf,
    },
    /// A backend was handed a number of bound values that is not the pipeline's number of inputs.
    #[error(
        "pipeline `{pipeline}` has {expected} inputs but {given} values were given; bind them \
         with `Pipeline::bind`"
    )]
    ValueCount {
        /// The pipeline.
        pipeline: String,
        /// How many values were given.
        given: usize,
        /// How many inputs it has.
        expected: usize,
    },
    /// A local input path that does not exist.
    #[error(
        "input `{name}` ({kind}): {} does not exist; check the path given to `--input {name}=` \
         (relative paths are resolved from the current directory)",
        path.display()
    )]
    MissingPath {
        /// The input.
        name: String,
        /// Its kind.
        kind: AssetType,
        /// The local path.
        path: PathBuf,
    },
}

/// `file` or `folder`, for messages.
fn what(kind: AssetType) -> &'static str {
    if kind.is_folder() { "folder" } else { "file" }
}

/// Checks that an existing local `path` is what input `name` of `kind` takes: a file for
/// `uri_file`, a folder for every other kind. A path that does not exist passes (see
/// [`Pipeline::check_local_inputs`]).
fn check_kind(name: &str, kind: AssetType, path: &Path) -> Result<(), BindError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let found = if meta.is_dir() {
        AssetType::UriFolder
    } else {
        AssetType::UriFile
    };
    if found.is_folder() == kind.is_folder() {
        Ok(())
    } else {
        Err(BindError::WrongKind {
            name: name.to_owned(),
            expected: kind,
            found,
            path: path.to_owned(),
        })
    }
}

/// Splits `name=value`.
pub fn split_assignment(text: &str) -> Result<(String, String), BindError> {
    match text.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_owned(), v.to_owned())),
        _ => Err(BindError::NotAssignment(text.to_owned())),
    }
}

impl Pipeline {
    /// Resolves a value for every pipeline input, in input order: `params` (`name=value`, parsed
    /// into the parameter's type), `inputs` (`name=PATH` or `name=azureml://…`; relative paths
    /// against `cwd`), then defaults. Inputs with neither are an error.
    pub fn bind(
        &self,
        params: &[(String, String)],
        inputs: &[(String, String)],
        cwd: &Path,
    ) -> Result<Vec<InputValue>, BindError> {
        let values = self.bind_partial(params, inputs, cwd)?;
        self.inputs
            .iter()
            .zip(values)
            .map(|(input, value)| {
                value.ok_or_else(|| BindError::Missing {
                    name: input.name.clone(),
                    ty: input.ty.to_string(),
                    flag: if matches!(input.ty, PortType::Param(_)) {
                        "--param"
                    } else {
                        "--input"
                    },
                })
            })
            .collect()
    }

    /// Checks, before any work, that every local data input of `values` (as returned by
    /// [`bind`](Self::bind)) exists and is a file for a `uri_file` input and a folder for any
    /// other kind. Defaults are checked too.
    pub fn check_local_inputs(&self, values: &[InputValue]) -> Result<(), BindError> {
        for (input, value) in self.inputs.iter().zip(values) {
            let (PortType::Data(kind), InputValue::Data(DataLocation::Local(path))) =
                (input.ty, value)
            else {
                continue;
            };
            if std::fs::symlink_metadata(path).is_err() {
                return Err(BindError::MissingPath {
                    name: input.name.clone(),
                    kind,
                    path: path.clone(),
                });
            }
            check_kind(&input.name, kind, path)?;
        }
        Ok(())
    }

    /// Like [`bind`](Self::bind), but leaves inputs with neither a value nor a default unbound
    /// (`None`) instead of failing.
    pub fn bind_partial(
        &self,
        params: &[(String, String)],
        inputs: &[(String, String)],
        cwd: &Path,
    ) -> Result<Vec<Option<InputValue>>, BindError> {
        let mut values: Vec<Option<InputValue>> = vec![None; self.inputs.len()];
        let known = || {
            self.inputs
                .iter()
                .map(|i| format!("`{}` ({})", i.name, i.ty))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut seen = std::collections::HashSet::new();
        for (name, value, is_param) in params
            .iter()
            .map(|(n, v)| (n, v, true))
            .chain(inputs.iter().map(|(n, v)| (n, v, false)))
        {
            let Some((i, input)) = self.input(name) else {
                return Err(BindError::UnknownInput {
                    pipeline: self.name.clone(),
                    name: name.clone(),
                    known: if self.inputs.is_empty() {
                        "none".into()
                    } else {
                        known()
                    },
                });
            };
            if !seen.insert(name.clone()) {
                return Err(BindError::Duplicate(name.clone()));
            }
            values[i] = Some(match (input.ty, is_param) {
                (PortType::Param(ty), true) => {
                    let bad = |reason| BindError::BadValue {
                        name: name.clone(),
                        ty: ty.rust_type(),
                        reason,
                    };
                    let literal = ty.parse(value).map_err(bad)?;
                    input.rules.check(&literal).map_err(bad)?;
                    InputValue::Literal(literal)
                }
                (PortType::Data(kind), false) => {
                    if value.trim().is_empty() {
                        return Err(BindError::EmptyValue {
                            name: name.clone(),
                            kind,
                        });
                    }
                    let location = DataLocation::parse(value, cwd);
                    if let DataLocation::Local(path) = &location {
                        check_kind(name, kind, path)?;
                    }
                    InputValue::Data(location)
                }
                (PortType::Param(_), false) => {
                    return Err(BindError::WrongFlag {
                        name: name.clone(),
                        actual: "parameter",
                        flag: "--param",
                    });
                }
                (PortType::Data(_), true) => {
                    return Err(BindError::WrongFlag {
                        name: name.clone(),
                        actual: "data input",
                        flag: "--input",
                    });
                }
            });
        }
        Ok(self
            .inputs
            .iter()
            .zip(values)
            .map(|(input, value)| value.or_else(|| input.default.clone()))
            .collect())
    }
}

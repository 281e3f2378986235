//! Rust steps: a `#[step]` fn with a body runs that body as the step.
//!
//! ```no_run
//! use azureml_pipelines::prelude::*;
//!
//! /// Copies the iris rows into a folder (a Rust step).
//! #[step(compute = "aml-compute")]
//! fn prep(iris: Input<UriFile>, scale: f64, prepped: Output<UriFolder>) -> Result<(), std::io::Error> {
//!     let text = std::fs::read_to_string(&iris)?; // an input is a readable path
//!     std::fs::write(prepped.join("rows.csv"), text)?; // an output is a fresh folder
//!     azureml_pipelines::metrics::log("scale", scale);
//!     Ok(())
//! }
//!
//! #[pipeline]
//! fn prep_only(iris: Data<UriFile>) -> Data<UriFolder> {
//!     prep(iris, 2.0) // wired exactly like a command step
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     azureml_pipelines::cli::main(prep_only)
//! }
//! ```
//!
//! The signature of a Rust step says its ports:
//!
//! * [`Input<K>`] is a data input of kind `K` ([`UriFile`](crate::graph::UriFile) a file,
//!   [`UriFolder`](crate::graph::UriFolder) or [`MlTable`](crate::graph::MlTable) a folder …);
//!   inside the body it is a readable [`Path`] (it derefs to one). `Option<Input<K>>` is an
//!   optional input, `None` when the pipeline leaves it out. `#[mode(download)]` and
//!   `#[mode(ro_mount)]` apply as on command steps.
//! * `i64`, `f64`, `bool` and `String` are parameters, plain values inside the body. Bounds
//!   (`#[min(1)]`, `#[max(10)]`, `#[allowed("a", "b")]`) apply as on command steps.
//! * [`Output<K>`] is an output: a fresh, empty folder the body writes into (for a `UriFile`
//!   output, write exactly one file into it). An output left empty fails the step with
//!   "output `NAME` was not written".
//! * The body returns `Result<(), E>` where `E` implements `Display` (`std::io::Error`,
//!   `String`, `Box<dyn Error>`, …); an `Err` fails the step with its text, and a panic fails
//!   it with the panic's message.
//!
//! In a `#[pipeline]` the step is called like a command step: each `Input<K>` takes a
//! `Data<K>`, each parameter a plain value or a `Param<T>`, and the call returns the outputs:
//! one `Data<K>`, a tuple of them in declaration order, or `()`.
//!
//! The body runs in a child process of the pipeline binary itself, started with a hidden
//! command (`BIN __step NAME --input k=PATH --param k=VALUE --output k=PATH`), locally and, from
//! a Linux build of the same binary, on Azure ML.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::graph::DataKind;

/// A data input of a Rust step, inside its body: a readable path (a file for `UriFile`, a
/// folder for folder kinds). Derefs to [`Path`]: `std::fs::read_to_string(&input)`,
/// `input.join("part-0.csv")`.
pub struct Input<K> {
    path: PathBuf,
    kind: PhantomData<fn() -> K>,
}

/// An output of a Rust step, inside its body: a fresh folder to write into. Derefs to
/// [`Path`]: `std::fs::write(output.join("model.json"), bytes)`. A `UriFile` output is a folder
/// too: write exactly one file into it.
pub struct Output<K> {
    path: PathBuf,
    kind: PhantomData<fn() -> K>,
}

macro_rules! path_like {
    ($name:ident) => {
        impl<K> $name<K> {
            /// The path.
            pub fn path(&self) -> &Path {
                &self.path
            }

            /// The path, owned.
            pub fn into_path(self) -> PathBuf {
                self.path
            }
        }

        impl<K> Deref for $name<K> {
            type Target = Path;
            fn deref(&self) -> &Path {
                &self.path
            }
        }

        impl<K> AsRef<Path> for $name<K> {
            fn as_ref(&self) -> &Path {
                &self.path
            }
        }

        impl<K> fmt::Debug for $name<K> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.path).finish()
            }
        }

        impl<K> fmt::Display for $name<K> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.path.display().fmt(f)
            }
        }
    };
}

path_like!(Input);
path_like!(Output);

/// A parameter type a Rust step can take: `i64`, `f64`, `bool`, `String`. Each is read from
/// the text Azure ML and the local backend put on the command line (`10`, `0.5`, `True`,
/// `text`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter type of a Rust step",
    label = "not `i64`, `f64`, `bool` or `String`",
    note = "a Rust step takes parameters of type `i64`, `f64`, `bool` or `String`"
)]
pub trait StepParam: Sized {
    /// The value written as `text`, or what is expected.
    fn from_text(text: &str) -> Result<Self, String>;
}

impl StepParam for i64 {
    fn from_text(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a whole number"))
    }
}

impl StepParam for f64 {
    fn from_text(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))
    }
}

impl StepParam for bool {
    fn from_text(text: &str) -> Result<Self, String> {
        match text.trim() {
            "True" | "true" | "1" => Ok(true),
            "False" | "false" | "0" => Ok(false),
            _ => Err(format!("`{text}` is not `True` or `False`")),
        }
    }
}

impl StepParam for String {
    fn from_text(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}

/// What a Rust step's body returns: `Result<(), E>` with an `E` that shows as text.
#[diagnostic::on_unimplemented(
    message = "a Rust step returns `Result<(), E>` where `E` implements `Display`, not `{Self}`",
    label = "the body's result",
    note = "end the body with `Ok(())`, and return errors such as `std::io::Error` or `String`"
)]
pub trait StepResult {
    /// `Ok(())`, or the error's text.
    fn into_step_result(self) -> Result<(), String>;
}

impl<E: fmt::Display> StepResult for Result<(), E> {
    fn into_step_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// The bound paths and values of one run of a Rust step, as the hidden entry point received
/// them (`--input k=PATH --param k=VALUE --output k=PATH`). Generated code reads its ports
/// from it; a user rarely sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RustStepArgs {
    /// The step's component name.
    pub step: String,
    /// Data input name → path (an optional input left out is absent).
    pub inputs: BTreeMap<String, PathBuf>,
    /// Parameter name → value as text.
    pub params: BTreeMap<String, String>,
    /// Output name → folder to write.
    pub outputs: BTreeMap<String, PathBuf>,
}

impl RustStepArgs {
    /// Reads `--input k=PATH`, `--param k=VALUE` and `--output k=PATH` (also `--input=k=PATH`),
    /// in any order.
    pub fn parse(step: &str, args: &[String]) -> Result<RustStepArgs, String> {
        let mut out = RustStepArgs {
            step: step.to_owned(),
            ..RustStepArgs::default()
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let (flag, inline) = match flag.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (flag.as_str(), None),
            };
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("`{flag}` needs a value: `{flag} NAME=VALUE`"))?,
            };
            let (name, v) = value
                .split_once('=')
                .ok_or_else(|| format!("`{flag} {value}` is not `NAME=VALUE`"))?;
            let (name, v) = (name.to_owned(), v.to_owned());
            match flag {
                "--input" => {
                    out.inputs.insert(name, PathBuf::from(v));
                }
                "--param" => {
                    out.params.insert(name, v);
                }
                "--output" => {
                    out.outputs.insert(name, PathBuf::from(v));
                }
                other => {
                    return Err(format!(
                        "unknown argument `{other}`; expected `--input`, `--param` or `--output`"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The data input `name`.
    pub fn input<K: DataKind>(&self, name: &str) -> Result<Input<K>, String> {
        self.optional_input(name)?
            .ok_or_else(|| format!("input `{name}` was not given (`--input {name}=PATH`)"))
    }

    /// The optional data input `name` (`None` when it was left out).
    pub fn optional_input<K: DataKind>(&self, name: &str) -> Result<Option<Input<K>>, String> {
        Ok(self.inputs.get(name).map(|p| Input {
            path: p.clone(),
            kind: PhantomData,
        }))
    }

    /// The parameter `name`, read as a `T`.
    pub fn param<T: StepParam>(&self, name: &str) -> Result<T, String> {
        let text = self
            .params
            .get(name)
            .ok_or_else(|| format!("parameter `{name}` was not given (`--param {name}=VALUE`)"))?;
        T::from_text(text).map_err(|e| format!("parameter `{name}`: {e}"))
    }

    /// The output `name`.
    pub fn output<K: DataKind>(&self, name: &str) -> Result<Output<K>, String> {
        let path = self
            .outputs
            .get(name)
            .ok_or_else(|| format!("output `{name}` was not given (`--output {name}=PATH`)"))?;
        Ok(Output {
            path: path.clone(),
            kind: PhantomData,
        })
    }
}

/// Hidden arguments of the entry point: the first argument that runs one Rust step.
pub const ENTRY_COMMAND: &str = "__step";

/// The environment variable naming the file a Rust step appends its metrics to (set by the
/// local backend for each Rust step).
pub const METRICS_FILE_ENV: &str = "AZUREML_PIPELINES_METRICS_FILE";

/// The default environment of a Rust step on Azure ML when it names none and the pipeline has
/// no `default_environment`: Ubuntu 22.04 from the Microsoft Container Registry's mirror of
/// Docker's official images. Small (about 30 MB), public, pulled from the registry next to the
/// compute rather than Docker Hub (no pull limits), and its glibc (2.35) runs a binary built
/// against glibc 2.17 or later, or a static (musl) one. A Rust step needs nothing else from its
/// image: no Python, no Rust toolchain. Override it with `environment = "..."` on the step or
/// `default_environment` on the pipeline.
pub const DEFAULT_ENVIRONMENT: &str = "mcr.microsoft.com/mirror/docker/library/ubuntu:22.04";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{UriFile, UriFolder};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_ports_and_reads_typed_values() {
        let a = RustStepArgs::parse(
            "prep",
            &args(&[
                "--input",
                "iris=/data/iris.csv",
                "--param=scale=0.5",
                "--param",
                "name=a=b",
                "--param",
                "flag=True",
                "--output",
                "out=/tmp/o",
            ]),
        )
        .unwrap();
        let i: Input<UriFile> = a.input("iris").unwrap();
        assert_eq!(i.path(), Path::new("/data/iris.csv"));
        assert_eq!(a.param::<f64>("scale").unwrap(), 0.5);
        assert_eq!(a.param::<String>("name").unwrap(), "a=b");
        assert!(a.param::<bool>("flag").unwrap());
        let o: Output<UriFolder> = a.output("out").unwrap();
        assert_eq!(o.join("x"), Path::new("/tmp/o/x"));
        assert!(a.optional_input::<UriFolder>("nope").unwrap().is_none());
    }

    #[test]
    fn errors_name_the_port_and_the_fix() {
        let a = RustStepArgs::parse("prep", &args(&["--param", "n=ten"])).unwrap();
        assert_eq!(
            a.param::<i64>("n").unwrap_err(),
            "parameter `n`: `ten` is not a whole number"
        );
        assert_eq!(
            a.input::<UriFile>("iris").unwrap_err(),
            "input `iris` was not given (`--input iris=PATH`)"
        );
        assert!(
            RustStepArgs::parse("prep", &args(&["--bogus", "a=b"]))
                .unwrap_err()
                .contains("unknown argument `--bogus`")
        );
        assert!(
            RustStepArgs::parse("prep", &args(&["--input"]))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            RustStepArgs::parse("prep", &args(&["--input", "nothing"]))
                .unwrap_err()
                .contains("is not `NAME=VALUE`")
        );
    }

    #[test]
    fn a_displayable_error_becomes_its_text() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("disk full"));
        assert_eq!(r.into_step_result().unwrap_err(), "disk full");
        assert_eq!(Ok::<(), String>(()).into_step_result(), Ok(()));
    }
}

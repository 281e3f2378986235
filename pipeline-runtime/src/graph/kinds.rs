//! What flows along the edges: data kinds (Azure ML asset types) and parameter types.

use std::fmt;

/// An Azure ML data asset type, as written on the wire (`uri_folder`, `mlflow_model`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetType {
    /// A single file (`uri_file`).
    UriFile,
    /// A folder (`uri_folder`).
    UriFolder,
    /// A table described by an `MLTable` file (`mltable`).
    MlTable,
    /// A model in a custom format (`custom_model`).
    CustomModel,
    /// An MLflow model (`mlflow_model`).
    MlflowModel,
}

impl AssetType {
    /// Every asset type, in wire order.
    pub const ALL: [AssetType; 5] = [
        AssetType::UriFile,
        AssetType::UriFolder,
        AssetType::MlTable,
        AssetType::CustomModel,
        AssetType::MlflowModel,
    ];

    /// The wire name (`jobInputType` / `type` value).
    pub const fn as_str(self) -> &'static str {
        match self {
            AssetType::UriFile => "uri_file",
            AssetType::UriFolder => "uri_folder",
            AssetType::MlTable => "mltable",
            AssetType::CustomModel => "custom_model",
            AssetType::MlflowModel => "mlflow_model",
        }
    }

    /// Whether values of this type are folders on disk (everything but `uri_file`).
    pub const fn is_folder(self) -> bool {
        !matches!(self, AssetType::UriFile)
    }
}

impl fmt::Display for AssetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a pipeline parameter (an Azure ML literal input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamType {
    /// `integer` — Rust `i64`.
    Integer,
    /// `number` — Rust `f64`.
    Number,
    /// `boolean` — Rust `bool`.
    Boolean,
    /// `string` — Rust `String`.
    String,
}

impl ParamType {
    /// The wire name (`type` of a component input).
    pub const fn as_str(self) -> &'static str {
        match self {
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::String => "string",
        }
    }

    /// The Rust type users write in `Param<T>`.
    pub const fn rust_type(self) -> &'static str {
        match self {
            ParamType::Integer => "i64",
            ParamType::Number => "f64",
            ParamType::Boolean => "bool",
            ParamType::String => "String",
        }
    }

    /// Parses a value given on the command line (`--param name=value`) into this type.
    pub fn parse(self, text: &str) -> Result<Literal, String> {
        match self {
            ParamType::Integer => text
                .trim()
                .parse::<i64>()
                .map(Literal::Integer)
                .map_err(|_| format!("`{text}` is not an integer")),
            ParamType::Number => match text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Literal::Number(v)),
                _ => Err(format!("`{text}` is not a finite number")),
            },
            ParamType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Literal::Boolean(true)),
                "false" | "0" | "no" => Ok(Literal::Boolean(false)),
                _ => Err(format!("`{text}` is not a boolean; use `true` or `false`")),
            },
            ParamType::String => Ok(Literal::String(text.to_owned())),
        }
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a port: data of some asset type, or a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortType {
    /// Data (`Data<K>`).
    Data(AssetType),
    /// A parameter (`Param<T>`).
    Param(ParamType),
}

impl PortType {
    /// The wire name of the type.
    pub const fn as_str(self) -> &'static str {
        match self {
            PortType::Data(a) => a.as_str(),
            PortType::Param(p) => p.as_str(),
        }
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer.
    Integer(i64),
    /// A finite number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
}

impl Literal {
    /// The type of this value.
    pub fn param_type(&self) -> ParamType {
        match self {
            Literal::Integer(_) => ParamType::Integer,
            Literal::Number(_) => ParamType::Number,
            Literal::Boolean(_) => ParamType::Boolean,
            Literal::String(_) => ParamType::String,
        }
    }

    /// The value as Azure ML's REST API carries literal inputs: a string, formatted the way
    /// Microsoft's Python SDK formats it (`str(value)`: `10`, `0.5`, `1.0`, `True`).
    pub fn to_wire(&self) -> String {
        match self {
            Literal::Integer(v) => v.to_string(),
            Literal::Number(v) => {
                let s = v.to_string();
                if v.is_finite() && !s.contains(['.', 'e', 'E']) {
                    format!("{s}.0")
                } else {
                    s
                }
            }
            Literal::Boolean(true) => "True".to_owned(),
            Literal::Boolean(false) => "False".to_owned(),
            Literal::String(s) => s.clone(),
        }
    }
}

impl fmt::Display for Literal {
    /// The value as a user writes it (`10`, `0.5`, `true`, `text`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Integer(v) => write!(f, "{v}"),
            Literal::Number(v) => write!(f, "{v}"),
            Literal::Boolean(v) => write!(f, "{v}"),
            Literal::String(v) => f.write_str(v),
        }
    }
}

/// A data kind: a Rust type standing for one Azure ML asset type.
///
/// The built-in kinds are [`UriFile`], [`UriFolder`], [`MlTable`], [`CustomModel`] and
/// [`MlflowModel`]. Declare your own with `#[derive(DataKind)]` so that two folders of different
/// meaning cannot be swapped:
///
/// ```
/// use azureml_pipelines::prelude::*;
///
/// /// Cleaned iris data: a folder on the wire.
/// #[derive(DataKind)]
/// #[data_kind(uri_folder)]
/// pub struct PreppedIris;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a data kind",
    label = "not a data kind",
    note = "use one of `UriFile`, `UriFolder`, `MlTable`, `CustomModel`, `MlflowModel`, or declare your own with `#[derive(DataKind)] #[data_kind(uri_folder)]`"
)]
pub trait DataKind: 'static {
    /// The asset type this kind is on the wire.
    const ASSET_TYPE: AssetType;
}

macro_rules! builtin_kinds {
    ($($(#[$doc:meta])* $name:ident => $asset:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {}
        impl DataKind for $name {
            const ASSET_TYPE: AssetType = AssetType::$asset;
        }
    )*};
}

builtin_kinds! {
    /// A single file (`uri_file`).
    UriFile => UriFile;
    /// A folder (`uri_folder`).
    UriFolder => UriFolder;
    /// A table described by an `MLTable` file (`mltable`).
    MlTable => MlTable;
    /// A model in a custom format (`custom_model`).
    CustomModel => CustomModel;
    /// An MLflow model (`mlflow_model`).
    MlflowModel => MlflowModel;
}

/// A Rust type usable as a pipeline parameter: `i64`, `f64`, `bool` or `String`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a pipeline parameter type",
    label = "not a parameter type",
    note = "Azure ML parameters are `Param<i64>`, `Param<f64>`, `Param<bool>` or `Param<String>`"
)]
pub trait ParamValue: 'static {
    /// The wire type.
    const PARAM_TYPE: ParamType;
    /// This value as a literal.
    fn into_literal(self) -> Literal;
}

// Not listed in errors: the trait's note names the parameter types already.
#[diagnostic::do_not_recommend]
impl ParamValue for i64 {
    const PARAM_TYPE: ParamType = ParamType::Integer;
    fn into_literal(self) -> Literal {
        Literal::Integer(self)
    }
}
#[diagnostic::do_not_recommend]
impl ParamValue for f64 {
    const PARAM_TYPE: ParamType = ParamType::Number;
    fn into_literal(self) -> Literal {
        Literal::Number(self)
    }
}
#[diagnostic::do_not_recommend]
impl ParamValue for bool {
    const PARAM_TYPE: ParamType = ParamType::Boolean;
    fn into_literal(self) -> Literal {
        Literal::Boolean(self)
    }
}
#[diagnostic::do_not_recommend]
impl ParamValue for String {
    const PARAM_TYPE: ParamType = ParamType::String;
    fn into_literal(self) -> Literal {
        Literal::String(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_format_like_the_python_sdk() {
        assert_eq!(Literal::Integer(10).to_wire(), "10");
        assert_eq!(Literal::Number(1.0).to_wire(), "1.0");
        assert_eq!(Literal::Number(0.25).to_wire(), "0.25");
        assert_eq!(Literal::Boolean(true).to_wire(), "True");
        assert_eq!(Literal::String("a b".into()).to_wire(), "a b");
    }

    #[test]
    fn params_parse_with_clear_errors() {
        assert_eq!(ParamType::Integer.parse("20"), Ok(Literal::Integer(20)));
        assert_eq!(
            ParamType::Integer.parse("2o").unwrap_err(),
            "`2o` is not an integer"
        );
        assert!(ParamType::Number.parse("NaN").is_err());
        assert_eq!(ParamType::Boolean.parse("TRUE"), Ok(Literal::Boolean(true)));
        assert!(ParamType::Boolean.parse("maybe").is_err());
    }
}

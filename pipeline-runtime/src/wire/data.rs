//! Data assets on the wire (`{WS}/data/{name}/versions/{version}`, reference `azureml-rest.md`
//! §7 and §13, models `DataVersionBase`, `UriFileDataVersion`, `UriFolderDataVersion`,
//! `MLTableData` of the 2025-12-01 dump), and the `MLTable` file of a table asset (the schema of
//! Microsoft's `mltable` package: `paths` of `file`/`folder`/`pattern`, then `transformations`
//! such as `read_delimited`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// `PUT data/{name}/versions/{version}` body and `GET` answer (`DataVersionBase`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataVersion {
    /// ARM id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The version (read-only: ARM names a version resource by its version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The asset.
    pub properties: DataVersionProperties,
}

/// `DataVersionBase.properties`, discriminated by `dataType`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DataVersionProperties {
    /// `uri_file`, `uri_folder` or `mltable`.
    pub data_type: DataType,
    /// Where the data is: `azureml://datastores/{ds}/paths/{path}` (for `mltable`, the folder
    /// holding the `MLTable` file).
    pub data_uri: String,
    /// `mltable` only: the locations the `MLTable` file reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_uris: Option<Vec<String>>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Always false for a named asset.
    #[serde(default)]
    pub is_anonymous: bool,
    /// Archived versions are hidden from lists and from `@latest`.
    #[serde(default)]
    pub is_archived: bool,
}

impl DataVersion {
    /// A new version of type `data_type` at `data_uri`.
    pub fn new(data_type: DataType, data_uri: impl Into<String>) -> Self {
        Self {
            id: None,
            name: None,
            properties: DataVersionProperties {
                data_type,
                data_uri: data_uri.into(),
                referenced_uris: None,
                description: None,
                tags: BTreeMap::new(),
                properties: BTreeMap::new(),
                is_anonymous: false,
                is_archived: false,
            },
        }
    }

    /// The body to PUT back: the same asset without the read-only fields.
    pub fn for_put(&self) -> Self {
        Self {
            id: None,
            name: None,
            properties: self.properties.clone(),
        }
    }
}

/// `DataType`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum DataType {
    /// One file.
    UriFile,
    /// A folder.
    UriFolder,
    /// A table: a folder holding an `MLTable` file.
    Mltable,
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::UriFile => "uri_file",
            DataType::UriFolder => "uri_folder",
            DataType::Mltable => "mltable",
        })
    }
}

/// An `MLTable` file (YAML): where the table's files are and how to read them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MlTable {
    /// The JSON schema, for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `mltable`.
    #[serde(rename = "type", default = "mltable")]
    pub kind: String,
    /// The files.
    pub paths: Vec<MlTablePath>,
    /// How to read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Transformation>,
}

fn mltable() -> String {
    "mltable".into()
}

/// The schema Microsoft publishes for `MLTable` files.
pub const MLTABLE_SCHEMA: &str = "https://azuremlschemas.azureedge.net/latest/MLTable.schema.json";

/// One entry of `paths`: exactly one of `file`, `folder` or `pattern`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct MlTablePath {
    /// One file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Every file of a folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// Files matching a glob (`*`, `?`, `[abc]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl MlTablePath {
    /// The location written.
    pub fn uri(&self) -> &str {
        self.file
            .as_deref()
            .or(self.folder.as_deref())
            .or(self.pattern.as_deref())
            .unwrap_or_default()
    }
}

/// One entry of `transformations` (the reads this house writes; others are kept out).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Transformation {
    /// Read delimited text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_delimited: Option<ReadDelimited>,
}

/// `read_delimited`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReadDelimited {
    /// Column separator.
    pub delimiter: String,
    /// `utf8`, `iso88591`, `latin1`, `ascii`, `utf16`, `utf32`, `utf8bom`, `windows1252`.
    pub encoding: String,
    /// Where the header is.
    pub header: Header,
}

/// `read_delimited.header`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum Header {
    /// No header row.
    NoHeader,
    /// The first file's first row.
    FromFirstFile,
    /// Each file has its own header.
    AllFilesDifferentHeaders,
    /// Every file starts with the same header (the default).
    AllFilesSameHeaders,
}

impl MlTable {
    /// The seed's `Dataset.Tabular.from_delimited_files(path)`: the files matching `pattern`,
    /// read as delimited text.
    pub fn from_delimited_files(pattern: &str, delimiter: &str, header: Header) -> Self {
        let p = Some(pattern.to_owned());
        let path = if pattern.contains(['*', '?', '[']) {
            MlTablePath {
                pattern: p,
                ..Default::default()
            }
        } else if pattern.ends_with('/') {
            MlTablePath {
                folder: p,
                ..Default::default()
            }
        } else {
            MlTablePath {
                file: p,
                ..Default::default()
            }
        };
        Self {
            schema: Some(MLTABLE_SCHEMA.to_owned()),
            kind: mltable(),
            paths: vec![path],
            transformations: vec![Transformation {
                read_delimited: Some(ReadDelimited {
                    delimiter: delimiter.to_owned(),
                    encoding: "utf8".into(),
                    header,
                }),
            }],
        }
    }

    /// The file's YAML.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).unwrap_or_default()
    }

    /// Reads an `MLTable` file.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_yaml_ng::from_str(text).map_err(|e| format!("not an MLTable file: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_data_version_body_has_the_reference_shape() {
        let mut v = DataVersion::new(
            DataType::UriFolder,
            "azureml://datastores/workspaceblobstore/paths/data/",
        );
        v.properties.description = Some("d".into());
        // The SDK's body (reference §7), key for key.
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"properties": {"dataType": "uri_folder",
                "dataUri": "azureml://datastores/workspaceblobstore/paths/data/",
                "description": "d", "tags": {}, "properties": {}, "isAnonymous": false,
                "isArchived": false}})
        );
    }

    #[test]
    fn from_delimited_files_writes_paths_and_read_delimited() {
        let t = MlTable::from_delimited_files(
            "azureml://datastores/ds/paths/train-dataset/*.csv",
            ",",
            Header::AllFilesSameHeaders,
        );
        let yaml = t.to_yaml();
        let back: serde_json::Value = serde_yaml_ng::from_str(&yaml).unwrap();
        assert_eq!(
            back,
            json!({"$schema": MLTABLE_SCHEMA, "type": "mltable",
                "paths": [{"pattern": "azureml://datastores/ds/paths/train-dataset/*.csv"}],
                "transformations": [{"read_delimited": {"delimiter": ",", "encoding": "utf8",
                    "header": "all_files_same_headers"}}]})
        );
        assert_eq!(MlTable::from_yaml(&yaml).unwrap(), t);
        let folder = MlTable::from_delimited_files("azureml://x/", ";", Header::NoHeader);
        assert_eq!(folder.paths[0].folder.as_deref(), Some("azureml://x/"));
        assert!(!yaml.contains('!'), "no YAML tags:\n{yaml}");
    }
}

//! Values that must never be shown: access tokens, account keys, client secrets, SAS query strings.
//!
//! Their `Debug` and `Display` print a placeholder; the value itself is reached only through an
//! explicit [`Secret::expose`] / [`SasUrl::expose`], which makes every use easy to audit.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string (token, key, password). `Debug` and `Display` print `<redacted>`.
///
/// ```
/// use azureml_pipelines_runtime::azure::secret::Secret;
/// let key = Secret::new("hunter2");
/// assert_eq!(format!("{key} {key:?}"), "<redacted> Secret(<redacted>)");
/// assert_eq!(key.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Only pass it to the place that needs it (a header, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A URL whose query string is a credential (a SAS URL). `Debug` and `Display` show the URL
/// without its query, followed by `?<SAS redacted>`.
///
/// ```
/// use azureml_pipelines_runtime::azure::secret::SasUrl;
/// let url = SasUrl::new("https://acct.blob.core.windows.net/c?sv=2024&sig=abc");
/// assert_eq!(url.to_string(), "https://acct.blob.core.windows.net/c?<SAS redacted>");
/// assert_eq!(url.without_query(), "https://acct.blob.core.windows.net/c");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SasUrl(String);

impl SasUrl {
    /// Wraps a URL that carries a SAS token in its query.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The full URL including the SAS query. Only pass it to the blob client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL without its query string: safe to show.
    pub fn without_query(&self) -> &str {
        self.0
            .split_once('?')
            .map_or(self.0.as_str(), |(base, _)| base)
    }
}

impl fmt::Display for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.without_query())?;
        if self.0.contains('?') {
            f.write_str("?<SAS redacted>")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasUrl({self})")
    }
}

impl<'de> Deserialize<'de> for SasUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SasUrl)
    }
}

/// Removes the query string of a URL for messages and logs (queries may carry a SAS token).
pub(crate) fn url_for_display(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

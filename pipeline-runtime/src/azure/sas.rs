//! Shared access signatures (SAS) for Azure Blob Storage.
//!
//! Azure ML hands out a container-level SAS URL for snapshot uploads (`startPendingUpload`), and a
//! datastore's `listSecrets` returns a storage account key from which we sign a SAS ourselves
//! (`azure_storage_blob` has no shared-key credential).
//!
//! Every secret here lives in a type whose `Debug` and `Display` redact it: [`AccountKey`] never
//! shows the key, [`SasToken`] and [`SasUrl`] show every query parameter except `sig`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use azureml_pipelines_runtime::azure::sas::{AccountKey, ContainerSas, SasPermissions, SasUrl};
//!
//! let key = AccountKey::new("a2V5a2V5a2V5a2V5".to_owned()).unwrap();
//! let token = ContainerSas::new("myaccount", "snapshots", SystemTime::now() + Duration::from_secs(3600))
//!     .permissions(SasPermissions::UPLOAD)
//!     .sign(&key)
//!     .unwrap();
//! let url = SasUrl::for_container("https://myaccount.blob.core.windows.net", "snapshots", &token).unwrap();
//! assert!(!url.to_string().contains(token.expose()));
//! assert!(url.to_string().contains("sig=<redacted>"));
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use azure_core::http::Url;
use serde::{Deserialize, Deserializer};

use super::secret::{REDACTED, Secret, redact};
use azure_core::time::OffsetDateTime;

/// The storage service version our SAS tokens are signed for (`sv`).
///
/// Its string-to-sign is the one documented for service SAS versions 2020-12-06 and later.
pub const SAS_VERSION: &str = "2022-11-02";

/// Errors from building or parsing a SAS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SasError {
    /// The account key is not base64, as Azure's keys always are.
    #[error(
        "the storage account key is not valid base64; copy it again from the datastore secrets or the storage account's access keys"
    )]
    InvalidKey,
    /// The URL cannot be used as a container SAS URL.
    #[error("invalid SAS URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL with its `sig` redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The container or blob name cannot be signed.
    #[error("cannot sign a SAS for `{resource}`: {reason}")]
    InvalidResource {
        /// The container or blob.
        resource: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The expiry (or start) time is outside the range a SAS can carry.
    #[error("the SAS {which} time is out of range")]
    InvalidTime {
        /// `"expiry"` or `"start"`.
        which: &'static str,
    },
}

/// A storage account key (base64), as returned by a datastore's `listSecrets`.
///
/// Its `Debug` never shows the key, and it has no `Display`.
///
/// ```
/// use azureml_pipelines_runtime::azure::sas::AccountKey;
/// let key = AccountKey::new("c2VjcmV0LWtleQ==".to_owned()).unwrap();
/// assert_eq!(format!("{key:?}"), "AccountKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct AccountKey(Secret);

impl AccountKey {
    /// Wraps a base64 account key, checking that it decodes.
    pub fn new(key: String) -> Result<Self, SasError> {
        match azure_core::base64::decode(key.trim()) {
            Ok(bytes) if !bytes.is_empty() => Ok(Self(Secret::new(key.trim().to_owned()))),
            _ => Err(SasError::InvalidKey),
        }
    }

    /// The key in the form `azure_core`'s HMAC takes; for signing only.
    fn signing_key(&self) -> azure_core::credentials::Secret {
        azure_core::credentials::Secret::new(self.0.expose().to_owned())
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey({REDACTED})")
    }
}

/// The permissions a SAS grants (`sp`), written in the order the service requires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SasPermissions {
    /// `r`: read blobs and their metadata.
    pub read: bool,
    /// `a`: add blocks to append blobs.
    pub add: bool,
    /// `c`: create new blobs.
    pub create: bool,
    /// `w`: write blobs, blocks and metadata.
    pub write: bool,
    /// `d`: delete blobs.
    pub delete: bool,
    /// `l`: list blobs (container SAS only).
    pub list: bool,
}

impl SasPermissions {
    /// Read only: `r`.
    pub const READ: Self = Self {
        read: true,
        add: false,
        create: false,
        write: false,
        delete: false,
        list: false,
    };

    /// What a snapshot or data upload needs, like Azure ML's own upload SAS: read, create, write,
    /// list (`rcwl`).
    pub const UPLOAD: Self = Self {
        read: true,
        add: false,
        create: true,
        write: true,
        delete: false,
        list: true,
    };

    /// The `sp` value: `racwdl` order, letters for the granted permissions only.
    pub fn as_sp(&self) -> String {
        [
            (self.read, 'r'),
            (self.add, 'a'),
            (self.create, 'c'),
            (self.write, 'w'),
            (self.delete, 'd'),
            (self.list, 'l'),
        ]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect()
    }
}

/// A service SAS to sign for one container, or for one blob in it.
///
/// The token is scoped to what the caller asks and nothing else: no stored access policy, no IP
/// range, HTTPS only unless [`allow_http`](Self::allow_http) is called (for a local emulator).
#[derive(Clone, Debug)]
pub struct ContainerSas {
    account: String,
    container: String,
    blob: Option<String>,
    permissions: SasPermissions,
    start: Option<SystemTime>,
    expiry: SystemTime,
    allow_http: bool,
}

impl ContainerSas {
    /// A container SAS for `account`/`container` that expires at `expiry`, granting
    /// [`SasPermissions::UPLOAD`] until told otherwise.
    pub fn new(account: &str, container: &str, expiry: SystemTime) -> Self {
        Self {
            account: account.to_owned(),
            container: container.to_owned(),
            blob: None,
            permissions: SasPermissions::UPLOAD,
            start: None,
            expiry,
            allow_http: false,
        }
    }

    /// Scopes the SAS to one blob of the container (`sr=b`) instead of the whole container.
    pub fn blob(mut self, name: &str) -> Self {
        self.blob = Some(name.to_owned());
        self
    }

    /// Sets the permissions granted.
    pub fn permissions(mut self, permissions: SasPermissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// Makes the SAS valid only from `start` (by default it is valid at once).
    pub fn starts_at(mut self, start: SystemTime) -> Self {
        self.start = Some(start);
        self
    }

    /// Accepts plain `http` as well as `https` (`spr` is left out). For a local emulator only.
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Signs the SAS with the account key (HMAC-SHA256 over the service SAS string-to-sign).
    pub fn sign(&self, key: &AccountKey) -> Result<SasToken, SasError> {
        if self.account.is_empty() || self.container.is_empty() {
            return Err(SasError::InvalidResource {
                resource: format!("{}/{}", self.account, self.container),
                reason: "the account and container names must not be empty",
            });
        }
        let sp = self.permissions.as_sp();
        if sp.is_empty() {
            return Err(SasError::InvalidResource {
                resource: self.container.clone(),
                reason: "grant at least one permission",
            });
        }
        let st = self
            .start
            .map(|t| sas_time(t, "start"))
            .transpose()?
            .unwrap_or_default();
        let se = sas_time(self.expiry, "expiry")?;
        let spr = if self.allow_http { "" } else { "https" };
        let (sr, resource) = match &self.blob {
            None => ("c", format!("/blob/{}/{}", self.account, self.container)),
            Some(blob) => (
                "b",
                format!("/blob/{}/{}/{}", self.account, self.container, blob),
            ),
        };
        // Service SAS string-to-sign, version 2020-12-06 and later: sp, st, se,
        // canonicalizedResource, si, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl,
        // rsct.
        let string_to_sign = [
            sp.as_str(),
            &st,
            &se,
            &resource,
            "",
            "",
            spr,
            SAS_VERSION,
            sr,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
        .join("\n");
        let sig = azure_core::hmac::hmac_sha256(&string_to_sign, &key.signing_key())
            .map_err(|_| SasError::InvalidKey)?;

        let mut query = Url::parse("http://sas.invalid/").expect("a constant URL parses");
        {
            let mut q = query.query_pairs_mut();
            q.append_pair("sv", SAS_VERSION);
            if !st.is_empty() {
                q.append_pair("st", &st);
            }
            q.append_pair("se", &se);
            q.append_pair("sr", sr);
            q.append_pair("sp", &sp);
            if !spr.is_empty() {
                q.append_pair("spr", spr);
            }
            q.append_pair("sig", &sig);
        }
        Ok(SasToken::new(query.query().unwrap_or_default()))
    }
}

/// Formats a time as a SAS wants it: UTC, whole seconds, `YYYY-MM-DDThh:mm:ssZ`.
fn sas_time(t: SystemTime, which: &'static str) -> Result<String, SasError> {
    let t = OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .map_err(|_| SasError::InvalidTime { which })?;
    if !(1970..=9999).contains(&t.year()) {
        return Err(SasError::InvalidTime { which });
    }
    Ok(azure_core::time::to_rfc3339(&t))
}

/// A signed SAS query string (`sv=…&se=…&sig=…`), without the leading `?`.
///
/// `Debug` and `Display` show it with `sig=<redacted>`.
#[derive(Clone)]
pub struct SasToken(Secret);

impl SasToken {
    /// Wraps a SAS query string (with or without a leading `?`), e.g. a datastore's `sasToken`.
    pub fn new(query: &str) -> Self {
        let query = query.trim_start_matches('?');
        register_sigs(query);
        Self(Secret::unregistered(query.to_owned()))
    }

    /// The full query string, signature included. Only for putting on the wire.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasToken({})", redact_query(self.expose()))
    }
}

impl fmt::Display for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_query(self.expose()))
    }
}

/// A container URL carrying a SAS in its query, such as Azure ML's `sasUri` from
/// `startPendingUpload`.
///
/// `Debug` and `Display` show the URL with `sig=<redacted>`; [`container_url`](Self::container_url)
/// gives it without any query.
#[derive(Clone, PartialEq, Eq)]
pub struct SasUrl {
    url: Url,
}

impl SasUrl {
    /// Parses a container SAS URL (`https://acct.blob.core.windows.net/container?sv=…&sig=…`).
    ///
    /// The URL must be `http` or `https`, name a container, and carry a `sig`.
    pub fn parse(url: &str) -> Result<Self, SasError> {
        let invalid = |reason: &str| SasError::InvalidUrl {
            url: redact_url_str(url),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("expected an http or https URL"));
        }
        if parsed.cannot_be_a_base() || parsed.path().trim_matches('/').is_empty() {
            return Err(invalid("the URL names no container"));
        }
        if !parsed.query_pairs().any(|(k, _)| k == "sig") {
            return Err(invalid(
                "the URL carries no SAS signature (`sig`); ask for a new upload URL or sign one with the account key",
            ));
        }
        // The signature, as sent and decoded, is what must never be shown.
        for (_, sig) in parsed.query_pairs().filter(|(k, _)| k == "sig") {
            super::secret::register(&sig);
        }
        register_sigs(parsed.query().unwrap_or_default());
        let mut url = parsed;
        // A trailing slash would end up inside blob names.
        if url.path().ends_with('/') {
            let path = url.path().trim_end_matches('/').to_owned();
            url.set_path(&path);
        }
        Ok(Self { url })
    }

    /// Builds the SAS URL of `container` under a blob service endpoint
    /// (`https://{account}.blob.core.windows.net`, or Azurite's `http://127.0.0.1:{port}/{account}`).
    pub fn for_container(
        blob_endpoint: &str,
        container: &str,
        token: &SasToken,
    ) -> Result<Self, SasError> {
        let invalid = |reason: &str| SasError::InvalidUrl {
            url: blob_endpoint.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(blob_endpoint.trim()).map_err(|e| invalid(&e.to_string()))?;
        if url.query().is_some() {
            return Err(invalid("the blob endpoint must not carry a query"));
        }
        if container.is_empty() || container.contains('/') {
            return Err(invalid(
                "the container name must be one non-empty path segment",
            ));
        }
        url.path_segments_mut()
            .map_err(|()| invalid("the endpoint cannot be a base URL"))?
            .pop_if_empty()
            .push(container);
        url.set_query(Some(token.expose()));
        Self::parse(url.as_str())
    }

    /// The container URL without the SAS: safe to show and log.
    pub fn container_url(&self) -> Url {
        let mut url = self.url.clone();
        url.set_query(None);
        url
    }

    /// The container name (last path segment).
    pub fn container(&self) -> &str {
        self.url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or_default()
    }

    /// The URL of blob `name` in this container, SAS included, each `/`-separated part of the
    /// name percent-encoded. Secret: only for putting on the wire.
    pub fn expose_blob_url(&self, name: &str) -> Url {
        let mut url = self.url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(name.split('/'));
        }
        url
    }

    /// The whole URL, SAS included. Secret: only for putting on the wire.
    pub fn expose_url(&self) -> &Url {
        &self.url
    }

    /// The whole URL as text, SAS included. Secret: only for putting on the wire.
    pub fn expose(&self) -> &str {
        self.url.as_str()
    }
}

impl<'de> Deserialize<'de> for SasUrl {
    /// Reads a SAS URL from a string (e.g. `startPendingUpload`'s `sasUri`); the signature is
    /// registered as a live secret.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl FromStr for SasUrl {
    type Err = SasError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasUrl({})", redact_url_str(self.url.as_str()))
    }
}

impl fmt::Display for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url_str(self.url.as_str()))
    }
}

/// Registers the `sig` values of a query string as live secrets (the rest of a SAS is not secret,
/// and `Display` shows it).
fn register_sigs(query: &str) {
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && k.eq_ignore_ascii_case("sig")
        {
            super::secret::register(v);
        }
    }
}

/// Replaces the value of every `sig` parameter of a query string with [`REDACTED`].
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("sig") => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Redacts a URL, or any text that may hold URLs (an error message from the HTTP stack): see
/// [`redact`].
pub(crate) fn redact_url_str(text: &str) -> String {
    redact(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    #[test]
    fn permissions_are_written_in_service_order() {
        let p = SasPermissions {
            list: true,
            write: true,
            read: true,
            ..Default::default()
        };
        assert_eq!(p.as_sp(), "rwl");
        assert_eq!(SasPermissions::UPLOAD.as_sp(), "rcwl");
    }

    #[test]
    fn signature_matches_the_documented_string_to_sign() {
        // The signature must be the HMAC of exactly the documented string-to-sign; that the
        // service accepts it is checked against Azurite in `tests/blob_sas.rs`.
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
        let token = ContainerSas::new("devstoreaccount1", "snapshots", expiry)
            .sign(&AccountKey::new(KEY.to_owned()).unwrap())
            .unwrap();
        let string_to_sign = "rcwl\n\n2030-01-01T00:00:00Z\n/blob/devstoreaccount1/snapshots\n\n\nhttps\n2022-11-02\nc\n\n\n\n\n\n\n";
        let sig = azure_core::hmac::hmac_sha256(
            string_to_sign,
            &azure_core::credentials::Secret::new(KEY),
        )
        .unwrap();
        let query: Vec<(String, String)> = Url::parse(&format!("http://x/?{}", token.expose()))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("sv"), Some(SAS_VERSION));
        assert_eq!(get("se"), Some("2030-01-01T00:00:00Z"));
        assert_eq!(get("sr"), Some("c"));
        assert_eq!(get("sp"), Some("rcwl"));
        assert_eq!(get("spr"), Some("https"));
        assert_eq!(get("st"), None);
        assert_eq!(get("sig"), Some(sig.as_str()));
    }

    #[test]
    fn blob_sas_signs_the_blob_resource() {
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000);
        let key = AccountKey::new(KEY.to_owned()).unwrap();
        let c = ContainerSas::new("a", "c", expiry).sign(&key).unwrap();
        let b = ContainerSas::new("a", "c", expiry)
            .blob("x/y.txt")
            .sign(&key)
            .unwrap();
        assert!(b.expose().contains("sr=b"));
        assert_ne!(c.expose(), b.expose());
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let err = AccountKey::new("not base64 !!".to_owned()).unwrap_err();
        assert!(!err.to_string().contains("not base64 !!"));
        assert!(AccountKey::new(String::new()).is_err());
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let key = AccountKey::new(KEY.to_owned()).unwrap();
        assert!(!format!("{key:?}").contains(KEY));
        let token = ContainerSas::new("acct", "c", SystemTime::now() + Duration::from_secs(60))
            .allow_http()
            .sign(&key)
            .unwrap();
        let sig = token
            .expose()
            .split('&')
            .find_map(|p| p.strip_prefix("sig="))
            .unwrap()
            .to_owned();
        let url = SasUrl::for_container("http://127.0.0.1:10000/acct", "c", &token).unwrap();
        for shown in [
            format!("{token}"),
            format!("{token:?}"),
            format!("{url}"),
            format!("{url:?}"),
            url.container_url().to_string(),
        ] {
            assert!(!shown.contains(&sig), "{shown}");
            assert!(!shown.contains(KEY), "{shown}");
        }
        assert!(format!("{url}").contains("sig=<redacted>"));
        assert_eq!(url.container(), "c");
        assert_eq!(
            url.container_url().as_str(),
            "http://127.0.0.1:10000/acct/c"
        );
    }

    #[test]
    fn sas_urls_are_checked() {
        assert!(SasUrl::parse("https://a.blob.core.windows.net/c?sv=1&sig=abc").is_ok());
        let no_sig = SasUrl::parse("https://a.blob.core.windows.net/c?sv=1").unwrap_err();
        assert!(no_sig.to_string().contains("no SAS signature"));
        assert!(SasUrl::parse("https://a.blob.core.windows.net/?sig=x").is_err());
        assert!(SasUrl::parse("ftp://a/c?sig=x").is_err());
        let err = SasUrl::parse("ftp://a/c?sig=s3cr3t").unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
        let url = SasUrl::parse("https://a.blob.core.windows.net/c/?sig=x").unwrap();
        assert_eq!(
            url.expose_blob_url("src/ü b.py").path(),
            "/c/src/%C3%BC%20b.py"
        );
    }

    #[test]
    fn redaction_finds_sig_inside_error_text() {
        let text =
            "error sending request for url (http://h/c/b?sv=1&SIG=abc%2Bdef&sp=r): reset; sig=zzz";
        let red = redact_url_str(text);
        assert!(!red.contains("abc%2Bdef"));
        assert!(!red.contains("zzz"));
        assert!(red.contains("sp=r"));
        // `sig=` not at a parameter boundary is left alone.
        assert_eq!(redact_url_str("design=1"), "design=1");
    }
}

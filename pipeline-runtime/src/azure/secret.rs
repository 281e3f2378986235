//! Values that must never be shown: access tokens, account keys, client secrets, SAS signatures.
//!
//! There is one secret type, [`Secret`], and one SAS URL type, [`SasUrl`] (defined in
//! [`super::sas`], re-exported here). Both show [`REDACTED`] in place of the secret in `Debug` and
//! `Display`; the value itself is reached only through an explicit `expose`, which makes every use
//! easy to audit.
//!
//! Text that did not come from us (an error message of the service, an error of the HTTP stack)
//! may quote a secret anyway: a 400 that echoes a SAS URL or the `Authorization` header. Every
//! [`Secret`] therefore registers its value in a process-wide list of live secrets, and
//! [`redact`] removes from any text every registered value, every SAS signature (`sig=…`), every
//! bearer token and every JSON Web Token. Errors built from service text pass it through
//! [`redact`] before they are kept, so no error or log line can carry a secret this process holds.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Deserializer};

pub use super::sas::SasUrl;

/// What replaces a secret wherever one would be shown.
pub const REDACTED: &str = "<redacted>";

/// Shorter values are not registered: they would redact ordinary words.
const MIN_REGISTERED_LEN: usize = 8;

fn live() -> &'static Mutex<BTreeSet<String>> {
    static LIVE: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(BTreeSet::new()))
}

/// Adds a value to the process-wide list of secrets that [`redact`] removes from text.
///
/// [`Secret::new`] calls this; call it for a secret held in another type (e.g. a client secret
/// handed straight to `azure_identity`).
pub fn register(value: &str) {
    let value = value.trim();
    if value.len() < MIN_REGISTERED_LEN {
        return;
    }
    let mut live = live().lock().unwrap_or_else(|e| e.into_inner());
    if !live.contains(value) {
        live.insert(value.to_owned());
    }
}

/// A secret string (token, key, password). `Debug` and `Display` print [`REDACTED`].
///
/// Creating one registers its value, so [`redact`] removes it from any text.
///
/// ```
/// use azureml_pipelines_runtime::azure::secret::{Secret, redact};
/// let key = Secret::new("hunter2-hunter2");
/// assert_eq!(format!("{key} {key:?}"), "<redacted> Secret(<redacted>)");
/// assert_eq!(key.expose(), "hunter2-hunter2");
/// assert_eq!(redact("the key hunter2-hunter2 is wrong"), "the key <redacted> is wrong");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value and registers it for [`redact`].
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Self(value)
    }

    /// Wraps a value whose secret parts the caller registers itself (a SAS query string: only its
    /// `sig` is secret, and the rest must stay readable in messages).
    pub(crate) fn unregistered(value: String) -> Self {
        Self(value)
    }

    /// The secret value itself. Only pass it to the place that needs it (a header, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// Removes every secret from `text`: every value registered by [`Secret::new`] or [`register`],
/// the value of every `sig=` parameter, the token after `Bearer `, and anything shaped like a JSON
/// Web Token (`eyJ….….…`).
///
/// ```
/// use azureml_pipelines_runtime::azure::secret::redact;
/// let said = "bad url https://a.blob.core.windows.net/c?sv=1&sig=abc%2B; Authorization: Bearer xyz.1";
/// assert_eq!(
///     redact(said),
///     "bad url https://a.blob.core.windows.net/c?sv=1&sig=<redacted>; Authorization: Bearer <redacted>"
/// );
/// ```
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    {
        let live = live().lock().unwrap_or_else(|e| e.into_inner());
        for secret in live.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
    }
    let out = redact_after(&out, "sig=", |c| {
        c == '&' || c == '#' || c.is_whitespace() || "\"',;<>)]}".contains(c)
    });
    let out = redact_after(&out, "bearer ", |c| {
        c.is_whitespace() || "\"',;<>)]}".contains(c)
    });
    redact_jwts(&out)
}

/// Replaces the value after each `marker` (case-insensitive, not inside a longer word) up to the
/// first character for which `ends` holds.
fn redact_after(text: &str, marker: &str, ends: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = find_marker(rest, marker) {
        let value_start = i + marker.len();
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let end = value.find(&ends).unwrap_or(value.len());
        if end > 0 && &value[..end] != REDACTED {
            out.push_str(REDACTED);
        } else {
            out.push_str(&value[..end]);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// Where the next `marker` (ASCII, case-insensitive, not preceded by a letter, digit or `_`)
/// begins.
fn find_marker(text: &str, marker: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let m = marker.as_bytes();
    let mut at = 0;
    while at + m.len() <= bytes.len() {
        if bytes[at..at + m.len()].eq_ignore_ascii_case(m)
            && (at == 0 || !matches!(bytes[at - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_'))
        {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Replaces JSON Web Tokens (`eyJ` + base64url, three dot-separated parts) with [`REDACTED`].
fn redact_jwts(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        let candidate = &rest[i..];
        let end = candidate
            .find(|c: char| !(is_b64(c) || c == '.'))
            .unwrap_or(candidate.len());
        let token = &candidate[..end];
        let parts = token.split('.').filter(|p| !p.is_empty()).count();
        out.push_str(&rest[..i]);
        if parts >= 2 && token.len() >= 20 {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// Removes the query string of a URL for messages and logs (queries may carry a SAS token).
pub(crate) fn url_for_display(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_sigs_bearers_and_jwts_are_removed() {
        let key = Secret::new("account-key-Zm9vYmFy");
        let text = format!(
            "key {} url http://h/c/b?sv=1&SIG=abc%2Bdef&sp=r; \"Authorization\": \"Bearer t0k.en\"; \
             jwt eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl end",
            key.expose()
        );
        let red = redact(&text);
        for leaked in ["account-key-Zm9vYmFy", "abc%2Bdef", "t0k.en", "eyJhbGciOi"] {
            assert!(!red.contains(leaked), "{red}");
        }
        assert!(red.contains("sp=r"), "{red}");
        assert!(red.ends_with(" end"), "{red}");
        // Markers inside longer words, and short values, are left alone.
        assert_eq!(redact("design=1 eyJ"), "design=1 eyJ");
        Secret::new("short");
        assert_eq!(redact("a short word"), "a short word");
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let once = redact("x?sig=abc Bearer zzz");
        assert_eq!(redact(&once), once);
    }
}

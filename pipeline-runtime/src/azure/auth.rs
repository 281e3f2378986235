//! Credentials and access tokens.
//!
//! [`Credential::default_chain`] tries, in order, the sources a person or a CI job usually has:
//! a service principal from `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` / `AZURE_TENANT_ID`,
//! workload identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity, and the Azure CLI's
//! login. The first one that hands out a token wins and is used from then on; when none works the
//! error lists every source with what went wrong (not configured, connection refused, host not
//! found, no answer in time, 401 ...) and how to fix it. `AZUREML_TEST_TOKEN`, when set,
//! short-cuts the chain with a fixed token (for tests against a fake server).
//!
//! Every wait is bounded: each source gets [`DEFAULT_CREDENTIAL_TIMEOUT`] (8 s,
//! `AZUREML_CREDENTIAL_TIMEOUT` in seconds; the managed identity probe 5 s) and is not retried by
//! `azure_identity`, so the whole chain fails within about 30 s. The chain runs once per
//! [`Credential`]: concurrent requests wait for the one run and share its outcome, a failure
//! included, and [`Credential::default_chain`] hands out one shared credential per process.
//! `AZURE_AUTHORITY_HOST` (read from the same environment) points the service principal and
//! workload identity at another Entra ID host.
//!
//! Tokens are cached per scope and fetched again five minutes before they expire
//! ([`Credential::token`]). Two scopes are used: [`ARM_SCOPE`] for the control plane and
//! [`AML_SCOPE`] for the Azure ML data plane (sent as `x-azureml-token` on pipeline job PUTs and as
//! the bearer token for run history).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::OffsetDateTime;
use azure_identity::{
    AzureCliCredential, ClientSecretCredential, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use tokio::sync::Mutex;

use super::config::{Env, ProcessEnv};
use super::secret::Secret;

/// OAuth2 scope of Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// OAuth2 scope of Azure Resource Manager as the v1 SDK asks for it (the resource
/// `https://management.core.windows.net/`, trailing slash kept): the audience of tokens for the
/// v1 pipelines service.
pub const LEGACY_ARM_SCOPE: &str = "https://management.core.windows.net//.default";
/// OAuth2 scope of the Azure ML data plane (`https://ml.azure.com/`).
pub const AML_SCOPE: &str = "https://ml.azure.com/.default";
/// Environment variable holding a fixed token for tests; when set it replaces the chain.
pub const ENV_TEST_TOKEN: &str = "AZUREML_TEST_TOKEN";

/// How long before expiry a cached token is replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long the managed identity endpoint may take before the chain moves on.
const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(5);
/// How long one credential may take to hand out a token, unless `AZUREML_CREDENTIAL_TIMEOUT`
/// says otherwise.
pub const DEFAULT_CREDENTIAL_TIMEOUT: Duration = Duration::from_secs(8);
/// Variable: how long one credential may take to hand out a token, in seconds.
pub const ENV_CREDENTIAL_TIMEOUT: &str = "AZUREML_CREDENTIAL_TIMEOUT";

/// Why no token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// Every source of the chain failed.
    #[error("no Azure credential worked; tried:{}", format_attempts(attempts))]
    NoCredential {
        /// One entry per source, in the order tried.
        attempts: Vec<CredentialAttempt>,
    },
    /// The credential that worked before failed now.
    #[error("getting an access token for `{scope}` from {credential} failed: {message}; {fix}")]
    Token {
        /// The credential's name.
        credential: &'static str,
        /// The scope asked for.
        scope: String,
        /// What the credential reported.
        message: String,
        /// What to do about it.
        fix: &'static str,
    },
    /// A bearer token would go to a non-loopback host over plain http.
    #[error(
        "refusing to send an access token over plain http to `{host}`; use https (plain http is \
         allowed only for loopback test servers)"
    )]
    InsecureEndpoint {
        /// The host that was refused.
        host: String,
    },
}

/// One source of a credential chain that did not work.
#[derive(Debug, Clone)]
pub struct CredentialAttempt {
    /// The source, e.g. `Azure CLI`.
    pub credential: &'static str,
    /// What went wrong.
    pub error: String,
    /// How to make this source work.
    pub fix: &'static str,
}

fn format_attempts(attempts: &[CredentialAttempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("\n  - {}: {} (fix: {})", a.credential, a.error, a.fix))
        .collect()
}

/// A source of tokens the default chain can try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// Service principal from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    EnvironmentServicePrincipal,
    /// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`, as set on AKS and in CI).
    WorkloadIdentity,
    /// The managed identity of the Azure VM / App Service this runs on (`AZURE_CLIENT_ID`
    /// selects a user-assigned identity).
    ManagedIdentity,
    /// The account signed in with `az login`.
    AzureCli,
}

impl CredentialSource {
    /// Every source, in the default order.
    pub const DEFAULT_ORDER: [CredentialSource; 4] = [
        Self::EnvironmentServicePrincipal,
        Self::WorkloadIdentity,
        Self::ManagedIdentity,
        Self::AzureCli,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::EnvironmentServicePrincipal => "service principal (environment)",
            Self::WorkloadIdentity => "workload identity",
            Self::ManagedIdentity => "managed identity",
            Self::AzureCli => "Azure CLI",
        }
    }

    fn fix(self) -> &'static str {
        match self {
            Self::EnvironmentServicePrincipal => {
                "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to a service principal's values"
            }
            Self::WorkloadIdentity => {
                "set AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID (set for you on AKS with workload identity and by federated CI logins)"
            }
            Self::ManagedIdentity => {
                "run on an Azure VM, compute instance or App Service with a managed identity that has access to the workspace"
            }
            Self::AzureCli => "install the Azure CLI and run `az login`",
        }
    }

    /// Builds the credential, or says why it cannot be built from this environment.
    fn build(self, env: &dyn Env) -> Result<Arc<dyn TokenCredential>, String> {
        super::tls::install();
        let need = |key: &str| {
            env.var(key)
                .ok_or_else(|| format!("not configured: {key} is not set"))
        };
        match self {
            Self::EnvironmentServicePrincipal => {
                let tenant = need("AZURE_TENANT_ID")?;
                let client = need("AZURE_CLIENT_ID")?;
                let secret = need("AZURE_CLIENT_SECRET")?;
                super::secret::register(&secret);
                ClientSecretCredential::new(
                    &tenant,
                    client,
                    azure_core::credentials::Secret::new(secret),
                    Some(azure_identity::ClientSecretCredentialOptions {
                        client_options: identity_client_options(env)?,
                    }),
                )
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| e.to_string())
            }
            Self::WorkloadIdentity => {
                let file = need("AZURE_FEDERATED_TOKEN_FILE")?;
                let client = need("AZURE_CLIENT_ID")?;
                let tenant = need("AZURE_TENANT_ID")?;
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: azure_identity::ClientAssertionCredentialOptions {
                        client_options: identity_client_options(env)?,
                    },
                    client_id: Some(client),
                    tenant_id: Some(tenant),
                    token_file_path: Some(file.into()),
                }))
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| e.to_string())
            }
            Self::ManagedIdentity => {
                let options = ManagedIdentityCredentialOptions {
                    user_assigned_id: env.var("AZURE_CLIENT_ID").map(UserAssignedId::ClientId),
                    ..Default::default()
                };
                ManagedIdentityCredential::new(Some(options))
                    .map(|c| c as Arc<dyn TokenCredential>)
                    .map_err(|e| e.to_string())
            }
            Self::AzureCli => AzureCliCredential::new(None)
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Pipeline options for `azure_identity` credentials: no retries of their own (the chain bounds
/// each source, and a refused connection is reported at once), and `AZURE_AUTHORITY_HOST` from
/// `env` when set.
fn identity_client_options(env: &dyn Env) -> Result<azure_core::http::ClientOptions, String> {
    let mut options = azure_core::http::ClientOptions {
        retry: azure_core::http::RetryOptions::none(),
        ..Default::default()
    };
    if let Some(host) = env.var("AZURE_AUTHORITY_HOST") {
        if !host.starts_with("https://") {
            return Err(format!(
                "AZURE_AUTHORITY_HOST must be an https URL, not `{host}`"
            ));
        }
        let mut custom = azure_core::cloud::CustomConfiguration::default();
        custom.authority_host = host;
        options.cloud = Some(Arc::new(custom.into()));
    }
    Ok(options)
}

/// How long one credential may take, from `AZUREML_CREDENTIAL_TIMEOUT` in `env`.
fn credential_timeout(env: &dyn Env) -> Duration {
    env.var(ENV_CREDENTIAL_TIMEOUT)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_CREDENTIAL_TIMEOUT)
}

/// Asks `credential` for a token within `limit`; a failure is described the way a person says it
/// (connection refused, host not found, no answer within 8 s), without secrets.
async fn bounded_token(
    credential: &dyn TokenCredential,
    scope: &str,
    limit: Duration,
) -> Result<AccessToken, String> {
    match tokio::time::timeout(limit, credential.get_token(&[scope], None)).await {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(e)) => Err(describe_credential_error(&e)),
        Err(_) => Err(format!("no answer within {}", super::arm::seconds(limit))),
    }
}

fn describe_credential_error(error: &azure_core::Error) -> String {
    let text = super::arm::describe_transport_error(error);
    let lower = text.to_ascii_lowercase();
    let status = ["401", "400", "403"].into_iter().find(|s| {
        lower.contains(&format!("status code {s}")) || lower.contains(&format!("{s} unauthorized"))
    });
    let status = status.or_else(|| {
        (lower.contains("aadsts7000215") || lower.contains("invalid_client")).then_some("401")
    });
    match status {
        Some(s) if !text.starts_with(s) => format!("{s}: {text}"),
        _ => text,
    }
}

/// A fixed token, for tests against a fake server (`AZUREML_TEST_TOKEN`).
///
/// Every call returns the same token, valid for `lifetime` from the moment of the call.
pub struct StaticTokenCredential {
    token: Secret,
    lifetime: Duration,
}

impl StaticTokenCredential {
    /// A credential that always hands out `token`, valid for an hour.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: Secret::new(token),
            lifetime: Duration::from_secs(3600),
        }
    }

    /// Sets how long each handed-out token claims to be valid.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

impl fmt::Debug for StaticTokenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokenCredential")
            .field("token", &self.token)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticTokenCredential {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken::new(
            self.token.expose().to_owned(),
            OffsetDateTime::now_utc() + self.lifetime,
        ))
    }
}

/// Where tokens come from: one credential (or the chosen member of a chain) plus a per-scope
/// cache. Cheap to clone.
#[derive(Clone)]
pub struct Credential {
    inner: Arc<CredentialInner>,
    refresh_margin: Duration,
    timeout: Duration,
}

struct CredentialInner {
    source: Source,
    cache: Mutex<HashMap<String, AccessToken>>,
}

/// A chain member: the source and the credential built from it, or why it could not be built.
type Candidate = (CredentialSource, Result<Arc<dyn TokenCredential>, String>);
/// What running the chain found.
type ChainOutcome = Result<(CredentialSource, Arc<dyn TokenCredential>), AuthError>;

enum Source {
    Single {
        name: &'static str,
        credential: Arc<dyn TokenCredential>,
    },
    Chain {
        candidates: Vec<Candidate>,
        /// The outcome of the one run of the chain: the source that worked, or why none did.
        chosen: Mutex<Option<ChainOutcome>>,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.inner.source {
            Source::Single { name, .. } => (*name).to_owned(),
            Source::Chain { candidates, .. } => format!(
                "chain[{}]",
                candidates
                    .iter()
                    .map(|(s, _)| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        f.debug_struct("Credential")
            .field("source", &source)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The default chain built from the process environment (see the module docs). Every call
    /// in a process returns the same credential, so the chain runs once per process.
    pub fn default_chain() -> Self {
        static SHARED: std::sync::OnceLock<Credential> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| Self::chain_from_env(&CredentialSource::DEFAULT_ORDER, &ProcessEnv))
            .clone()
    }

    /// A chain of the given sources, reading variables from `env`. When `env` has
    /// `AZUREML_TEST_TOKEN`, that fixed token is used instead.
    pub fn chain_from_env(sources: &[CredentialSource], env: &dyn Env) -> Self {
        let timeout = credential_timeout(env);
        if let Some(token) = env.var(ENV_TEST_TOKEN) {
            return Self::from_token_credential(
                "AZUREML_TEST_TOKEN",
                Arc::new(StaticTokenCredential::new(token)),
            )
            .with_timeout(timeout);
        }
        let candidates = sources.iter().map(|&s| (s, s.build(env))).collect();
        Self::with_source(Source::Chain {
            candidates,
            chosen: Mutex::new(None),
        })
        .with_timeout(timeout)
    }

    /// Wraps any `azure_core` credential (e.g. one configured by hand from `azure_identity`).
    pub fn from_token_credential(name: &'static str, credential: Arc<dyn TokenCredential>) -> Self {
        Self::with_source(Source::Single { name, credential })
    }

    /// A fixed token (tests).
    pub fn from_static_token(token: impl Into<String>) -> Self {
        Self::from_token_credential("static token", Arc::new(StaticTokenCredential::new(token)))
    }

    fn with_source(source: Source) -> Self {
        Self {
            inner: Arc::new(CredentialInner {
                source,
                cache: Mutex::new(HashMap::new()),
            }),
            refresh_margin: REFRESH_MARGIN,
            timeout: DEFAULT_CREDENTIAL_TIMEOUT,
        }
    }

    /// Sets how long one credential may take to hand out a token (default 8 s, or
    /// `AZUREML_CREDENTIAL_TIMEOUT` for a chain built from the environment).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long before expiry a cached token is replaced (default five minutes).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// A token for `scope`, from the cache while it is valid for longer than the refresh margin.
    pub async fn token(&self, scope: &str) -> Result<Secret, AuthError> {
        let mut cache = self.inner.cache.lock().await;
        if let Some(cached) = cache.get(scope) {
            let left = cached.expires_on - OffsetDateTime::now_utc();
            if left > self.refresh_margin {
                return Ok(Secret::new(cached.token.secret()));
            }
            tracing::debug!(scope, "access token close to expiry; fetching a new one");
        }
        let fresh = self.fetch(scope).await?;
        let token = Secret::new(fresh.token.secret());
        cache.insert(scope.to_owned(), fresh);
        Ok(token)
    }

    /// Forgets cached tokens, e.g. after the service rejected one.
    pub async fn invalidate(&self) {
        self.inner.cache.lock().await.clear();
    }

    async fn fetch(&self, scope: &str) -> Result<AccessToken, AuthError> {
        match &self.inner.source {
            Source::Single { name, credential } => {
                bounded_token(credential.as_ref(), scope, self.timeout)
                    .await
                    .map_err(|message| AuthError::Token {
                        credential: name,
                        scope: scope.to_owned(),
                        message,
                        fix: "check the credential's configuration",
                    })
            }
            Source::Chain { candidates, chosen } => {
                // Held while the chain runs: concurrent callers wait for this run's outcome.
                let mut chosen = chosen.lock().await;
                match chosen.as_ref() {
                    Some(Ok((source, credential))) => {
                        return bounded_token(credential.as_ref(), scope, self.timeout)
                            .await
                            .map_err(|message| AuthError::Token {
                                credential: source.name(),
                                scope: scope.to_owned(),
                                message,
                                fix: source.fix(),
                            });
                    }
                    Some(Err(e)) => return Err(e.clone()),
                    None => {}
                }
                let mut attempts = Vec::new();
                for (source, built) in candidates {
                    let credential = match built {
                        Ok(c) => c,
                        Err(error) => {
                            attempts.push(CredentialAttempt {
                                credential: source.name(),
                                error: error.clone(),
                                fix: source.fix(),
                            });
                            continue;
                        }
                    };
                    let limit = if *source == CredentialSource::ManagedIdentity {
                        MANAGED_IDENTITY_PROBE.min(self.timeout)
                    } else {
                        self.timeout
                    };
                    tracing::debug!(credential = source.name(), "trying Azure credential");
                    match bounded_token(credential.as_ref(), scope, limit).await {
                        Ok(token) => {
                            tracing::info!(credential = source.name(), "using Azure credential");
                            *chosen = Some(Ok((*source, credential.clone())));
                            return Ok(token);
                        }
                        Err(error) => attempts.push(CredentialAttempt {
                            credential: source.name(),
                            error,
                            fix: source.fix(),
                        }),
                    }
                }
                let error = AuthError::NoCredential { attempts };
                *chosen = Some(Err(error.clone()));
                Err(error)
            }
        }
    }
}

/// Checks that a bearer token may be sent to `url`: https anywhere, plain http only to a loopback
/// host (`localhost`, `127.0.0.0/8`, `[::1]`) so tests can use a fake server without TLS.
pub fn check_token_destination(url: &azure_core::http::Url) -> Result<(), AuthError> {
    if url.scheme() == "https" {
        return Ok(());
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if loopback {
        Ok(())
    } else {
        Err(AuthError::InsecureEndpoint {
            host: url.host_str().unwrap_or_default().to_owned(),
        })
    }
}

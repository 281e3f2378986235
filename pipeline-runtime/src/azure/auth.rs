//! Credentials and access tokens.
//!
//! [`Credential::default_chain`] tries, in order, the sources a person or a CI job usually has:
//! a service principal from `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` / `AZURE_TENANT_ID`,
//! workload identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity, and the Azure CLI's
//! login. The first one that hands out a token wins and is used from then on; when none works the
//! error lists every source with what went wrong and how to fix it. `AZUREML_TEST_TOKEN`, when set,
//! short-cuts the chain with a fixed token (for tests against a fake server).
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
/// OAuth2 scope of the Azure ML data plane (`https://ml.azure.com/`).
pub const AML_SCOPE: &str = "https://ml.azure.com/.default";
/// Environment variable holding a fixed token for tests; when set it replaces the chain.
pub const ENV_TEST_TOKEN: &str = "AZUREML_TEST_TOKEN";

/// How long before expiry a cached token is replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long the managed identity endpoint may take before the chain moves on.
const MANAGED_IDENTITY_PROBE: Duration = Duration::from_secs(5);

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
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
        let need = |key: &str| env.var(key).ok_or_else(|| format!("{key} is not set"));
        match self {
            Self::EnvironmentServicePrincipal => {
                let tenant = need("AZURE_TENANT_ID")?;
                let client = need("AZURE_CLIENT_ID")?;
                let secret = need("AZURE_CLIENT_SECRET")?;
                ClientSecretCredential::new(
                    &tenant,
                    client,
                    azure_core::credentials::Secret::new(secret),
                    None,
                )
                .map(|c| c as Arc<dyn TokenCredential>)
                .map_err(|e| e.to_string())
            }
            Self::WorkloadIdentity => {
                let file = need("AZURE_FEDERATED_TOKEN_FILE")?;
                let client = need("AZURE_CLIENT_ID")?;
                let tenant = need("AZURE_TENANT_ID")?;
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    client_id: Some(client),
                    tenant_id: Some(tenant),
                    token_file_path: Some(file.into()),
                    ..Default::default()
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
}

struct CredentialInner {
    source: Source,
    cache: Mutex<HashMap<String, AccessToken>>,
}

/// A chain member: the source and the credential built from it, or why it could not be built.
type Candidate = (CredentialSource, Result<Arc<dyn TokenCredential>, String>);

enum Source {
    Single {
        name: &'static str,
        credential: Arc<dyn TokenCredential>,
    },
    Chain {
        candidates: Vec<Candidate>,
        chosen: Mutex<Option<(CredentialSource, Arc<dyn TokenCredential>)>>,
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
    /// The default chain built from the process environment (see the module docs).
    pub fn default_chain() -> Self {
        Self::chain_from_env(&CredentialSource::DEFAULT_ORDER, &ProcessEnv)
    }

    /// A chain of the given sources, reading variables from `env`. When `env` has
    /// `AZUREML_TEST_TOKEN`, that fixed token is used instead.
    pub fn chain_from_env(sources: &[CredentialSource], env: &dyn Env) -> Self {
        if let Some(token) = env.var(ENV_TEST_TOKEN) {
            return Self::from_token_credential(
                "AZUREML_TEST_TOKEN",
                Arc::new(StaticTokenCredential::new(token)),
            );
        }
        let candidates = sources.iter().map(|&s| (s, s.build(env))).collect();
        Self::with_source(Source::Chain {
            candidates,
            chosen: Mutex::new(None),
        })
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
        }
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
            Source::Single { name, credential } => credential
                .get_token(&[scope], None)
                .await
                .map_err(|e| AuthError::Token {
                    credential: name,
                    scope: scope.to_owned(),
                    message: e.to_string(),
                    fix: "check the credential's configuration",
                }),
            Source::Chain { candidates, chosen } => {
                let mut chosen = chosen.lock().await;
                if let Some((source, credential)) = chosen.as_ref() {
                    return credential.get_token(&[scope], None).await.map_err(|e| {
                        AuthError::Token {
                            credential: source.name(),
                            scope: scope.to_owned(),
                            message: e.to_string(),
                            fix: source.fix(),
                        }
                    });
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
                    let result = if *source == CredentialSource::ManagedIdentity {
                        match tokio::time::timeout(
                            MANAGED_IDENTITY_PROBE,
                            credential.get_token(&[scope], None),
                        )
                        .await
                        {
                            Ok(r) => r.map_err(|e| e.to_string()),
                            Err(_) => Err(format!(
                                "no managed identity endpoint answered within {}s",
                                MANAGED_IDENTITY_PROBE.as_secs()
                            )),
                        }
                    } else {
                        credential
                            .get_token(&[scope], None)
                            .await
                            .map_err(|e| e.to_string())
                    };
                    match result {
                        Ok(token) => {
                            tracing::info!(credential = source.name(), "using Azure credential");
                            *chosen = Some((*source, credential.clone()));
                            return Ok(token);
                        }
                        Err(error) => attempts.push(CredentialAttempt {
                            credential: source.name(),
                            error,
                            fix: source.fix(),
                        }),
                    }
                }
                Err(AuthError::NoCredential { attempts })
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

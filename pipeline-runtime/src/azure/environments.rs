//! Environments given as a container image (`environment = "docker.io/library/debian:bookworm-slim"`).
//!
//! A component's `environment` on the wire is a reference to a registered environment
//! (`azureml:…`). An image is registered first, as Microsoft's SDK does, as an anonymous
//! environment version: `PUT {WS}/environments/CliV2AnonymousEnvironment/versions/{version}`
//! with `{"properties": {"image", "isAnonymous": true, "osType": "Linux"}}`, and the component
//! names that version. The version is derived from the image (the first 32 hex digits of its
//! SHA-256; the SDK uses an MD5 of the same string), so registering it again changes nothing.
//!
//! Rust steps default to such an image (a small public Linux image: their binary needs no
//! Python), so every Rust step submission goes through here.

use azure_core::http::Method;
use serde_json::json;

use super::arm::{ArmError, ArmRequest};
use super::workspace::Workspace;

/// The environment name anonymous environment versions live under (the SDK's
/// `ANONYMOUS_ENV_NAME`).
pub const ANONYMOUS_ENVIRONMENT_NAME: &str = "CliV2AnonymousEnvironment";

/// Whether a step's `environment` is a container image rather than a reference to a registered
/// environment (`azureml:NAME@latest`, `azureml:NAME:VERSION`, `azureml:/subscriptions/…`).
pub fn is_image(environment: &str) -> bool {
    !environment.starts_with("azureml:") && !environment.starts_with("/subscriptions/")
}

/// The anonymous environment version of an image.
pub fn anonymous_version(image: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, image.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Environment operations of a [`Workspace`].
#[derive(Debug, Clone, Copy)]
pub struct Environments<'a> {
    ws: &'a Workspace,
}

impl<'a> Environments<'a> {
    /// Environment operations of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        Self { ws }
    }

    /// Registers `image` as an anonymous environment version and returns the reference a
    /// component names it by (`azureml:<ARM id of the version>`).
    ///
    /// # Errors
    ///
    /// The PUT failed (after retries).
    pub async fn register_image(self, image: &str) -> Result<String, ArmError> {
        let version = anonymous_version(image);
        let op = format!("PUT environments/{ANONYMOUS_ENVIRONMENT_NAME}/versions/{version}");
        let body = json!({
            "properties": {
                "image": image,
                "isAnonymous": true,
                "osType": "Linux",
            }
        });
        self.ws
            .arm()
            .send(
                ArmRequest::new(
                    Method::Put,
                    self.ws.url(&[
                        "environments",
                        ANONYMOUS_ENVIRONMENT_NAME,
                        "versions",
                        &version,
                    ]),
                    &op,
                )
                .api_version(&self.ws.arm().options().api_versions.environments)
                .json(body),
            )
            .await?;
        Ok(format!(
            "azureml:{}",
            self.ws.scope().resource_id(&format!(
                "environments/{ANONYMOUS_ENVIRONMENT_NAME}/versions/{version}"
            ))
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_from_references() {
        assert!(is_image("docker.io/library/debian:bookworm-slim"));
        assert!(is_image(
            "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
        ));
        assert!(!is_image("azureml:AzureML-sklearn-1.5@latest"));
        assert!(!is_image("azureml:my-env:3"));
        assert!(!is_image(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/environments/e/versions/1"
        ));
    }

    #[test]
    fn versions_follow_the_image() {
        let a = anonymous_version("docker.io/library/debian:bookworm-slim");
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            anonymous_version("docker.io/library/debian:bookworm-slim")
        );
        assert_ne!(a, anonymous_version("docker.io/library/debian:trixie-slim"));
    }
}

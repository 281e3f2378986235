//! Computes on the wire (`{WS}/computes/{name}`, reference `azureml-rest.md` §9 and §13, models
//! `ComputeResource`, `AmlCompute`, `Kubernetes`, `SynapseSpark`, `VirtualMachine`,
//! `Databricks`, `ClusterUpdateParameters` of the 2025-12-01 dump).
//!
//! `ComputeResource.properties` is discriminated by `computeType`, with the type's own fields
//! one level down in `properties.properties`. [`ComputeKind`] carries that pair typed; a kind
//! this house does not model (a compute instance, an AKS cluster) is kept as it came, so a
//! listing never fails on it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A compute (`ComputeResource`): what `PUT computes/{name}` takes and `GET` answers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComputeResource {
    /// ARM id (read-only): what a job's `computeId` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Compute name (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Region; the workspace's when created from the CLI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// The managed identity the compute's jobs run as (`ManagedServiceIdentity`): what an
    /// attached Synapse Spark pool uses to reach data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ComputeIdentity>,
    /// The compute itself.
    pub properties: ComputeProperties,
}

/// `ComputeResource.identity` (`ManagedServiceIdentity`): `{"type": "SystemAssigned"}`, or
/// `{"type": "UserAssigned", "userAssignedIdentities": {ID: {}}}`, as Microsoft's SDK sends
/// `IdentityConfiguration` for a compute.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComputeIdentity {
    /// `SystemAssigned`, `UserAssigned`, `SystemAssigned,UserAssigned` or `None`
    /// (`ManagedServiceIdentityType`).
    #[serde(rename = "type")]
    pub identity_type: String,
    /// The user-assigned identities by ARM id (the values are filled in by the service).
    #[serde(
        rename = "userAssignedIdentities",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub user_assigned_identities: Option<BTreeMap<String, Value>>,
    /// The identity's principal (read-only).
    #[serde(rename = "principalId", default, skip_serializing)]
    pub principal_id: Option<String>,
}

impl ComputeIdentity {
    /// The workspace-managed (system-assigned) identity of the compute.
    pub fn system_assigned() -> Self {
        ComputeIdentity {
            identity_type: "SystemAssigned".into(),
            user_assigned_identities: None,
            principal_id: None,
        }
    }

    /// The user-assigned identities `ids` (ARM ids of `Microsoft.ManagedIdentity` resources).
    pub fn user_assigned<I: IntoIterator<Item = String>>(ids: I) -> Self {
        ComputeIdentity {
            identity_type: "UserAssigned".into(),
            user_assigned_identities: Some(
                ids.into_iter()
                    .map(|id| (id, Value::Object(Default::default())))
                    .collect(),
            ),
            principal_id: None,
        }
    }
}

impl ComputeResource {
    /// A body for `PUT computes/{name}`.
    pub fn new(location: Option<String>, properties: ComputeProperties) -> Self {
        Self {
            id: None,
            name: None,
            location,
            tags: None,
            identity: None,
            properties,
        }
    }

    /// The name: `name`, else the last segment of `id`.
    pub fn display_name(&self) -> &str {
        match (&self.name, &self.id) {
            (Some(n), _) => n,
            (None, Some(id)) => id.rsplit('/').next().unwrap_or(id),
            (None, None) => "",
        }
    }
}

/// `ComputeResource.properties` (`Compute`): the fields every kind has, and the kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComputeProperties {
    /// `computeType` and the type's own `properties`.
    pub kind: ComputeKind,
    /// Description.
    pub description: Option<String>,
    /// ARM id of the resource an attached compute stands for.
    pub resource_id: Option<String>,
    /// Region of the underlying resource.
    pub compute_location: Option<String>,
    /// `true`: only Microsoft Entra identities can use the compute (what the SDK sends).
    pub disable_local_auth: Option<bool>,
    /// `Creating`, `Succeeded`, `Failed`, … (read-only).
    pub provisioning_state: Option<String>,
    /// Why provisioning failed (read-only).
    pub provisioning_errors: Vec<ErrorResponse>,
    /// Whether the compute was attached rather than created (read-only).
    pub is_attached_compute: Option<bool>,
    /// Creation time (read-only).
    pub created_on: Option<String>,
    /// Last change (read-only).
    pub modified_on: Option<String>,
}

/// `computeType` with the type's own properties.
#[derive(Debug, Clone, PartialEq)]
pub enum ComputeKind {
    /// A managed cluster that scales between a minimum and a maximum node count.
    AmlCompute(Option<AmlComputeProperties>),
    /// An attached Azure Arc or AKS Kubernetes cluster.
    Kubernetes(Option<KubernetesProperties>),
    /// An attached Synapse Spark pool.
    SynapseSpark(Option<SynapseSparkProperties>),
    /// An attached virtual machine reached over SSH.
    VirtualMachine(Option<VirtualMachineProperties>),
    /// An attached Azure Databricks workspace.
    Databricks(Option<DatabricksProperties>),
    /// Any other kind (`ComputeInstance`, `AKS`, `DataFactory`, …), kept as it came.
    Other {
        /// `computeType`.
        compute_type: String,
        /// Its `properties`, untouched.
        properties: Option<Value>,
    },
}

impl Default for ComputeKind {
    fn default() -> Self {
        ComputeKind::AmlCompute(None)
    }
}

impl ComputeKind {
    /// The `computeType` discriminator.
    pub fn compute_type(&self) -> &str {
        match self {
            ComputeKind::AmlCompute(_) => "AmlCompute",
            ComputeKind::Kubernetes(_) => "Kubernetes",
            ComputeKind::SynapseSpark(_) => "SynapseSpark",
            ComputeKind::VirtualMachine(_) => "VirtualMachine",
            ComputeKind::Databricks(_) => "Databricks",
            ComputeKind::Other { compute_type, .. } => compute_type,
        }
    }

    fn properties_json(&self) -> Result<Option<Value>, serde_json::Error> {
        fn opt<T: Serialize>(p: &Option<T>) -> Result<Option<Value>, serde_json::Error> {
            p.as_ref().map(serde_json::to_value).transpose()
        }
        match self {
            ComputeKind::AmlCompute(p) => opt(p),
            ComputeKind::Kubernetes(p) => opt(p),
            ComputeKind::SynapseSpark(p) => opt(p),
            ComputeKind::VirtualMachine(p) => opt(p),
            ComputeKind::Databricks(p) => opt(p),
            ComputeKind::Other { properties, .. } => Ok(properties.clone()),
        }
    }

    fn from_json(compute_type: String, properties: Option<Value>) -> Self {
        fn typed<T: serde::de::DeserializeOwned>(p: &Option<Value>) -> Option<Option<T>> {
            match p {
                None | Some(Value::Null) => Some(None),
                Some(v) => serde_json::from_value(v.clone()).ok().map(Some),
            }
        }
        let kind = match compute_type.as_str() {
            "AmlCompute" => typed(&properties).map(ComputeKind::AmlCompute),
            "Kubernetes" => typed(&properties).map(ComputeKind::Kubernetes),
            "SynapseSpark" => typed(&properties).map(ComputeKind::SynapseSpark),
            "VirtualMachine" => typed(&properties).map(ComputeKind::VirtualMachine),
            "Databricks" => typed(&properties).map(ComputeKind::Databricks),
            _ => None,
        };
        kind.unwrap_or(ComputeKind::Other {
            compute_type,
            properties,
        })
    }
}

/// The JSON form of [`ComputeProperties`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComputePropertiesJson {
    compute_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compute_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disable_local_auth: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provisioning_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provisioning_errors: Option<Vec<ErrorResponse>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_attached_compute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modified_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    properties: Option<Value>,
}

impl Serialize for ComputeProperties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let properties = self
            .kind
            .properties_json()
            .map_err(serde::ser::Error::custom)?;
        ComputePropertiesJson {
            compute_type: self.kind.compute_type().to_owned(),
            compute_location: self.compute_location.clone(),
            description: self.description.clone(),
            resource_id: self.resource_id.clone(),
            disable_local_auth: self.disable_local_auth,
            provisioning_state: self.provisioning_state.clone(),
            provisioning_errors: Some(self.provisioning_errors.clone()).filter(|e| !e.is_empty()),
            is_attached_compute: self.is_attached_compute,
            created_on: self.created_on.clone(),
            modified_on: self.modified_on.clone(),
            properties,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ComputeProperties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let j = ComputePropertiesJson::deserialize(deserializer)?;
        Ok(Self {
            kind: ComputeKind::from_json(j.compute_type, j.properties),
            description: j.description,
            resource_id: j.resource_id,
            compute_location: j.compute_location,
            disable_local_auth: j.disable_local_auth,
            provisioning_state: j.provisioning_state,
            provisioning_errors: j.provisioning_errors.unwrap_or_default(),
            is_attached_compute: j.is_attached_compute,
            created_on: j.created_on,
            modified_on: j.modified_on,
        })
    }
}

/// An ARM error body (`ErrorResponse`), as computes report provisioning errors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ErrorResponse {
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// `ErrorDetail`: code and message (nested details kept as they came).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ErrorDetail {
    /// Error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Inner errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, "{c}: {m}")?,
            (Some(c), None) => f.write_str(c)?,
            (None, Some(m)) => f.write_str(m)?,
            (None, None) => f.write_str("no message")?,
        }
        for d in &self.details {
            write!(f, "; {d}")?;
        }
        Ok(())
    }
}

/// `AmlCompute.properties` (`AmlComputeProperties`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AmlComputeProperties {
    /// VM size, e.g. `STANDARD_D2_V2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_size: Option<String>,
    /// `Dedicated` or `LowPriority`; the SDK sends it only when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_priority: Option<VmPriority>,
    /// `Linux` or `Windows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    /// `Enabled`, `Disabled` or `NotSpecified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_login_port_public_access: Option<String>,
    /// Whether nodes get a public IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_node_public_ip: Option<bool>,
    /// Scale settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_settings: Option<ScaleSettings>,
    /// `Steady` or `Resizing` (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_state: Option<String>,
    /// Nodes now (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_node_count: Option<u32>,
    /// Nodes wanted (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_node_count: Option<u32>,
    /// Nodes by state (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_state_counts: Option<NodeStateCounts>,
    /// Errors of the cluster (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ErrorResponse>>,
}

/// `vmPriority`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum VmPriority {
    /// Dedicated nodes.
    Dedicated,
    /// Low-priority nodes: cheaper, may be preempted.
    LowPriority,
}

/// `ScaleSettings`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSettings {
    /// Maximum node count (required).
    pub max_node_count: u32,
    /// Minimum node count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_node_count: Option<u32>,
    /// Idle time before a node is released, an ISO 8601 duration (`PT2M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_idle_time_before_scale_down: Option<String>,
}

/// `NodeStateCounts` (read-only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeStateCounts {
    /// Idle nodes.
    #[serde(default)]
    pub idle_node_count: u32,
    /// Nodes running a job.
    #[serde(default)]
    pub running_node_count: u32,
    /// Nodes being prepared.
    #[serde(default)]
    pub preparing_node_count: u32,
    /// Unusable nodes.
    #[serde(default)]
    pub unusable_node_count: u32,
    /// Nodes leaving.
    #[serde(default)]
    pub leaving_node_count: u32,
    /// Preempted nodes.
    #[serde(default)]
    pub preempted_node_count: u32,
}

/// `KubernetesProperties`: what attaching a cluster needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesProperties {
    /// Namespace jobs run in (`default` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Default instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_instance_type: Option<String>,
}

/// `SynapseSparkProperties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SynapseSparkProperties {
    /// Spark version (read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    /// Node count (read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_count: Option<u32>,
    /// Node size (read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_size: Option<String>,
    /// Subscription of the Synapse workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Resource group of the Synapse workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// Synapse workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_name: Option<String>,
    /// Spark pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_name: Option<String>,
}

/// `VirtualMachineSchemaProperties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineProperties {
    /// VM size (read back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_machine_size: Option<String>,
    /// SSH port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_port: Option<u16>,
    /// Host name or IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The SSH login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrator_account: Option<VirtualMachineSshCredentials>,
}

/// `VirtualMachineSshCredentials`. The password and key never show in `Debug`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VirtualMachineSshCredentials {
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<WireSecret>,
    /// Private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_data: Option<WireSecret>,
    /// Public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_data: Option<String>,
}

impl fmt::Debug for VirtualMachineSshCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualMachineSshCredentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("private_key_data", &self.private_key_data)
            .finish_non_exhaustive()
    }
}

/// `DatabricksProperties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DatabricksProperties {
    /// Access token (write-only: the service never sends it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databricks_access_token: Option<WireSecret>,
    /// `https://adb-….azuredatabricks.net`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_url: Option<String>,
}

/// A secret inside a wire body (an access token, a password). Serialized as the plain string
/// the service needs; `Debug` shows `<redacted>`. The `azure` room registers every such value
/// for redaction (`azure::secret::Secret`) before it builds one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireSecret(String);

impl WireSecret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `PATCH computes/{name}` body (`ClusterUpdateParameters`): new scale settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterUpdateParameters {
    /// `ClusterUpdateProperties`.
    pub properties: ClusterUpdateProperties,
}

/// `ClusterUpdateProperties`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterUpdateProperties {
    /// `ScaleSettingsInformation`.
    pub properties: ScaleSettingsInformation,
}

/// `ScaleSettingsInformation`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSettingsInformation {
    /// The new scale settings.
    pub scale_settings: ScaleSettings,
}

impl ClusterUpdateParameters {
    /// A resize to `min..=max` nodes, keeping the idle time.
    pub fn resize(scale_settings: ScaleSettings) -> Self {
        Self {
            properties: ClusterUpdateProperties {
                properties: ScaleSettingsInformation { scale_settings },
            },
        }
    }
}

/// Seconds as the ISO 8601 duration Azure ML takes for `nodeIdleTimeBeforeScaleDown`
/// (`120` → `PT2M`, `90` → `PT1M30S`, `0` → `PT0S`).
pub fn iso8601_seconds(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || (h == 0 && m == 0) {
        out.push_str(&format!("{s}S"));
    }
    out
}

/// An ISO 8601 duration of hours, minutes and seconds (`PT2M`, `PT1H30S`) as seconds; `None`
/// for anything else.
pub fn iso8601_to_seconds(duration: &str) -> Option<u64> {
    let rest = duration.strip_prefix("PT")?;
    let (mut total, mut number) = (0u64, String::new());
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'M' | 'S' => {
                let n: u64 = number.parse().ok()?;
                number.clear();
                let unit = match c {
                    'H' => 3600,
                    'M' => 60,
                    _ => 1,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn idle_seconds_are_iso_8601() {
        assert_eq!(iso8601_seconds(120), "PT2M");
        assert_eq!(iso8601_seconds(90), "PT1M30S");
        assert_eq!(iso8601_seconds(0), "PT0S");
        assert_eq!(iso8601_seconds(3630), "PT1H30S");
        for s in [0, 1, 59, 60, 61, 3600, 86_399] {
            assert_eq!(iso8601_to_seconds(&iso8601_seconds(s)), Some(s));
        }
        assert_eq!(iso8601_to_seconds("P1D"), None);
        assert_eq!(iso8601_to_seconds("PT5"), None);
    }

    #[test]
    fn aml_compute_body_has_the_reference_shape() {
        let body = ComputeResource::new(
            Some("eastus".into()),
            ComputeProperties {
                kind: ComputeKind::AmlCompute(Some(AmlComputeProperties {
                    vm_size: Some("STANDARD_D2_V2".into()),
                    os_type: Some("Linux".into()),
                    scale_settings: Some(ScaleSettings {
                        max_node_count: 4,
                        min_node_count: Some(0),
                        node_idle_time_before_scale_down: Some("PT2M".into()),
                    }),
                    ..Default::default()
                })),
                disable_local_auth: Some(true),
                ..Default::default()
            },
        );
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"location": "eastus", "properties": {"computeType": "AmlCompute",
                "disableLocalAuth": true, "properties": {"vmSize": "STANDARD_D2_V2",
                "osType": "Linux", "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0,
                "nodeIdleTimeBeforeScaleDown": "PT2M"}}}})
        );
    }

    #[test]
    fn unknown_kinds_are_kept_and_known_ones_typed() {
        let ci = json!({"name": "ci", "properties": {"computeType": "ComputeInstance",
            "properties": {"vmSize": "x"}}});
        let back: ComputeResource = serde_json::from_value(ci.clone()).unwrap();
        assert_eq!(back.properties.kind.compute_type(), "ComputeInstance");
        assert_eq!(serde_json::to_value(&back).unwrap(), ci);
        let aml = json!({"name": "c", "properties": {"computeType": "AmlCompute",
            "provisioningState": "Failed", "provisioningErrors": [{"error": {"code": "Quota",
            "message": "no quota"}}], "properties": {"currentNodeCount": 1}}});
        let back: ComputeResource = serde_json::from_value(aml).unwrap();
        let ComputeKind::AmlCompute(Some(p)) = &back.properties.kind else {
            panic!("not typed: {back:?}");
        };
        assert_eq!(p.current_node_count, Some(1));
        assert_eq!(
            back.properties.provisioning_errors[0]
                .error
                .as_ref()
                .unwrap()
                .to_string(),
            "Quota: no quota"
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let p = DatabricksProperties {
            databricks_access_token: Some(WireSecret::new("dapi-very-secret")),
            workspace_url: Some("https://adb-1.azuredatabricks.net".into()),
        };
        assert!(!format!("{p:?}").contains("dapi-very-secret"));
        assert_eq!(
            serde_json::to_value(&p).unwrap()["databricksAccessToken"],
            "dapi-very-secret"
        );
    }
}

//! Test support for `azureml-pipelines`: a fake Azure ML (ARM) server that speaks the subset of
//! the REST API the client uses, over real HTTP, and a harness that starts a real Azurite.

pub mod azurite;
pub mod fake_aml;
pub mod fake_computes;
pub mod fake_data;
pub mod fake_mlflow;
pub mod fake_operate;
pub mod fake_pipelines_v1;
pub mod request_log;

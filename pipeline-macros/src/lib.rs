//! The attribute macros of `azureml-pipelines`. Use them through the `azureml-pipelines` crate.

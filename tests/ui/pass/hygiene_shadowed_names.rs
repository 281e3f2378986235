//! Generated code must not depend on the names the user's scope has.
#![allow(dead_code, non_camel_case_types)]

use azureml_pipelines::prelude::*;

// Shadow the prelude names generated code could lean on.
struct Option;
struct Some;
struct None;
struct Vec;
struct String;
struct Result;
struct Ok;
struct Err;
struct Box;
mod core {}
mod std {}
mod __private {}

#[step(script = "train.py", source_dir = "steps", reuse = false, environment = "python:3.12")]
fn train(data: Data<UriFolder>, epochs: Param<i64>, name: Param<::std::string::String>) -> Data<UriFolder>;

/// A pipeline whose body uses the names the expansion uses internally.
#[pipeline(experiment = "hygiene", tags(team = "ml"))]
fn hygiene(data: Data<UriFolder>, #[default(3)] epochs: Param<i64>) -> Data<UriFolder> {
    let __call = 1;
    let __returned = __call;
    let _ = __returned;
    train(data, epochs, "x")
}

fn main() {
    let p = azureml_pipelines::build(hygiene).unwrap();
    assert_eq!(p.nodes.len(), 1);
}

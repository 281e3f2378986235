//! One environment shared by several steps through a `const`.
use azureml_pipelines::prelude::*;

mod envs {
    pub const SKLEARN: &str = "azureml:AzureML-sklearn-1.5@latest";
}
use envs::SKLEARN;

#[step(script = "prep.py", source_dir = "steps", environment = SKLEARN)]
fn prep(raw: Data<UriFile>) -> Data<UriFolder>;

#[step(script = "train.py", source_dir = "steps", environment = envs::SKLEARN)]
fn train(data: Data<UriFolder>) -> Data<UriFolder>;

#[pipeline]
fn shared(raw: Data<UriFile>) -> Data<UriFolder> {
    train(prep(raw))
}

fn main() {
    let pipeline = azureml_pipelines::build(shared).expect("builds");
    for node in &pipeline.nodes {
        let azureml_pipelines::graph::Component::Step(step) = &node.component else {
            panic!("a step")
        };
        assert_eq!(step.environment, Some(SKLEARN));
    }
}

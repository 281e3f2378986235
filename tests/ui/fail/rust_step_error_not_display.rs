use azureml_pipelines::prelude::*;

struct Oops;

#[step]
fn prep(out: Output<UriFolder>) -> Result<(), Oops> {
    let _ = out;
    Err(Oops)
}

fn main() {}

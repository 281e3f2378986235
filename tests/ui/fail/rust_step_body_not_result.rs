use azureml_pipelines::prelude::*;

#[step]
fn prep(out: Output<UriFolder>) {
    std::fs::write(out.join("a"), "1").unwrap();
}

#[step]
fn count(out: Output<UriFolder>) -> usize {
    std::fs::read_dir(&*out).map(|d| d.count()).unwrap_or(0)
}

fn main() {}

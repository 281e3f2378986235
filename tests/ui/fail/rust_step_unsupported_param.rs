use azureml_pipelines::prelude::*;

#[step]
fn prep(
    epochs: u8,
    name: &str,
    rows: Data<UriFile>,
    rate: Param<f64>,
    out: Output<UriFolder>,
) -> Result<(), String> {
    let _ = (epochs, name, rows, rate, out);
    Ok(())
}

fn main() {}

//! Expansion snapshots: what each macro writes for typical input, pretty-printed. Review the
//! diff when one changes; regenerate with `UPDATE_EXPECT=1 cargo test -p azureml-pipelines-macros`.

use expect_test::{ExpectFile, expect_file};
use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("expansion parses as a file");
    prettyplease::unparse(&file)
}

fn check(tokens: TokenStream, expected: ExpectFile) {
    expected.assert_eq(&pretty(tokens));
}

#[test]
fn step_with_script_and_defaults() {
    let out = crate::step::expand(
        quote!(
            script = "train.py",
            source_dir = "tests/fixtures/steps",
            compute = "aml-compute",
            environment = "azureml:AzureML-sklearn-1.5@latest",
            output = "model"
        ),
        quote! {
            /// Trains the model.
            pub fn train(#[mode(download)] data: Data<UriFolder>, epochs: Param<i64>) -> Data<UriFolder>;
        },
    );
    check(
        out,
        expect_file!["snapshots/step_with_script_and_defaults.rs"],
    );
}

#[test]
fn step_with_command_outputs_modes_and_env() {
    let out = crate::step::expand(
        quote!(
            command = "echo ${{inputs.raw}} > ${{outputs.train}}/x",
            name = "split_rows",
            display_name = "Split rows",
            environment = "python:3.12",
            reuse = false,
            instance_count = 2,
            env(SEED = "7"),
            outputs(train, test(mode = "upload"))
        ),
        quote! {
            fn split(raw: Data<UriFile>) -> (Data<UriFolder>, Data<UriFolder>);
        },
    );
    check(
        out,
        expect_file!["snapshots/step_with_command_outputs_modes_and_env.rs"],
    );
}

#[test]
fn rust_step_with_inputs_params_and_outputs() {
    let out = crate::step::expand(
        quote!(compute = "aml-compute", version = "2"),
        quote! {
            /// Scales the rows (a Rust step).
            pub fn prep(
                #[mode(download)] iris: Input<UriFile>,
                extra: Option<Input<UriFolder>>,
                #[min(0.0)] scale: f64,
                prepped: Output<UriFolder>,
                summary: Output<UriFile>,
            ) -> Result<(), std::io::Error> {
                let text = std::fs::read_to_string(&iris)?;
                std::fs::write(prepped.join("rows.csv"), text)?;
                Ok(())
            }
        },
    );
    check(
        out,
        expect_file!["snapshots/rust_step_with_inputs_params_and_outputs.rs"],
    );
}

#[test]
fn pipeline_with_defaults_and_outputs() {
    let out = crate::pipeline::expand(
        quote!(
            experiment = "exp",
            default_compute = "aml-compute",
            continue_on_step_failure = true,
            tags(team = "ml"),
            outputs(model, metrics)
        ),
        quote! {
            /// Trains and evaluates.
            fn train_eval(data: Data<UriFolder>, #[default(10)] epochs: Param<i64>)
                -> (Data<UriFolder>, Data<UriFolder>) {
                let model = train(data, epochs);
                (model, evaluate(model))
            }
        },
    );
    check(
        out,
        expect_file!["snapshots/pipeline_with_defaults_and_outputs.rs"],
    );
}

#[test]
fn step_with_optional_inputs_rules_limits_and_resources() {
    let out = crate::step::expand(
        quote!(
            script = "train.py",
            source_dir = "tests/fixtures/steps",
            timeout = 30,
            instance_type = "Standard_NC6",
            shm_size = "2g",
            docker_args = "--ipc=host"
        ),
        quote! {
            fn train(
                data: Data<UriFolder>,
                warm_start: Option<Data<UriFolder>>,
                #[min(1)] #[max(10)] epochs: Param<i64>,
                #[min(0.0)] rate: Option<Param<f64>>,
                #[allowed("fast", "slow")] speed: Param<String>,
            ) -> Data<UriFolder>;
        },
    );
    check(
        out,
        expect_file!["snapshots/step_with_optional_inputs_rules_limits_and_resources.rs"],
    );
}

#[test]
fn pipeline_with_properties_default_environment_and_rules() {
    let out = crate::pipeline::expand(
        quote!(
            default_environment = "azureml:AzureML-sklearn-1.5@latest",
            properties(owner = "ml-team")
        ),
        quote! {
            fn flow(
                #[default("yes")] answer: Param<String>,
                #[default(3)] #[min(1)] #[max(5)] epochs: Param<i64>,
            ) {
                train(answer, epochs);
            }
        },
    );
    check(
        out,
        expect_file!["snapshots/pipeline_with_properties_default_environment_and_rules.rs"],
    );
}

#[test]
fn data_kind_derive() {
    let out = crate::data_kind::expand(quote! {
        #[data_kind(mltable)]
        pub struct Table;
    });
    check(out, expect_file!["snapshots/data_kind_derive.rs"]);
}

#[test]
fn errors_keep_the_item_for_tooling() {
    // A mistake yields the error and a stub of the fn, so that rust-analyzer and the rest of
    // the crate still see `train` with its signature.
    let out = crate::step::expand(
        quote!(scrpt = "train.py"),
        quote!(
            fn train(data: Data<UriFolder>) -> Data<UriFolder>;
        ),
    );
    let text = out.to_string();
    assert!(text.contains("compile_error"), "{text}");
    assert!(
        text.contains("unknown `step` argument `scrpt`; did you mean `script`?"),
        "{text}"
    );
    assert!(text.contains("fn train"), "{text}");
}

/// `crate = "..."` moves every path the generated code takes into the library.
#[test]
fn crate_argument_replaces_every_library_path() {
    let outputs = [
        crate::step::expand(
            quote!(
                command = "echo ${{inputs.raw}}",
                environment = "python:3.12",
                crate = "my_platform::azureml"
            ),
            quote! {
                fn show(#[mode(download)] raw: Data<UriFile>);
            },
        ),
        crate::pipeline::expand(
            quote!(crate = "my_platform::azureml"),
            quote! {
                fn flow(#[mode(ro_mount)] raw: Data<UriFile>) {
                    show(raw);
                }
            },
        ),
        crate::data_kind::expand(quote! {
            #[data_kind(uri_file, crate = "my_platform::azureml")]
            struct Csv;
        }),
    ];
    for out in outputs {
        let text = pretty(out);
        assert!(text.contains("my_platform::azureml::__private"), "{text}");
        assert!(!text.contains("azureml_pipelines"), "{text}");
    }
}

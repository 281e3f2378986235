/// Trains the model.
pub fn train(
    data: Data<UriFolder>,
    epochs: impl ::azureml_pipelines::__private::IntoParam<i64>,
) -> Data<UriFolder> {
    static __EMBEDDED: ::azureml_pipelines::__private::EmbeddedTree = ::azureml_pipelines::__private::EmbeddedTree {
        key: "053e08c9b8faf5afdfe493f4bcfaf813",
        root: "tests/fixtures/steps",
        files: &[
            ::azureml_pipelines::__private::EmbeddedFile {
                path: "tests/fixtures/steps/train.py",
                mode: 0o644,
                bytes: ::core::include_bytes!(
                    ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/",
                    "tests/fixtures/steps/train.py")
                ),
            },
        ],
    };
    static __STEP: ::std::sync::OnceLock<::azureml_pipelines::__private::StepDef> = ::std::sync::OnceLock::new();
    let __step = __STEP
        .get_or_init(|| ::azureml_pipelines::__private::StepDef {
            name: "train",
            display_name: ::core::option::Option::None,
            description: ::core::option::Option::Some("Trains the model."),
            kind: ::azureml_pipelines::__private::StepKind::Command,
            command: "python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}} --model ${{outputs.model}}",
            script: ::core::option::Option::Some("train.py"),
            source_dir: ::core::option::Option::Some("tests/fixtures/steps"),
            manifest_dir: ::azureml_pipelines::__private::step_root(
                ::core::env!("CARGO_MANIFEST_DIR"),
                &__EMBEDDED,
            ),
            compute: ::core::option::Option::Some("aml-compute"),
            environment: ::core::option::Option::Some(
                "azureml:AzureML-sklearn-1.5@latest",
            ),
            reuse: true,
            instance_count: ::core::option::Option::None,
            instance_type: ::core::option::Option::None,
            shm_size: ::core::option::Option::None,
            docker_args: ::core::option::Option::None,
            timeout: ::core::option::Option::None,
            environment_variables: &[],
            inputs: &[
                ::azureml_pipelines::__private::InputDef {
                    name: "data",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                    mode: ::core::option::Option::Some(
                        ::azureml_pipelines::__private::InputMode::Download,
                    ),
                    rules: ::azureml_pipelines::__private::InputRules::NONE,
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "epochs",
                    ty: ::azureml_pipelines::__private::PortType::Param(
                        <i64 as ::azureml_pipelines::__private::ParamValue>::PARAM_TYPE,
                    ),
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules::NONE,
                },
            ],
            outputs: &[
                ::azureml_pipelines::__private::OutputDef {
                    name: "model",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::OutputPort>::ASSET_TYPE,
                    mode: ::core::option::Option::None,
                },
            ],
        });
    const _: &[u8] = ::core::include_bytes!(
        ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/",
        "tests/fixtures/steps/train.py")
    );
    let mut __call = ::azureml_pipelines::__private::StepCall::new(__step);
    __call
        .bind(
            <Data<UriFolder> as ::azureml_pipelines::__private::InputPort>::__port(&data),
        );
    __call.bind(::azureml_pipelines::__private::param_port::<i64, _>(epochs));
    let __outputs = __call.finish();
    let _ = &__outputs;
    <Data<
        UriFolder,
    > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[0usize])
}

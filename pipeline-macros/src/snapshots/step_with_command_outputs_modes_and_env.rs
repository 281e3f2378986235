fn split(raw: Data<UriFile>) -> (Data<UriFolder>, Data<UriFolder>) {
    static __STEP: ::std::sync::OnceLock<::azureml_pipelines::__private::StepDef> = ::std::sync::OnceLock::new();
    let __step = __STEP
        .get_or_init(|| ::azureml_pipelines::__private::StepDef {
            name: "split_rows",
            display_name: ::core::option::Option::Some("Split rows"),
            description: ::core::option::Option::None,
            kind: ::azureml_pipelines::__private::StepKind::Command,
            command: "echo ${{inputs.raw}} > ${{outputs.train}}/x",
            script: ::core::option::Option::None,
            source_dir: ::core::option::Option::None,
            manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
            compute: ::core::option::Option::None,
            environment: ::core::option::Option::Some("python:3.12"),
            reuse: false,
            instance_count: ::core::option::Option::Some(2u32),
            instance_type: ::core::option::Option::None,
            shm_size: ::core::option::Option::None,
            docker_args: ::core::option::Option::None,
            timeout: ::core::option::Option::None,
            environment_variables: &[("SEED", "7")],
            inputs: &[
                ::azureml_pipelines::__private::InputDef {
                    name: "raw",
                    ty: <Data<
                        UriFile,
                    > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules::NONE,
                },
            ],
            outputs: &[
                ::azureml_pipelines::__private::OutputDef {
                    name: "train",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::OutputPort>::ASSET_TYPE,
                    mode: ::core::option::Option::None,
                },
                ::azureml_pipelines::__private::OutputDef {
                    name: "test",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::OutputPort>::ASSET_TYPE,
                    mode: ::core::option::Option::Some(
                        ::azureml_pipelines::__private::OutputMode::Upload,
                    ),
                },
            ],
        });
    let mut __call = ::azureml_pipelines::__private::StepCall::new(__step);
    __call
        .bind(
            <Data<UriFile> as ::azureml_pipelines::__private::InputPort>::__port(&raw),
        );
    let __outputs = __call.finish();
    let _ = &__outputs;
    (
        <Data<
            UriFolder,
        > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[0usize]),
        <Data<
            UriFolder,
        > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[1usize]),
    )
}

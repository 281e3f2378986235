fn train(
    data: Data<UriFolder>,
    warm_start: Option<Data<UriFolder>>,
    epochs: impl ::azureml_pipelines::__private::IntoParam<i64>,
    rate: Option<Param<f64>>,
    speed: impl ::azureml_pipelines::__private::IntoParam<String>,
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
            description: ::core::option::Option::None,
            kind: ::azureml_pipelines::__private::StepKind::Command,
            command: "python train.py --data ${{inputs.data}} $[[--warm_start ${{inputs.warm_start}}]] --epochs ${{inputs.epochs}} $[[--rate ${{inputs.rate}}]] --speed ${{inputs.speed}} --output ${{outputs.output}}",
            script: ::core::option::Option::Some("train.py"),
            source_dir: ::core::option::Option::Some("tests/fixtures/steps"),
            manifest_dir: ::azureml_pipelines::__private::step_root(
                ::core::env!("CARGO_MANIFEST_DIR"),
                &__EMBEDDED,
            ),
            compute: ::core::option::Option::None,
            environment: ::core::option::Option::None,
            reuse: true,
            instance_count: ::core::option::Option::None,
            instance_type: ::core::option::Option::Some("Standard_NC6"),
            shm_size: ::core::option::Option::Some("2g"),
            docker_args: ::core::option::Option::Some("--ipc=host"),
            timeout: ::core::option::Option::Some(30u64),
            environment_variables: &[],
            inputs: &[
                ::azureml_pipelines::__private::InputDef {
                    name: "data",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules::NONE,
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "warm_start",
                    ty: <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules {
                        optional: true,
                        min: ::core::option::Option::None,
                        max: ::core::option::Option::None,
                        allowed: &[],
                    },
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "epochs",
                    ty: ::azureml_pipelines::__private::PortType::Param(
                        <i64 as ::azureml_pipelines::__private::ParamValue>::PARAM_TYPE,
                    ),
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules {
                        optional: false,
                        min: ::core::option::Option::Some(
                            ::azureml_pipelines::__private::Bound::Integer(1i64),
                        ),
                        max: ::core::option::Option::Some(
                            ::azureml_pipelines::__private::Bound::Integer(10i64),
                        ),
                        allowed: &[],
                    },
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "rate",
                    ty: ::azureml_pipelines::__private::PortType::Param(
                        <f64 as ::azureml_pipelines::__private::ParamValue>::PARAM_TYPE,
                    ),
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules {
                        optional: true,
                        min: ::core::option::Option::Some(
                            ::azureml_pipelines::__private::Bound::Number(0f64),
                        ),
                        max: ::core::option::Option::None,
                        allowed: &[],
                    },
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "speed",
                    ty: ::azureml_pipelines::__private::PortType::Param(
                        <String as ::azureml_pipelines::__private::ParamValue>::PARAM_TYPE,
                    ),
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules {
                        optional: false,
                        min: ::core::option::Option::None,
                        max: ::core::option::Option::None,
                        allowed: &["fast", "slow"],
                    },
                },
            ],
            outputs: &[
                ::azureml_pipelines::__private::OutputDef {
                    name: "output",
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
    __call
        .bind(
            match &warm_start {
                ::core::option::Option::Some(__value) => {
                    <Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::InputPort>::__port(__value)
                }
                ::core::option::Option::None => {
                    ::azureml_pipelines::__private::unbound_port()
                }
            },
        );
    __call.bind(::azureml_pipelines::__private::param_port::<i64, _>(epochs));
    __call
        .bind(
            match rate {
                ::core::option::Option::Some(__value) => {
                    ::azureml_pipelines::__private::param_port::<f64, _>(__value)
                }
                ::core::option::Option::None => {
                    ::azureml_pipelines::__private::unbound_port()
                }
            },
        );
    __call.bind(::azureml_pipelines::__private::param_port::<String, _>(speed));
    let __outputs = __call.finish();
    let _ = &__outputs;
    <Data<
        UriFolder,
    > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[0usize])
}

/// Scales the rows (a Rust step).
pub fn prep(
    iris: ::azureml_pipelines::__private::Data<UriFile>,
    extra: ::core::option::Option<::azureml_pipelines::__private::Data<UriFolder>>,
    scale: impl ::azureml_pipelines::__private::IntoParam<f64>,
) -> (
    ::azureml_pipelines::__private::Data<UriFolder>,
    ::azureml_pipelines::__private::Data<UriFile>,
) {
    fn __body(
        iris: Input<UriFile>,
        extra: Option<Input<UriFolder>>,
        scale: f64,
        prepped: Output<UriFolder>,
        summary: Output<UriFile>,
    ) -> Result<(), std::io::Error> {
        let text = std::fs::read_to_string(&iris)?;
        std::fs::write(prepped.join("rows.csv"), text)?;
        Ok(())
    }
    fn __run(
        __args: &::azureml_pipelines::__private::RustStepArgs,
    ) -> ::core::result::Result<(), ::std::string::String> {
        ::azureml_pipelines::__private::step_result(
            __body(
                __args.input("iris")?,
                __args.optional_input("extra")?,
                __args.param("scale")?,
                __args.output("prepped")?,
                __args.output("summary")?,
            ),
        )
    }
    static __STEP: ::std::sync::OnceLock<::azureml_pipelines::__private::StepDef> = ::std::sync::OnceLock::new();
    let __step = __STEP
        .get_or_init(|| ::azureml_pipelines::__private::StepDef {
            name: "prep",
            display_name: ::core::option::Option::None,
            description: ::core::option::Option::Some("Scales the rows (a Rust step)."),
            kind: ::azureml_pipelines::__private::StepKind::Rust(::azureml_pipelines::__private::RustStep {
                run: __run,
                body_hash: "764677ec404556a42c146c57a98b56da",
                version: ::core::option::Option::Some("2"),
                crate_name: ::core::env!("CARGO_PKG_NAME"),
                crate_version: ::core::env!("CARGO_PKG_VERSION"),
            }),
            command: "__step prep --input iris=${{inputs.iris}} $[[--input extra=${{inputs.extra}}]] --param scale=${{inputs.scale}} --output prepped=${{outputs.prepped}} --output summary=${{outputs.summary}}",
            script: ::core::option::Option::None,
            source_dir: ::core::option::Option::None,
            manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
            compute: ::core::option::Option::Some("aml-compute"),
            environment: ::core::option::Option::None,
            reuse: true,
            instance_count: ::core::option::Option::None,
            instance_type: ::core::option::Option::None,
            shm_size: ::core::option::Option::None,
            docker_args: ::core::option::Option::None,
            timeout: ::core::option::Option::None,
            environment_variables: &[],
            inputs: &[
                ::azureml_pipelines::__private::InputDef {
                    name: "iris",
                    ty: <::azureml_pipelines::__private::Data<
                        UriFile,
                    > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                    mode: ::core::option::Option::Some(
                        ::azureml_pipelines::__private::InputMode::Download,
                    ),
                    rules: ::azureml_pipelines::__private::InputRules::NONE,
                },
                ::azureml_pipelines::__private::InputDef {
                    name: "extra",
                    ty: <::azureml_pipelines::__private::Data<
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
                    name: "scale",
                    ty: ::azureml_pipelines::__private::PortType::Param(
                        <f64 as ::azureml_pipelines::__private::ParamValue>::PARAM_TYPE,
                    ),
                    mode: ::core::option::Option::None,
                    rules: ::azureml_pipelines::__private::InputRules {
                        optional: false,
                        min: ::core::option::Option::Some(
                            ::azureml_pipelines::__private::Bound::Number(0f64),
                        ),
                        max: ::core::option::Option::None,
                        allowed: &[],
                    },
                },
            ],
            outputs: &[
                ::azureml_pipelines::__private::OutputDef {
                    name: "prepped",
                    ty: <::azureml_pipelines::__private::Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::OutputPort>::ASSET_TYPE,
                    mode: ::core::option::Option::None,
                },
                ::azureml_pipelines::__private::OutputDef {
                    name: "summary",
                    ty: <::azureml_pipelines::__private::Data<
                        UriFile,
                    > as ::azureml_pipelines::__private::OutputPort>::ASSET_TYPE,
                    mode: ::core::option::Option::None,
                },
            ],
        });
    let mut __call = ::azureml_pipelines::__private::StepCall::new(__step);
    __call
        .bind(
            <::azureml_pipelines::__private::Data<
                UriFile,
            > as ::azureml_pipelines::__private::InputPort>::__port(&iris),
        );
    __call
        .bind(
            match &extra {
                ::core::option::Option::Some(__value) => {
                    <::azureml_pipelines::__private::Data<
                        UriFolder,
                    > as ::azureml_pipelines::__private::InputPort>::__port(__value)
                }
                ::core::option::Option::None => {
                    ::azureml_pipelines::__private::unbound_port()
                }
            },
        );
    __call.bind(::azureml_pipelines::__private::param_port::<f64, _>(scale));
    let __outputs = __call.finish();
    let _ = &__outputs;
    (
        <::azureml_pipelines::__private::Data<
            UriFolder,
        > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[0usize]),
        <::azureml_pipelines::__private::Data<
            UriFile,
        > as ::azureml_pipelines::__private::OutputPort>::__from_port(__outputs[1usize]),
    )
}

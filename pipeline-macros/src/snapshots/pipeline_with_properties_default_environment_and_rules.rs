fn flow(answer: Param<String>, epochs: Param<i64>) {
    static __PIPELINE: ::azureml_pipelines::__private::PipelineDef = ::azureml_pipelines::__private::PipelineDef {
        name: "flow",
        display_name: ::core::option::Option::None,
        description: ::core::option::Option::None,
        experiment: ::core::option::Option::None,
        default_compute: ::core::option::Option::None,
        default_datastore: ::core::option::Option::None,
        continue_on_step_failure: false,
        tags: &[],
        properties: &[("owner", "ml-team")],
        default_environment: ::core::option::Option::Some(
            "azureml:AzureML-sklearn-1.5@latest",
        ),
        manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
        inputs: &[
            ::azureml_pipelines::__private::PipelineInputDef {
                name: "answer",
                ty: <Param<
                    String,
                > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                mode: ::core::option::Option::None,
                default: ::core::option::Option::Some(
                    (|| {
                        let __value: <Param<
                            String,
                        > as ::azureml_pipelines::__private::InputPort>::DefaultValue = ::std::string::String::from(
                            "yes",
                        );
                        <Param<
                            String,
                        > as ::azureml_pipelines::__private::InputPort>::default_constant(
                            __value,
                        )
                    }) as fn() -> ::azureml_pipelines::__private::DefaultValue,
                ),
                rules: ::azureml_pipelines::__private::InputRules::NONE,
            },
            ::azureml_pipelines::__private::PipelineInputDef {
                name: "epochs",
                ty: <Param<i64> as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                mode: ::core::option::Option::None,
                default: ::core::option::Option::Some(
                    (|| {
                        let __value: <Param<
                            i64,
                        > as ::azureml_pipelines::__private::InputPort>::DefaultValue = 3;
                        <Param<
                            i64,
                        > as ::azureml_pipelines::__private::InputPort>::default_constant(
                            __value,
                        )
                    }) as fn() -> ::azureml_pipelines::__private::DefaultValue,
                ),
                rules: ::azureml_pipelines::__private::InputRules {
                    optional: false,
                    min: ::core::option::Option::Some(
                        ::azureml_pipelines::__private::Bound::Integer(1i64),
                    ),
                    max: ::core::option::Option::Some(
                        ::azureml_pipelines::__private::Bound::Integer(5i64),
                    ),
                    allowed: &[],
                },
            },
        ],
        outputs: &[],
        output_assets: &[],
    };
    let __call = ::azureml_pipelines::__private::PipelineCall::enter(
        &__PIPELINE,
        ::std::vec![
            < Param < String > as ::azureml_pipelines::__private::InputPort > ::__port(&
            answer), < Param < i64 > as ::azureml_pipelines::__private::InputPort >
            ::__port(& epochs)
        ],
    );
    if let ::core::option::Option::Some(__returned) = __call.cut() {
        return __returned;
    }
    let answer: Param<String> = <Param<
        String,
    > as ::azureml_pipelines::__private::InputPort>::__from_port(
        __call.input_port(0u32),
    );
    let epochs: Param<i64> = <Param<
        i64,
    > as ::azureml_pipelines::__private::InputPort>::__from_port(
        __call.input_port(1u32),
    );
    let __returned = (move || {
        train(answer, epochs);
    })();
    __call.finish(__returned)
}

/// Trains and evaluates.
fn train_eval(
    data: Data<UriFolder>,
    epochs: Param<i64>,
) -> (Data<UriFolder>, Data<UriFolder>) {
    static __PIPELINE: ::azureml_pipelines::__private::PipelineDef = ::azureml_pipelines::__private::PipelineDef {
        name: "train_eval",
        display_name: ::core::option::Option::None,
        description: ::core::option::Option::Some("Trains and evaluates."),
        experiment: ::core::option::Option::Some("exp"),
        default_compute: ::core::option::Option::Some("aml-compute"),
        default_datastore: ::core::option::Option::None,
        continue_on_step_failure: true,
        tags: &[("team", "ml")],
        properties: &[],
        default_environment: ::core::option::Option::None,
        manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
        inputs: &[
            ::azureml_pipelines::__private::PipelineInputDef {
                name: "data",
                ty: <Data<
                    UriFolder,
                > as ::azureml_pipelines::__private::InputPort>::PORT_TYPE,
                mode: ::core::option::Option::None,
                default: ::core::option::Option::None,
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
                        > as ::azureml_pipelines::__private::InputPort>::DefaultValue = 10;
                        <Param<
                            i64,
                        > as ::azureml_pipelines::__private::InputPort>::default_constant(
                            __value,
                        )
                    }) as fn() -> ::azureml_pipelines::__private::DefaultValue,
                ),
                rules: ::azureml_pipelines::__private::InputRules::NONE,
            },
        ],
        outputs: &["model", "metrics"],
        output_assets: &[],
    };
    let __call = ::azureml_pipelines::__private::PipelineCall::enter(
        &__PIPELINE,
        ::std::vec![
            < Data < UriFolder > as ::azureml_pipelines::__private::InputPort >
            ::__port(& data), < Param < i64 > as
            ::azureml_pipelines::__private::InputPort > ::__port(& epochs)
        ],
    );
    if let ::core::option::Option::Some(__returned) = __call.cut() {
        return __returned;
    }
    let data: Data<UriFolder> = <Data<
        UriFolder,
    > as ::azureml_pipelines::__private::InputPort>::__from_port(
        __call.input_port(0u32),
    );
    let epochs: Param<i64> = <Param<
        i64,
    > as ::azureml_pipelines::__private::InputPort>::__from_port(
        __call.input_port(1u32),
    );
    let __returned = (move || -> (Data<UriFolder>, Data<UriFolder>) {
        let model = train(data, epochs);
        (model, evaluate(model))
    })();
    __call.finish(__returned)
}

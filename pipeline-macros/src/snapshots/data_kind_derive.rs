impl ::azureml_pipelines::__private::DataKind for Table {
    const ASSET_TYPE: ::azureml_pipelines::__private::AssetType = ::azureml_pipelines::__private::AssetType::MlTable;
}

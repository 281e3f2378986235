//! Compile-time checks of `#[step]` / `#[pipeline]`: each file under `ui/fail` is one mistake a
//! user can make, with the exact message they see in the `.stderr` beside it; `ui/pass` holds
//! code that must compile (hygiene).
//!
//! Step sources in these cases are written relative to the crate root of the test project that
//! trybuild generates (`target/tests/trybuild/azureml-pipelines`), hence `../../../../tests/ui/steps`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

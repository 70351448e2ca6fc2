//! Compile errors of `#[derive(Encrypt)]`: each case in `tests/ui/` pins
//! one diagnostic's message and span. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p encrypted-fields-derive --test ui` after a deliberate change.

#[test]
fn derive_diagnostics() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

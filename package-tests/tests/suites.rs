//! The bundled suites as one cargo test target: every (case, image) pair in
//! `package-tests/suites/*.toml` is a trial, so `cargo test -p package-tests`
//! takes the usual filters, `--list`, `--ignored`, `--exact` and
//! `--test-threads`.

fn main() {
    let suites = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    wrtest::runner::cargo_main(&suites)
}

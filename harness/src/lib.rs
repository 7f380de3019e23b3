//! wrtest: integration tests for OpenWrt packages, a fresh container per case.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod container;
pub mod ipk;
pub mod spec;
pub mod syscall;

/// Render an error and its chain of causes as one line:
/// `failed to a: failed to b: cause`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

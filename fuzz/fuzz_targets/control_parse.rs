//! Parses arbitrary text as a package's `control` paragraph.
//!
//! Besides never panicking, a parsed paragraph must come back unchanged
//! from [`Control::render`] and a second parse, as `render` promises, and a
//! refusal must name the origin.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wrtest::ipk::Control;

const ORIGIN: &str = "/fuzz/control";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = Path::new(ORIGIN);
    match Control::parse(text, origin) {
        Ok(control) => {
            let _ = control.upstream_version();
            let shown: Vec<String> = control.depends.iter().map(|d| d.to_string()).collect();
            let again = Control::parse(&control.render(), origin);
            assert_eq!(again.as_ref().ok(), Some(&control), "{shown:?}");
        }
        Err(err) => {
            let message = err.to_string();
            assert!(
                message.contains(ORIGIN),
                "error without the path: {message}"
            );
        }
    }
});

//! Parses arbitrary text as apk's output, as the harness does after every
//! apk add and del.
//!
//! Every problem found must display without panicking and carry a kind that
//! round-trips through its name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wrtest::apktool::errors;
use wrtest::opkg::ErrorKind;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for problem in errors::parse(&text) {
        let _ = problem.to_string();
        assert_eq!(ErrorKind::from_name(problem.kind.name()), Some(problem.kind));
    }
});

//! Reads arbitrary bytes as an `.apk` (v3) package, as the harness does
//! before every apk install and when it indexes a feed.
//!
//! A refusal must name the file; an accepted package must have a name, a
//! version and absolute paths only.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = Path::new("/fuzz/input.apk");
    match wrtest::apk::package::parse(data, origin) {
        Err(e) => assert!(e.to_string().starts_with("/fuzz/input.apk: "), "{e}"),
        Ok(pkg) => {
            assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
            assert!(pkg.paths.iter().all(|p| p.starts_with('/')), "{:?}", pkg.paths);
        }
    }
    let _ = wrtest::apk::index::read(data, origin);
});

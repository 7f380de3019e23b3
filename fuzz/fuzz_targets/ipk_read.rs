//! Reads arbitrary bytes as an `.ipk` of either container form.
//!
//! The reader must refuse bad input with an error naming the package, never
//! panic, and stay within its decompression bounds (libFuzzer's
//! `-rss_limit_mb` catches a bound that does not hold). What it accepts must
//! keep the promises [`wrtest::ipk::Ipk`] documents.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = Path::new("/fuzz/package.ipk");
    wrtest_fuzz::check_ipk(&wrtest::ipk::read_from(data, origin), origin);
});

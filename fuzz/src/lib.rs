//! Checks shared by the fuzz targets in `fuzz_targets/`.
//!
//! Only what more than one target asserts lives here; each target keeps its
//! own input handling.

use std::path::Path;

use wrtest::ipk::{Ipk, IpkError};

/// The maintainer scripts an [`Ipk`] may list, in the order it lists them.
const SCRIPTS: [&str; 4] = ["preinst", "postinst", "prerm", "postrm"];

/// Asserts what [`wrtest::ipk::read_from`] promises about its result read
/// from `origin`: an accepted package keeps the documented shape, and a
/// refusal names the package.
pub fn check_ipk(result: &Result<Ipk, IpkError>, origin: &Path) {
    match result {
        Ok(ipk) => check_accepted(ipk, origin),
        Err(err) => {
            let message = err.to_string();
            let named = message.contains(&*origin.to_string_lossy());
            assert!(named, "error without the path: {message}");
        }
    }
}

/// Data paths absolute and normal, scripts known and in order, conffiles
/// absolute.
fn check_accepted(ipk: &Ipk, origin: &Path) {
    assert_eq!(ipk.path, origin);
    for path in &ipk.data_paths {
        let parts = path.strip_prefix('/').map(|p| p.split('/'));
        let normal = parts.is_some_and(|mut p| p.all(|p| !matches!(p, "" | "." | "..")));
        assert!(normal, "data path {path:?} is not normal");
    }
    let order: Vec<Option<usize>> = ipk
        .scripts
        .iter()
        .map(|s| SCRIPTS.iter().position(|k| k == s))
        .collect();
    assert!(order.iter().all(Option::is_some), "{:?}", ipk.scripts);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{:?}", ipk.scripts);
    assert!(ipk.conffiles.iter().all(|c| c.starts_with('/')));
}

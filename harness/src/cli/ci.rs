//! `wrtest ci`: OpenWrt's package CI, compatibly — each built ipk in its
//! own fresh container, its `test.sh` run unchanged (or the generic checks).

use clap::Args;
use std::path::PathBuf;

use super::run::{run_with, Selection};
use wrtest::compat::{self, CiOptions};
use wrtest::runner::RunOptions;
use wrtest::Error;

/// Arguments of `wrtest ci`.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Built ipks, or directories of them (e.g. bin/packages/<arch>/<feed>).
    #[arg(required = true)]
    packages: Vec<PathBuf>,
    /// Image to test on (repeatable).
    #[arg(long = "image", value_name = "ID", required = true)]
    images: Vec<String>,
    /// Package sources (openwrt/packages layout) holding test.sh and pre-test.sh.
    #[arg(long, value_name = "DIR")]
    sources: Option<PathBuf>,
    /// Write the generated suite to FILE (to read, edit and `wrtest run`) instead of running it.
    #[arg(long, value_name = "FILE")]
    write_suite: Option<PathBuf>,
    #[command(flatten)]
    select: Selection,
}

/// Build the suite and run it.
pub fn ci(args: CiArgs) -> Result<i32, Error> {
    let options = CiOptions {
        packages: args.packages,
        images: args.images,
        sources: args.sources,
    };
    let (path, text) = compat::suite(&options)?;
    if args.write_suite.is_some() && args.select.asks_for_reports() {
        return Err(Error::Input("--write-suite only writes the suite; run it with `wrtest run FILE` and the report options".into()));
    }
    if let Some(file) = &args.write_suite {
        std::fs::write(file, &text)
            .map_err(|e| Error::Input(format!("cannot write {}: {e}", file.display())))?;
        eprintln!("wrtest: wrote {}", file.display());
        return Ok(super::PASSED);
    }
    run_with(
        &RunOptions {
            generated: vec![(path, text)],
            ..RunOptions::default()
        },
        &args.select,
    )
}

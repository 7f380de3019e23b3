//! For reference: the same work in `podman run --rm`, what a docker-style
//! harness pays per case. Measured only when podman is installed; the image
//! is imported once from the same tarball, and removed afterwards.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::stats::Summary;
use crate::image::Prepared;
use crate::Error;

/// `rounds` timings of the work under podman, or why there are none:
/// podman is missing, or it cannot run here.
pub fn measure(image: &Prepared, ipk: &Path, rounds: usize) -> Result<Summary, String> {
    if !installed() {
        return Err("podman is not installed".into());
    }
    timings(image, ipk, rounds)
        .map_err(|e| format!("podman could not run here: {}", crate::error_chain(&e)))
}

fn timings(image: &Prepared, ipk: &Path, rounds: usize) -> Result<Summary, Error> {
    let tag = format!("localhost/wrtest-bench:{}", &image.sha256[..12]);
    podman(&["import", &image.tarball.to_string_lossy(), &tag])?;
    let result = (0..rounds)
        .map(|_| once(&tag, ipk))
        .collect::<Result<Vec<_>, _>>();
    let _ = podman(&["rmi", "-f", &tag]);
    Ok(Summary::of(&result?))
}

fn installed() -> bool {
    Command::new("podman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn once(tag: &str, ipk: &Path) -> Result<Duration, Error> {
    let mount = format!("{}:/pkg/tiny.ipk:ro", ipk.display());
    let work = format!(
        "mkdir -p /tmp/lock && {}",
        super::WORK.replace("{ipk}", "/pkg/tiny.ipk")
    );
    let started = Instant::now();
    podman(&[
        "run",
        "--rm",
        "--network=none",
        "--tmpfs",
        "/tmp",
        "-v",
        &mount,
        tag,
        "/bin/sh",
        "-c",
        &work,
    ])?;
    Ok(started.elapsed())
}

fn podman(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("podman")
        .args(args)
        .output()
        .map_err(|e| Error::Input(format!("bench: failed to run podman: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Input(format!(
        "bench: podman {} failed: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

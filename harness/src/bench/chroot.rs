//! The floor: a ready chroot (a private copy of the extracted image with
//! preinit's directories and a /dev/null), where the same opkg work runs
//! through `chroot` with no namespaces, overlay or cgroup at all. It is made
//! twice: on disk (the system temp dir) and in memory (`/dev/shm`), since a
//! container's writable layer is in memory too.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::image::Prepared;
use crate::Error;

/// A prepared chroot, removed on drop.
pub struct Chroot {
    dir: tempfile::TempDir,
}

impl Chroot {
    /// Copy the image into a temporary directory under `parent` and put the
    /// package at `/tmp/tiny.ipk`.
    pub fn prepare(image: &Prepared, ipk: &Path, parent: &Path) -> Result<Chroot, Error> {
        let dir = tempfile::Builder::new()
            .prefix("wrtest-bench-")
            .tempdir_in(parent)
            .map_err(|e| io("create a temp dir", e))?;
        crate::runner::interrupt::remove_on_signal(dir.path());
        let root = dir.path().join("root");
        let status = Command::new("cp")
            .arg("-a")
            .arg(&image.rootfs)
            .arg(&root)
            .status()
            .map_err(|e| io("run cp", e))?;
        if !status.success() {
            return Err(Error::Input(format!(
                "cp -a {} failed",
                image.rootfs.display()
            )));
        }
        for sub in ["tmp/lock", "tmp/run", "dev"] {
            std::fs::create_dir_all(root.join(sub)).map_err(|e| io("create", e))?;
        }
        dev_null(&root.join("dev/null"))?;
        std::fs::copy(ipk, root.join("tmp/tiny.ipk")).map_err(|e| io("copy the package", e))?;
        Ok(Chroot { dir })
    }

    /// Run the work once; its wall-clock time.
    pub fn work(&self) -> Result<Duration, Error> {
        let root = self.dir.path().join("root");
        let started = Instant::now();
        let out = Command::new("chroot")
            .arg(&root)
            .args([
                "/bin/sh",
                "-c",
                &super::WORK.replace("{ipk}", "/tmp/tiny.ipk"),
            ])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .map_err(|e| io("run chroot", e))?;
        let elapsed = started.elapsed();
        super::check(
            out.status.code(),
            "chroot",
            &String::from_utf8_lossy(&out.stderr),
        )?;
        Ok(elapsed)
    }
}

fn dev_null(path: &Path) -> Result<(), Error> {
    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    if path.exists() {
        return Ok(());
    }
    mknod(
        path,
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        makedev(1, 3),
    )
    .map_err(|e| io("create /dev/null in the chroot", e.into()))
}

fn io(what: &str, e: std::io::Error) -> Error {
    Error::Input(format!("bench: failed to {what}: {e}"))
}

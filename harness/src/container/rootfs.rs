//! The container's root filesystem: overlay on the image, `/proc`, a minimal
//! `/dev`, a fresh `/tmp` as OpenWrt's preinit makes it, then `pivot_root`.
//!
//! It runs inside the container's own mount namespace, in its pid 1, and
//! reaches the kernel only through the [`Kernel`] trait, so the sequence can
//! be checked without root by a fake that records calls. It must never touch
//! a path outside the case directory before `pivot_root`, except to bind
//! the host's harmless device nodes and to open the emulator of an
//! emulated image.
//!
//! An emulated image's container has a user namespace of its own (see
//! `namespaces`), and this changes three steps: device nodes cannot be
//! made there, so the host's are bound instead; the overlay keeps its
//! metadata in `user.` extended attributes; and a binfmt_misc instance of
//! that namespace is mounted on `/proc/sys/fs/binfmt_misc`, the emulator
//! registered in it while its host path is still reachable, and the mount
//! made read-only.

use nix::mount::MsFlags;
use std::io;
use std::path::{Path, PathBuf};

use super::protocol::{Binfmt, Setup};

/// The kernel calls the root filesystem is built from.
pub trait Kernel {
    /// mount(2).
    fn mount(
        &self,
        src: &str,
        target: &Path,
        fstype: &str,
        flags: MsFlags,
        data: &str,
    ) -> io::Result<()>;
    /// Create a character device node.
    fn mknod_char(&self, path: &Path, mode: u32, major: u64, minor: u64) -> io::Result<()>;
    /// Create a directory (and its parents) with this mode.
    fn mkdir(&self, path: &Path, mode: u32) -> io::Result<()>;
    /// Create a symbolic link.
    fn symlink(&self, target: &str, link: &Path) -> io::Result<()>;
    /// Make `new_root` the root and detach the old one.
    fn pivot_root(&self, new_root: &Path) -> io::Result<()>;
    /// Whether a path exists (kernel files vary between kernels).
    fn exists(&self, path: &Path) -> bool;
    /// A handle on a directory that stays usable after `pivot_root`.
    fn open_dir(&self, path: &Path) -> io::Result<Option<std::fs::File>>;
    /// Create an empty file (a mount point for a bound device).
    fn create_file(&self, path: &Path) -> io::Result<()>;
    /// Write `data` to an existing (kernel) file in one write.
    fn write(&self, path: &Path, data: &str) -> io::Result<()>;
}

/// A failed step, with the path it was about.
#[derive(Debug, thiserror::Error)]
#[error("failed to {what} {}", path.display())]
pub struct RootfsError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

type Result<T> = std::result::Result<T, RootfsError>;

fn at<T>(what: &'static str, path: &Path, r: io::Result<T>) -> Result<T> {
    r.map_err(|source| RootfsError {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Device nodes of the minimal `/dev`: name, major, minor.
const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Directories OpenWrt's boot creates in the volatile `/tmp` (`/var` links there).
const VOLATILE_DIRS: &[(&str, u32)] = &[
    ("lock", 0o755),
    ("run", 0o755),
    ("log", 0o755),
    ("state", 0o755),
    ("tmp", 0o1777),
    (".uci", 0o700),
];

/// Build the root filesystem described by `setup` and switch into it.
/// Returns a handle on the overlay's upper directory (the case's changes),
/// which no path reaches after `pivot_root`.
pub fn build(k: &impl Kernel, setup: &Setup) -> Result<Option<std::fs::File>> {
    let root = Path::new(&setup.root);

    // Nothing we mount may propagate back to the host's mount namespace.
    at(
        "make private",
        Path::new("/"),
        k.mount(
            "",
            Path::new("/"),
            "",
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            "",
        ),
    )?;

    // The image stays read-only below; every change of the case lands in
    // the upper layer, on a sized tmpfs private to this mount namespace.
    let (upper, work) = mount_layer(k, Path::new(&setup.layer), setup.layer_bytes)?;
    let changes = at("open", &upper, k.open_dir(&upper))?;
    let mut data = format!(
        "lowerdir={},upperdir={},workdir={}",
        setup.lower,
        upper.display(),
        work.display()
    );
    if setup.own_user_namespace() {
        // trusted.* attributes need the host's CAP_SYS_ADMIN.
        data.push_str(",userxattr");
    }
    at(
        "mount overlay on",
        root,
        k.mount("overlay", root, "overlay", MsFlags::empty(), &data),
    )?;

    mount_proc(k, root)?;
    mount_dev(k, root, setup.own_user_namespace())?;
    protect_proc(k, root)?;
    if let Some(binfmt) = &setup.binfmt {
        register_emulator(k, root, binfmt)?;
    }
    mount_tmp(k, root, setup.tmp_bytes)?;
    mount_sys(k, root)?;
    at("pivot_root into", root, k.pivot_root(root))?;
    Ok(changes)
}

fn mount_layer(k: &impl Kernel, layer: &Path, bytes: u64) -> Result<(PathBuf, PathBuf)> {
    let data = format!("mode=755,size={bytes}");
    at(
        "mount tmpfs on",
        layer,
        k.mount(
            "tmpfs",
            layer,
            "tmpfs",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            &data,
        ),
    )?;
    let (upper, work) = (layer.join("upper"), layer.join("work"));
    at("create", &upper, k.mkdir(&upper, 0o755))?;
    at("create", &work, k.mkdir(&work, 0o755))?;
    Ok((upper, work))
}

fn mount_proc(k: &impl Kernel, root: &Path) -> Result<()> {
    let proc = root.join("proc");
    at("create", &proc, k.mkdir(&proc, 0o555))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    at(
        "mount proc on",
        &proc,
        k.mount("proc", &proc, "proc", flags, ""),
    )
}

/// Kernel knobs under /proc that reach past the container, made read-only.
const PROC_READ_ONLY: &[&str] = &["sys", "sysrq-trigger", "irq", "bus", "fs"];
/// Files under /proc that show host secrets, hidden behind /dev/null.
const PROC_MASKED: &[&str] = &["kcore", "keys", "timer_list", "sched_debug", "kallsyms"];

/// Like a default container runtime: /proc/sys and friends read-only, the
/// host's kernel memory and keys hidden.
fn protect_proc(k: &impl Kernel, root: &Path) -> Result<()> {
    let proc = root.join("proc");
    let bind_ro = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    for name in PROC_READ_ONLY {
        let path = proc.join(name);
        if k.exists(&path) {
            let src = path.to_string_lossy().into_owned();
            at(
                "bind",
                &path,
                k.mount(&src, &path, "", MsFlags::MS_BIND | MsFlags::MS_REC, ""),
            )?;
            at("make read-only", &path, k.mount("", &path, "", bind_ro, ""))?;
        }
    }
    let null = root.join("dev/null").to_string_lossy().into_owned();
    for name in PROC_MASKED {
        let path = proc.join(name);
        if k.exists(&path) {
            at(
                "mask",
                &path,
                k.mount(&null, &path, "", MsFlags::MS_BIND, ""),
            )?;
        }
    }
    Ok(())
}

/// A tmpfs `/dev` with only harmless nodes: no host disk or console is
/// reachable. In a user namespace of its own the nodes are the host's,
/// bound one by one (no device node can be made there).
fn mount_dev(k: &impl Kernel, root: &Path, bind: bool) -> Result<()> {
    let dev = root.join("dev");
    at("create", &dev, k.mkdir(&dev, 0o755))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    at(
        "mount tmpfs on",
        &dev,
        k.mount("tmpfs", &dev, "tmpfs", flags, "mode=755,size=64k"),
    )?;
    for (name, major, minor) in DEVICES {
        let node = dev.join(name);
        if bind {
            bind_device(k, name, &node)?;
        } else {
            at(
                "create device",
                &node,
                k.mknod_char(&node, 0o666, *major, *minor),
            )?;
        }
    }
    mount_pts(k, &dev)?;
    for (target, name) in [
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ] {
        let link = dev.join(name);
        at("create link", &link, k.symlink(target, &link))?;
    }
    let shm = dev.join("shm");
    at("create", &shm, k.mkdir(&shm, 0o1777))?;
    at(
        "mount tmpfs on",
        &shm,
        k.mount(
            "tmpfs",
            &shm,
            "tmpfs",
            flags | MsFlags::MS_NODEV,
            "mode=1777,size=1m",
        ),
    )
}

fn bind_device(k: &impl Kernel, name: &str, node: &Path) -> Result<()> {
    let host = format!("/dev/{name}");
    at("create", node, k.create_file(node))?;
    at(
        "bind the host's device on",
        node,
        k.mount(&host, node, "", MsFlags::MS_BIND, ""),
    )
}

/// The container's own binfmt_misc instance (its user namespace owns it),
/// with the emulator registered while its host path is reachable (the `F`
/// flag opens it now), then made read-only so nothing inside can add to it.
fn register_emulator(k: &impl Kernel, root: &Path, binfmt: &Binfmt) -> Result<()> {
    let dir = root.join("proc/sys/fs/binfmt_misc");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    at(
        "mount the user namespace's own binfmt_misc instance (Linux 6.7+) on",
        &dir,
        k.mount("binfmt_misc", &dir, "binfmt_misc", flags, ""),
    )?;
    let register = dir.join("register");
    at(
        "register the emulator in",
        &register,
        k.write(&register, &binfmt.registration),
    )?;
    let read_only = flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    at("make read-only", &dir, k.mount("", &dir, "", read_only, ""))
}

/// A private devpts instance: the container's ptys are not the host's.
fn mount_pts(k: &impl Kernel, dev: &Path) -> Result<()> {
    let pts = dev.join("pts");
    at("create", &pts, k.mkdir(&pts, 0o755))?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    at(
        "mount devpts on",
        &pts,
        k.mount(
            "devpts",
            &pts,
            "devpts",
            flags,
            "newinstance,ptmxmode=0666,mode=620",
        ),
    )?;
    let ptmx = dev.join("ptmx");
    at("create link", &ptmx, k.symlink("pts/ptmx", &ptmx))
}

/// OpenWrt mounts a fresh tmpfs on `/tmp` at boot; `/var` is a link to it and
/// opkg needs `/var/lock` there.
fn mount_tmp(k: &impl Kernel, root: &Path, bytes: u64) -> Result<()> {
    let tmp = root.join("tmp");
    at("create", &tmp, k.mkdir(&tmp, 0o1777))?;
    let data = format!("mode=1777,size={bytes}");
    at(
        "mount tmpfs on",
        &tmp,
        k.mount(
            "tmpfs",
            &tmp,
            "tmpfs",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            &data,
        ),
    )?;
    for (name, mode) in VOLATILE_DIRS {
        let dir = tmp.join(name);
        at("create", &dir, k.mkdir(&dir, *mode))?;
    }
    Ok(())
}

/// Read-only `/sys` of the container's own network namespace.
fn mount_sys(k: &impl Kernel, root: &Path) -> Result<()> {
    let sys = root.join("sys");
    at("create", &sys, k.mkdir(&sys, 0o555))?;
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    at(
        "mount sysfs on",
        &sys,
        k.mount("sysfs", &sys, "sysfs", flags, ""),
    )
}

/// The real kernel, through nix and std.
pub struct RealKernel;

impl Kernel for RealKernel {
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn open_dir(&self, path: &Path) -> io::Result<Option<std::fs::File>> {
        std::fs::File::open(path).map(Some)
    }

    fn create_file(&self, path: &Path) -> io::Result<()> {
        std::fs::File::create(path).map(drop)
    }

    fn write(&self, path: &Path, data: &str) -> io::Result<()> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        let written = file.write(data.as_bytes())?;
        if written != data.len() {
            return Err(io::Error::other(format!(
                "short write: {written} of {} bytes",
                data.len()
            )));
        }
        Ok(())
    }

    fn mount(
        &self,
        src: &str,
        target: &Path,
        fstype: &str,
        flags: MsFlags,
        data: &str,
    ) -> io::Result<()> {
        let opt = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(s.to_owned())
            }
        };
        let (src, fstype, data) = (opt(src), opt(fstype), opt(data));
        nix::mount::mount(
            src.as_deref(),
            target,
            fstype.as_deref(),
            flags,
            data.as_deref(),
        )
        .map_err(io::Error::from)
    }

    fn mknod_char(&self, path: &Path, mode: u32, major: u64, minor: u64) -> io::Result<()> {
        use nix::sys::stat::{makedev, mknod, Mode, SFlag};
        let mode = Mode::from_bits_truncate(mode);
        mknod(path, SFlag::S_IFCHR, mode, makedev(major, minor)).map_err(io::Error::from)?;
        chmod(path, mode.bits())
    }

    fn mkdir(&self, path: &Path, mode: u32) -> io::Result<()> {
        // An existing mount point keeps its mode: changing it would copy it up.
        if path.is_dir() {
            return Ok(());
        }
        std::fs::create_dir_all(path)?;
        chmod(path, mode)
    }

    fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
        std::os::unix::fs::symlink(target, link)
    }

    fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
        use nix::mount::{umount2, MntFlags};
        // Stacking the old root on top of the new one needs no spare directory;
        // detaching it then leaves only the container's tree.
        std::env::set_current_dir(new_root)?;
        nix::unistd::pivot_root(".", ".").map_err(io::Error::from)?;
        umount2(".", MntFlags::MNT_DETACH).map_err(io::Error::from)?;
        std::env::set_current_dir("/")
    }
}

fn chmod(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Recorder(RefCell<Vec<String>>);

    impl Recorder {
        fn log(&self, line: String) -> io::Result<()> {
            self.0.borrow_mut().push(line);
            Ok(())
        }
    }

    impl Kernel for Recorder {
        fn mount(
            &self,
            src: &str,
            target: &Path,
            fstype: &str,
            _: MsFlags,
            data: &str,
        ) -> io::Result<()> {
            self.log(format!("mount {src} {} {fstype} {data}", target.display()))
        }
        fn mknod_char(&self, path: &Path, _: u32, major: u64, minor: u64) -> io::Result<()> {
            self.log(format!("mknod {} {major}:{minor}", path.display()))
        }
        fn mkdir(&self, path: &Path, mode: u32) -> io::Result<()> {
            self.log(format!("mkdir {} {mode:o}", path.display()))
        }
        fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
            self.log(format!("symlink {} -> {target}", link.display()))
        }
        fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
            self.log(format!("pivot_root {}", new_root.display()))
        }
        fn exists(&self, _: &Path) -> bool {
            true
        }
        fn open_dir(&self, _: &Path) -> io::Result<Option<std::fs::File>> {
            Ok(None)
        }
        fn create_file(&self, path: &Path) -> io::Result<()> {
            self.log(format!("touch {}", path.display()))
        }
        fn write(&self, path: &Path, data: &str) -> io::Result<()> {
            self.log(format!("write {} {data}", path.display()))
        }
    }

    fn setup() -> Setup {
        Setup {
            lower: "/cache/img/rootfs".into(),
            layer: "/run/wrtest/c1/layer".into(),
            layer_bytes: 1 << 30,
            root: "/run/wrtest/c1/root".into(),
            hostname: "OpenWrt".into(),
            cgroup: None,
            compat32: false,
            net_admin: false,
            tmp_bytes: 1 << 20,
            binfmt: None,
            run_user_ns: None,
            rlimits: None,
        }
    }

    #[test]
    fn mounts_stay_inside_the_case_dir_and_pivot_comes_last() {
        let k = Recorder::default();
        build(&k, &setup()).unwrap();
        let calls = k.0.into_inner();
        assert_eq!(calls[0], "mount  /  ");
        assert_eq!(
            calls[1],
            "mount tmpfs /run/wrtest/c1/layer tmpfs mode=755,size=1073741824"
        );
        assert!(calls[4].starts_with("mount overlay /run/wrtest/c1/root overlay lowerdir=/cache/img/rootfs,upperdir=/run/wrtest/c1/layer/upper,"));
        assert_eq!(calls.last().unwrap(), "pivot_root /run/wrtest/c1/root");
        assert_inside_case_dir(&calls);
    }

    /// Every call after making `/` private acts on a path in the case dir
    /// (a bind's source may be the host's device node; its target is not).
    fn assert_inside_case_dir(calls: &[String]) {
        for call in &calls[1..] {
            let path = call
                .split(' ')
                .nth(if call.starts_with("mount") { 2 } else { 1 })
                .unwrap();
            assert!(
                path.starts_with("/run/wrtest/c1/"),
                "{call} escapes the case dir"
            );
        }
    }

    #[test]
    fn dev_has_only_the_minimal_nodes() {
        let k = Recorder::default();
        build(&k, &setup()).unwrap();
        let nodes: Vec<_> =
            k.0.into_inner()
                .into_iter()
                .filter(|c| c.starts_with("mknod"))
                .collect();
        assert_eq!(nodes.len(), DEVICES.len());
        assert!(nodes.iter().all(|n| n.contains("/dev/")));
        assert!(nodes.contains(&"mknod /run/wrtest/c1/root/dev/null 1:3".to_string()));
    }

    #[test]
    fn proc_knobs_are_read_only_and_secrets_masked_after_dev_exists() {
        let k = Recorder::default();
        build(&k, &setup()).unwrap();
        let calls = k.0.into_inner();
        let pos = |needle: &str| {
            calls
                .iter()
                .position(|c| c.contains(needle))
                .unwrap_or_else(|| panic!("no {needle}"))
        };
        assert!(pos("root/proc/sys ") > pos("mount proc"));
        assert!(
            pos("mount /run/wrtest/c1/root/dev/null /run/wrtest/c1/root/proc/kcore")
                > pos("mknod /run/wrtest/c1/root/dev/null")
        );
        assert!(
            calls
                .iter()
                .filter(|c| c.contains("/proc/sysrq-trigger"))
                .count()
                == 2
        );
    }

    #[test]
    fn tmp_is_a_sized_tmpfs_with_openwrt_volatile_dirs() {
        let k = Recorder::default();
        build(&k, &setup()).unwrap();
        let calls = k.0.into_inner();
        assert!(calls.contains(
            &"mount tmpfs /run/wrtest/c1/root/tmp tmpfs mode=1777,size=1048576".to_string()
        ));
        assert!(calls.contains(&"mkdir /run/wrtest/c1/root/tmp/lock 755".to_string()));
        assert!(calls.contains(&"mkdir /run/wrtest/c1/root/tmp/.uci 700".to_string()));
    }

    fn emulated() -> Setup {
        Setup {
            binfmt: Some(Binfmt {
                name: "qemu-aarch64".into(),
                registration: ":qemu-aarch64:M::magic:mask:/opt/qemu-aarch64-static:FP".into(),
            }),
            ..setup()
        }
    }

    fn position(calls: &[String], needle: &str) -> usize {
        calls
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {calls:#?}"))
    }

    #[test]
    fn the_emulator_is_registered_inside_before_pivot_root_then_locked() {
        let k = Recorder::default();
        build(&k, &emulated()).unwrap();
        let calls = k.0.into_inner();
        let bm = "/run/wrtest/c1/root/proc/sys/fs/binfmt_misc";
        let mounted = position(&calls, &format!("mount binfmt_misc {bm} binfmt_misc"));
        let written = position(&calls, &format!("write {bm}/register :qemu-aarch64:"));
        // The remount (read-only) is the only mount there without a source.
        let locked = position(&calls, &format!("mount  {bm}  "));
        let pivot = position(&calls, "pivot_root");
        assert!(mounted < written && written < locked && locked < pivot);
        assert_inside_case_dir(&calls);
        assert!(
            position(&calls, "root/proc/sys ") < mounted,
            "binfmt_misc sits above the read-only /proc/sys bind"
        );
    }

    #[test]
    fn emulated_devices_are_bound_from_the_host_and_overlay_uses_user_xattrs() {
        let k = Recorder::default();
        build(&k, &emulated()).unwrap();
        let calls = k.0.into_inner();
        assert!(!calls.iter().any(|c| c.starts_with("mknod")));
        position(&calls, "mount /dev/null /run/wrtest/c1/root/dev/null");
        position(&calls, "touch /run/wrtest/c1/root/dev/urandom");
        position(&calls, ",userxattr");
    }
}

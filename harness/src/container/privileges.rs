//! What the processes of a container may do: the capability set of a
//! default container runtime minus `MKNOD`, the no-new-privileges bit, and a
//! seccomp filter for the kernel interfaces no namespace covers.
//!
//! Applied by pid 1 once the root filesystem is built, so every process of
//! the case inherits it; pid 1 keeps only what it needs itself (`KILL` for
//! timeouts, `DAC_OVERRIDE` to read and write files for the harness).

use caps::{CapSet, Capability, CapsHashSet};
use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// The capabilities processes in a container keep. No `SYS_ADMIN` (mounts,
/// namespaces), `SYS_MODULE`, `SYS_BOOT`, `SYS_RAWIO`, `SYS_TIME`,
/// `SYS_PTRACE`, `NET_ADMIN`, and no `MKNOD`: no device node can be made to
/// reach a host disk.
pub const KEPT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Reduce this process (pid 1) and so all its future children. An image
/// of another (32-bit) architecture than the host gets no seccomp filter:
/// the filter library cannot describe its system calls, and a filter for the
/// host's would kill every one of its processes.
///
/// `net_admin` keeps `NET_ADMIN` as well, for booted cases whose daemons
/// configure their own network namespace (dnsmasq refuses to start
/// without it); it acts only on the case's own namespace, whose links are
/// the hub link and loopback.
pub fn restrict(compat32: bool, net_admin: bool) -> Result<(), String> {
    drop_capabilities(net_admin).map_err(|e| format!("failed to drop capabilities: {e}"))?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| format!("failed to set no_new_privs: {e}"))?;
    if compat32 {
        return Ok(());
    }
    for filter in seccomp_filters()? {
        seccompiler::apply_filter(&filter)
            .map_err(|e| format!("failed to install the seccomp filter: {e}"))?;
    }
    Ok(())
}

fn drop_capabilities(net_admin: bool) -> Result<(), caps::errors::CapsError> {
    let mut kept: CapsHashSet = KEPT.iter().copied().collect();
    if net_admin {
        kept.insert(Capability::CAP_NET_ADMIN);
    }
    for cap in caps::all() {
        if !kept.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap)?;
        }
    }
    caps::clear(None, CapSet::Ambient)?;
    caps::set(None, CapSet::Inheritable, &CapsHashSet::new())?;
    caps::set(None, CapSet::Effective, &kept)?;
    caps::set(None, CapSet::Permitted, &kept)
}

/// Syscalls refused outright: kernel keyrings, modules, kexec, BPF, perf,
/// userfaultfd, handles that bypass the mount tree, swap, accounting, clocks.
const DENIED: &[i64] = &[
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_open_by_handle_at,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    // Another process's memory or file descriptors: with pid 1 non-dumpable
    // the kernel refuses them for pid 1 already; refused here for all.
    libc::SYS_pidfd_getfd,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
];

/// ioctl requests refused: pushing input into a terminal (TIOCSTI) and the
/// Linux console's multiplexer (TIOCLINUX, which can also select text).
const DENIED_IOCTLS: &[u64] = &[libc::TIOCSTI, libc::TIOCLINUX];

/// The filters, stacked: `DENIED` and new user namespaces (which would
/// hand back every capability inside them) fail with EPERM; `clone3`, whose
/// flags a filter cannot read, fails with ENOSYS so C libraries fall back to
/// `clone`, which the first filter can check. A system call of another
/// architecture (i386's `int 0x80` on x86-64, a known way around filters)
/// kills the process.
fn seccomp_filters() -> Result<Vec<BpfProgram>, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| format!("no seccomp support for this host: {e}"))?;
    let mut denied: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|s| (*s, Vec::new())).collect();
    denied.insert(libc::SYS_unshare, vec![new_user_rule()?]);
    denied.insert(libc::SYS_clone, vec![new_user_rule()?]);
    denied.insert(libc::SYS_ioctl, ioctl_rules()?);
    let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, Vec::new())].into();
    [(denied, libc::EPERM), (clone3, libc::ENOSYS)]
        .into_iter()
        .map(|(rules, errno)| {
            let filter = SeccompFilter::new(
                rules,
                SeccompAction::Allow,
                SeccompAction::Errno(errno as u32),
                arch,
            )
            .map_err(|e| e.to_string())?;
            BpfProgram::try_from(filter).map_err(|e| e.to_string())
        })
        .collect()
}

/// Matches the refused ioctl requests (the second argument).
fn ioctl_rules() -> Result<Vec<SeccompRule>, String> {
    DENIED_IOCTLS
        .iter()
        .map(|request| {
            let cond =
                SeccompCondition::new(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *request)
                    .map_err(|e| e.to_string())?;
            SeccompRule::new(vec![cond]).map_err(|e| e.to_string())
        })
        .collect()
}

/// Matches when the flags argument (the first) asks for a new user namespace.
fn new_user_rule() -> Result<SeccompRule, String> {
    let flag = libc::CLONE_NEWUSER as u64;
    let cond = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Qword,
        SeccompCmpOp::MaskedEq(flag),
        flag,
    )
    .map_err(|e| e.to_string())?;
    SeccompRule::new(vec![cond]).map_err(|e| e.to_string())
}

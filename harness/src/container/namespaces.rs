//! Which namespaces a container gets, in the order they are entered.
//!
//! The order matters and lives only here: the user namespace comes first,
//! so that it owns all the others; the pid namespace comes last because it
//! only applies to the children forked after it. The cgroup namespace is
//! entered by pid 1 itself, once it sits in the case's cgroup, so that this
//! cgroup is the root it sees.
//!
//! The user namespace is entered only by containers that own a binfmt_misc
//! instance (emulated images); its maps send every uid and gid to itself,
//! so root inside is root on files, but capabilities count only for what
//! the namespace owns. A process may not write such maps for itself: a
//! child forked before the unshare writes them from the parent namespace.

use nix::sched::{unshare, CloneFlags};
use std::io::{Read, Write};

use crate::syscall;

/// The namespaces of a container, in the order they are unshared.
pub const ORDER: &[(CloneFlags, &str)] = &[
    (CloneFlags::CLONE_NEWUSER, "user"),
    (CloneFlags::CLONE_NEWNS, "mount"),
    (CloneFlags::CLONE_NEWUTS, "uts"),
    (CloneFlags::CLONE_NEWIPC, "ipc"),
    (CloneFlags::CLONE_NEWNET, "network"),
    (CloneFlags::CLONE_NEWPID, "pid"),
];

/// Entered by pid 1 after the fork, from inside the case's cgroup.
pub const IN_PID1: &[(CloneFlags, &str)] = &[(CloneFlags::CLONE_NEWCGROUP, "cgroup")];

/// Every id mapped to itself: `/proc/1/uid_map` of the host.
const IDENTITY_MAP: &str = "0 0 4294967295\n";

/// A namespace could not be created.
#[derive(Debug, thiserror::Error)]
#[error("failed to create the {name} namespace")]
pub struct NamespaceError {
    name: &'static str,
    #[source]
    source: std::io::Error,
}

/// Unshare every namespace in [`ORDER`], the user namespace only when
/// `user` is set. The caller must be single-threaded, and must then fork:
/// its child is pid 1 of the new pid namespace.
pub fn enter_all(user: bool) -> Result<(), NamespaceError> {
    for (flag, name) in ORDER {
        if *flag != CloneFlags::CLONE_NEWUSER {
            unshare_one(*flag, name)?;
        } else if user {
            enter_user_identity().map_err(|source| NamespaceError { name, source })?;
        }
    }
    Ok(())
}

/// Unshare the namespaces that pid 1 enters itself ([`IN_PID1`]).
pub fn enter_in_pid1() -> Result<(), NamespaceError> {
    for (flag, name) in IN_PID1 {
        unshare_one(*flag, name)?;
    }
    Ok(())
}

fn unshare_one(flag: CloneFlags, name: &'static str) -> Result<(), NamespaceError> {
    unshare(flag).map_err(|e| NamespaceError {
        name,
        source: e.into(),
    })
}

/// Enter a new user namespace whose maps send every uid and gid to
/// itself. A child forked first waits on a pipe until the unshare is done,
/// writes the maps from the parent namespace (the kernel allows a full map
/// only from there) and exits; its status says whether it could.
fn enter_user_identity() -> std::io::Result<()> {
    let parent = std::process::id();
    let (mut ready_rx, mut ready_tx) = std::io::pipe()?;
    let Some(mapper) = syscall::fork_single_threaded(None)? else {
        drop(ready_tx);
        let mut byte = [0u8; 1];
        let code = match ready_rx.read_exact(&mut byte) {
            Ok(()) => write_identity_maps(parent).map_or(1, |()| 0),
            Err(_) => 2,
        };
        syscall::exit_now(code);
    };
    drop(ready_rx);
    // On any failure the pipe closes unwritten, and the child exits at once.
    let unshared = unshare(CloneFlags::CLONE_NEWUSER)
        .map_err(std::io::Error::from)
        .and_then(|()| ready_tx.write_all(b"u"));
    drop(ready_tx);
    let status = wait_exit(mapper)?;
    unshared?;
    match status {
        0 => Ok(()),
        code => Err(std::io::Error::other(format!(
            "failed to write /proc/{parent}/uid_map and gid_map (the mapping child exited with {code})"
        ))),
    }
}

fn write_identity_maps(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/uid_map"), IDENTITY_MAP)?;
    std::fs::write(format!("/proc/{pid}/gid_map"), IDENTITY_MAP)
}

fn wait_exit(pid: libc::pid_t) -> std::io::Result<i32> {
    use nix::sys::wait::{waitpid, WaitStatus};
    loop {
        match waitpid(nix::unistd::Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_namespace_first_pid_namespace_last() {
        assert_eq!(
            ORDER.last().map(|(f, _)| *f),
            Some(CloneFlags::CLONE_NEWPID)
        );
        assert_eq!(
            ORDER.first().map(|(f, _)| *f),
            Some(CloneFlags::CLONE_NEWUSER)
        );
    }
}

//! Which namespaces a container gets, in the order they are entered.
//!
//! The order matters and lives only here: the user namespace (rootless runs,
//! not yet entered) would come first; the pid namespace comes last because
//! it only applies to the children forked after it. The cgroup namespace is
//! entered by pid 1 itself, once it sits in the case's cgroup, so that this
//! cgroup is the root it sees.

use nix::sched::{unshare, CloneFlags};

/// The namespaces of a container, in the order they are unshared.
pub const ORDER: &[(CloneFlags, &str)] = &[
    (CloneFlags::CLONE_NEWNS, "mount"),
    (CloneFlags::CLONE_NEWUTS, "uts"),
    (CloneFlags::CLONE_NEWIPC, "ipc"),
    (CloneFlags::CLONE_NEWNET, "network"),
    (CloneFlags::CLONE_NEWPID, "pid"),
];

/// Entered by pid 1 after the fork, from inside the case's cgroup.
pub const IN_PID1: &[(CloneFlags, &str)] = &[(CloneFlags::CLONE_NEWCGROUP, "cgroup")];

/// A namespace could not be created.
#[derive(Debug, thiserror::Error)]
#[error("failed to create the {name} namespace")]
pub struct NamespaceError {
    name: &'static str,
    #[source]
    source: nix::Error,
}

/// Unshare every namespace in [`ORDER`]. The caller must then fork: its child
/// is pid 1 of the new pid namespace.
pub fn enter_all() -> Result<(), NamespaceError> {
    enter(ORDER)
}

/// Unshare the namespaces that pid 1 enters itself ([`IN_PID1`]).
pub fn enter_in_pid1() -> Result<(), NamespaceError> {
    enter(IN_PID1)
}

fn enter(table: &[(CloneFlags, &'static str)]) -> Result<(), NamespaceError> {
    for (flag, name) in table {
        unshare(*flag).map_err(|source| NamespaceError { name, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_namespace_is_entered_last() {
        assert_eq!(
            ORDER.last().map(|(f, _)| *f),
            Some(CloneFlags::CLONE_NEWPID)
        );
        assert_eq!(
            ORDER.first().map(|(f, _)| *f),
            Some(CloneFlags::CLONE_NEWNS)
        );
    }
}

//! Which namespaces a container gets, in the order they are entered.
//!
//! The order matters and lives only here: the user namespace (rootless runs,
//! not yet entered) would come first; the pid namespace comes last because
//! it only applies to the children forked after it.

use nix::sched::{unshare, CloneFlags};

/// The namespaces of a container, in the order they are unshared.
pub const ORDER: &[(CloneFlags, &str)] = &[
    (CloneFlags::CLONE_NEWNS, "mount"),
    (CloneFlags::CLONE_NEWUTS, "uts"),
    (CloneFlags::CLONE_NEWIPC, "ipc"),
    (CloneFlags::CLONE_NEWNET, "network"),
    (CloneFlags::CLONE_NEWCGROUP, "cgroup"),
    (CloneFlags::CLONE_NEWPID, "pid"),
];

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
    for (flag, name) in ORDER {
        unshare(*flag).map_err(|source| NamespaceError { name, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_namespace_is_entered_last() {
        assert_eq!(ORDER.last().map(|(f, _)| *f), Some(CloneFlags::CLONE_NEWPID));
        assert_eq!(ORDER.first().map(|(f, _)| *f), Some(CloneFlags::CLONE_NEWNS));
    }
}

//! Package lifecycle checks beyond "it installs": what a removal leaves
//! behind, compared with the system before the install.
//!
//! [`diff()`] compares two snapshots of a container's changes (its overlay
//! upper layer and `/tmp`) against the image below them; [`report`] sorts
//! the differences into leftovers (by owning package when known), kept
//! configuration and processes still running. This module reads
//! containers and the image; it changes neither.

pub mod diff;
pub mod report;

pub use diff::{diff, Change, ChangeKind, Snapshot};
pub use report::{classify, Context, Leftover, LifecycleReport, DEFAULT_IGNORED};

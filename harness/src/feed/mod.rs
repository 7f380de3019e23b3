//! Local opkg feeds: an index (`Packages`, `Packages.gz`) written in Rust
//! from a set of ipks, published inside a container as a `file://` feed
//! that replaces the image's internet feeds, so `opkg update` and
//! `opkg install NAME` resolve dependencies as on a router, offline.
//!
//! This module owns the index format and the container's feed
//! configuration (`/etc/opkg/customfeeds.conf`, `/etc/opkg/distfeeds.conf`
//! and the `check_signature` option of `/etc/opkg.conf`).

pub mod index;
mod publish;

pub use index::{entry, index};
pub use publish::{publish, FEED_DIR};

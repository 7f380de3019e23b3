//! Local opkg feeds: an index (`Packages`, `Packages.gz`) written in Rust
//! from a set of ipks, optionally signed with a usign key made for it,
//! published inside a container as a `file://` feed or served over HTTP by
//! the run's hub; it replaces the image's internet feeds, so `opkg update`
//! and `opkg install NAME` resolve dependencies as on a router, offline.
//!
//! This module owns the index format and the container's feed
//! configuration (`/etc/opkg/customfeeds.conf`, `/etc/opkg/distfeeds.conf`
//! and the `check_signature` option of `/etc/opkg.conf`).

pub mod index;
mod publish;
pub mod usign;

pub use index::{entry, index};
pub use publish::{publish, update, FeedOptions, Published, Signing, Transport, FEED_DIR};

//! OpenWrt `.ipk` packages: reading them, and building them from fixture trees.
//!
//! Owns the package file formats and nothing past them: installing,
//! removing and running scripts is opkg's job inside a container. Reading
//! accepts both container forms, the gzip-compressed tar that OpenWrt's
//! ipkg-build writes and the Debian-style `ar` archive, from a file or any
//! reader; it bounds everything it decompresses or keeps, and refuses a
//! damaged or hostile package with one [`IpkError`] naming the file.
//! Building writes the ipkg-build form, byte-identical for identical fixture
//! trees.

mod arch;
mod arwalk;
pub(crate) mod build;
mod control;
pub(crate) mod depends;
mod error;
pub(crate) mod pack;
mod read;
mod stream;
mod tarwalk;
#[cfg(test)]
mod testgen;

pub use arch::arch_compatible;
pub use build::build;
pub use control::Control;
pub use depends::{Dependency, Relation};
pub use error::IpkError;
pub use read::{read, read_from, Ipk};

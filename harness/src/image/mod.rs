//! OpenWrt root filesystem images: named in the project's `wrtest.toml`,
//! verified against a pinned sha256, extracted once into a cache keyed by
//! that digest and used read-only from then on.
//!
//! This module owns the cache directory and never writes into an extracted
//! image after it is complete; containers only ever use it as the lower
//! layer of an overlay.

pub mod cache;
mod config;
mod error;
mod meta;

pub use cache::{cache_dir, prepare, Prepared};
pub use config::{Config, ImageEntry, CONFIG_NAME};
pub use error::ImageError;
pub use meta::{
    host_elf, host_elf_machine, parse_ident, peek, ElfIdent, ImageMeta, PackageManager,
};

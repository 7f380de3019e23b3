//! Walks a tar stream entry by entry, resolving GNU long names and pax
//! `path`/`linkpath` records itself so that their size stays bounded.
//!
//! The `tar` crate, left to itself, reads long-name records of any length
//! into memory; here it runs in raw mode and this module does that part.

use std::io::Read;

use tar::{Entry, EntryType, PaxExtensions};

use super::error::IpkError;
use super::stream::Layer;

/// Longest entry name or link target accepted (Linux `PATH_MAX`).
const NAME_LIMIT: u64 = 4096;
/// Largest pax extended header accepted.
const PAX_LIMIT: u64 = 64 * 1024;

/// One archive entry, with its name and link target fully resolved.
pub(super) struct Item {
    /// The entry name as stored (e.g. `./usr/bin/x`).
    pub name: Vec<u8>,
    /// Link target for symlinks and hard links.
    pub link: Option<Vec<u8>>,
    /// The tar entry type.
    pub kind: EntryType,
}

/// Long-name records waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    name: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
}

/// Calls `visit` on every real entry of the tar stream `reader`, then hands
/// the stream back so the caller can check what follows the archive.
pub(super) fn walk<R: Read>(
    reader: R,
    layer: &Layer<'_>,
    mut visit: impl FnMut(&Item, &mut dyn Read) -> Result<(), IpkError>,
) -> Result<R, IpkError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| layer.fail(e))?;
    let mut pending = Pending::default();
    for entry in entries.raw(true) {
        let mut entry = entry.map_err(|e| layer.fail(e))?;
        if let Some(item) = pending.take(&mut entry, layer)? {
            visit(&item, &mut entry)?;
        }
    }
    Ok(archive.into_inner())
}

impl Pending {
    /// Absorbs an extension record (returning `None`) or resolves a real entry.
    fn take<R: Read>(
        &mut self,
        entry: &mut Entry<'_, R>,
        layer: &Layer<'_>,
    ) -> Result<Option<Item>, IpkError> {
        let kind = entry.header().entry_type();
        match kind {
            EntryType::GNULongName => self.name = Some(read_record(entry, NAME_LIMIT, layer)?),
            EntryType::GNULongLink => self.link = Some(read_record(entry, NAME_LIMIT, layer)?),
            EntryType::XHeader => self.absorb_pax(&read_record(entry, PAX_LIMIT, layer)?, layer)?,
            EntryType::XGlobalHeader => {}
            EntryType::GNUSparse => return Err(unsupported(entry, layer, "GNU sparse file")),
            _ => return Ok(Some(self.resolve(entry, kind))),
        }
        Ok(None)
    }

    fn resolve<R: Read>(&mut self, entry: &Entry<'_, R>, kind: EntryType) -> Item {
        let name = self
            .name
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let link = self
            .link
            .take()
            .or_else(|| entry.link_name_bytes().map(|l| l.into_owned()));
        Item { name, link, kind }
    }

    fn absorb_pax(&mut self, record: &[u8], layer: &Layer<'_>) -> Result<(), IpkError> {
        for ext in PaxExtensions::new(record) {
            let ext = ext.map_err(|e| layer.fail(e))?;
            match ext.key_bytes() {
                b"path" => self.name = Some(ext.value_bytes().to_vec()),
                b"linkpath" => self.link = Some(ext.value_bytes().to_vec()),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Reads an extension record's body, refusing bodies above `limit` bytes;
/// trailing NULs (GNU long names end with one) are dropped.
fn read_record<R: Read>(
    entry: &mut Entry<'_, R>,
    limit: u64,
    layer: &Layer<'_>,
) -> Result<Vec<u8>, IpkError> {
    if entry.size() > limit {
        return Err(unsupported(
            entry,
            layer,
            "tar extension record over the size bound",
        ));
    }
    let mut body = Vec::new();
    entry
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|e| layer.fail(e))?;
    while body.last() == Some(&0) {
        body.pop();
    }
    Ok(body)
}

fn unsupported<R: Read>(entry: &Entry<'_, R>, layer: &Layer<'_>, kind: &'static str) -> IpkError {
    IpkError::UnsupportedEntry {
        path: layer.path.to_path_buf(),
        member: layer.member,
        entry: String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
        kind,
    }
}

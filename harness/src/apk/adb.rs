//! apk-tools 3's ADB container: reading and writing its blocks and values.
//!
//! A file is `ADB.` and a 4-byte schema id (`pckg`, `indx`), then blocks,
//! each a little-endian `u32` (type in the top two bits, header-plus-payload
//! length below) and a payload padded to 8 bytes: one ADB block (the
//! metadata), optional signature blocks, then data blocks. A file may also
//! be deflate-compressed as a whole behind the magic `ADBd`.
//!
//! Inside the ADB block every value is a `u32`: a type in the top four bits
//! and either an inline integer or an offset into the block. Objects and
//! arrays are `u32` lists whose first entry is their length (itself
//! included); field `i` of an object is entry `i`. This module knows the
//! encoding only; what the fields mean is [`super::schema`]'s business.
//! Reading never panics on hostile input: every offset is bounds-checked.

use std::io::Read;

/// The file magic of an uncompressed ADB file.
pub const MAGIC: &[u8; 4] = b"ADB.";
/// The magic of a deflate-compressed one.
pub const MAGIC_DEFLATE: &[u8; 4] = b"ADBd";

/// Block types.
pub const BLOCK_ADB: u32 = 0;
/// A signature block.
pub const BLOCK_SIG: u32 = 1;
/// A data block (a file's content in a package).
pub const BLOCK_DATA: u32 = 2;
const BLOCK_EXT: u32 = 3;
const BLOCK_ALIGN: usize = 8;

const TYPE_MASK: u32 = 0xf000_0000;
const VALUE_MASK: u32 = 0x0fff_ffff;
const TYPE_INT: u32 = 0x1000_0000;
const TYPE_INT_32: u32 = 0x2000_0000;
const TYPE_INT_64: u32 = 0x3000_0000;
const TYPE_BLOB_8: u32 = 0x8000_0000;
const TYPE_BLOB_16: u32 = 0x9000_0000;
const TYPE_BLOB_32: u32 = 0xa000_0000;
const TYPE_ARRAY: u32 = 0xd000_0000;
const TYPE_OBJECT: u32 = 0xe000_0000;

/// Decompressed files larger than this are refused.
const MAX_FILE: u64 = 256 << 20;

/// Why bytes are not a valid ADB file (the caller names the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Neither `ADB.` nor `ADBd` at the start.
    #[error("not an apk v3 file: it starts with {0:?}, not \"ADB.\" or \"ADBd\"")]
    Magic(String),
    /// The deflate stream is damaged or too large.
    #[error("damaged deflate compression: {0}")]
    Deflate(String),
    /// A block runs past the end of the file.
    #[error("truncated: a block at byte {offset} needs {needed} bytes, {left} are left")]
    Truncated {
        /// Where the block starts (after the 8-byte header).
        offset: usize,
        /// How many bytes it claims.
        needed: usize,
        /// How many the file still has.
        left: usize,
    },
    /// Blocks out of order, or none holding metadata.
    #[error("bad block structure: {0}")]
    Blocks(String),
    /// The schema is not the one expected.
    #[error("schema is {found:?}, expected {expected:?}")]
    Schema {
        /// The file's schema id as text.
        found: String,
        /// The one wanted.
        expected: String,
    },
    /// A value points outside the metadata block or has the wrong type.
    #[error("bad value in the metadata: {0}")]
    Value(String),
}

/// One block of a file: its type and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// [`BLOCK_ADB`], [`BLOCK_SIG`] or [`BLOCK_DATA`].
    pub kind: u32,
    /// The payload, without header or padding.
    pub payload: Vec<u8>,
}

/// A whole file: schema id and blocks in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The 4-byte schema id, e.g. `*b"pckg"`.
    pub schema: [u8; 4],
    /// Every block.
    pub blocks: Vec<Block>,
}

impl File {
    /// Parse a file (compressed or not); `expected` checks the schema.
    pub fn parse(bytes: &[u8], expected: Option<&[u8; 4]>) -> Result<File, FormatError> {
        let plain = decompress(bytes)?;
        let schema: [u8; 4] = plain
            .get(4..8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| FormatError::Blocks("the 8-byte file header is cut short".into()))?;
        if let Some(want) = expected.filter(|w| **w != schema) {
            return Err(FormatError::Schema {
                found: String::from_utf8_lossy(&schema).into_owned(),
                expected: String::from_utf8_lossy(want).into_owned(),
            });
        }
        let blocks = blocks(&plain[8..])?;
        check_order(&blocks)?;
        Ok(File { schema, blocks })
    }

    /// The metadata block.
    pub fn adb(&self) -> Option<Db<'_>> {
        self.blocks
            .iter()
            .find(|b| b.kind == BLOCK_ADB)
            .map(|b| Db { data: &b.payload })
    }

    /// Serialise, uncompressed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::from(&MAGIC[..]);
        out.extend_from_slice(&self.schema);
        for block in &self.blocks {
            write_block(&mut out, block.kind, &block.payload);
        }
        out
    }
}

/// Append one block: header, payload, zero padding to 8 bytes.
pub fn write_block(out: &mut Vec<u8>, kind: u32, payload: &[u8]) {
    let raw = 4 + payload.len();
    out.extend_from_slice(&((kind << 30) | raw as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len() + raw.next_multiple_of(BLOCK_ALIGN) - raw, 0);
}

fn decompress(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let head = bytes.get(..4).unwrap_or(bytes);
    if head == MAGIC {
        return Ok(bytes.to_vec());
    }
    if head != MAGIC_DEFLATE {
        return Err(FormatError::Magic(
            String::from_utf8_lossy(head).into_owned(),
        ));
    }
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(&bytes[4..])
        .take(MAX_FILE + 1)
        .read_to_end(&mut plain)
        .map_err(|e| FormatError::Deflate(e.to_string()))?;
    if plain.len() as u64 > MAX_FILE {
        return Err(FormatError::Deflate(format!(
            "more than {MAX_FILE} bytes once uncompressed"
        )));
    }
    if plain.get(..4) != Some(&MAGIC[..]) {
        return Err(FormatError::Deflate(
            "the uncompressed stream does not start with \"ADB.\"".into(),
        ));
    }
    Ok(plain)
}

fn blocks(mut rest: &[u8]) -> Result<Vec<Block>, FormatError> {
    let mut blocks = Vec::new();
    let mut offset = 8;
    while !rest.is_empty() {
        let truncated = |needed: usize, left: usize| FormatError::Truncated {
            offset,
            needed,
            left,
        };
        let word = u32_at(rest, 0).ok_or_else(|| truncated(4, rest.len()))?;
        let (kind, raw, header) = if word >> 30 == BLOCK_EXT {
            let size = rest.get(8..16).ok_or_else(|| truncated(16, rest.len()))?;
            let size = u64::from_le_bytes(size.try_into().unwrap_or_default());
            (
                word & 0x3fff_ffff,
                usize::try_from(size).unwrap_or(usize::MAX),
                16,
            )
        } else {
            (word >> 30, (word & 0x3fff_ffff) as usize, 4)
        };
        if raw < header {
            return Err(FormatError::Blocks(format!(
                "block at byte {offset} claims {raw} bytes, less than its header"
            )));
        }
        let padded = raw
            .checked_next_multiple_of(BLOCK_ALIGN)
            .unwrap_or(usize::MAX);
        // apk writes the padding after the last block too, and refuses a
        // file without it.
        if padded > rest.len() {
            return Err(truncated(padded, rest.len()));
        }
        blocks.push(Block {
            kind,
            payload: rest[header..raw].to_vec(),
        });
        rest = &rest[padded..];
        offset += padded;
    }
    Ok(blocks)
}

/// One ADB block first; signatures; data blocks last.
fn check_order(blocks: &[Block]) -> Result<(), FormatError> {
    match blocks.first() {
        Some(b) if b.kind == BLOCK_ADB && b.payload.len() >= 8 => {}
        Some(_) => {
            return Err(FormatError::Blocks(
                "the first block is not metadata".into(),
            ))
        }
        None => return Err(FormatError::Blocks("no blocks after the header".into())),
    }
    let mut seen_data = false;
    for b in &blocks[1..] {
        match b.kind {
            BLOCK_SIG if !seen_data => {}
            BLOCK_DATA => seen_data = true,
            other => {
                return Err(FormatError::Blocks(format!(
                    "block of type {other} where {}",
                    if seen_data {
                        "only data may follow"
                    } else {
                        "a signature or data was expected"
                    }
                )))
            }
        }
    }
    Ok(())
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// A read view of a metadata block.
#[derive(Debug, Clone, Copy)]
pub struct Db<'a> {
    data: &'a [u8],
}

/// An object or array read from a [`Db`]: its entries, index 0 unused.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    db: Db<'a>,
    entries: Vec<u32>,
}

impl<'a> Db<'a> {
    /// The root object (null root gives an empty object).
    pub fn root(&self) -> Result<Obj<'a>, FormatError> {
        let root = u32_at(self.data, 4).unwrap_or(0);
        self.obj(root)
    }

    /// The object or array at `value`; null gives an empty one.
    pub fn obj(&self, value: u32) -> Result<Obj<'a>, FormatError> {
        let ty = value & TYPE_MASK;
        if value == 0 {
            return Ok(Obj {
                db: *self,
                entries: vec![1],
            });
        }
        if ty != TYPE_OBJECT && ty != TYPE_ARRAY {
            return Err(FormatError::Value(format!(
                "{value:#010x} is not an object"
            )));
        }
        let at = (value & VALUE_MASK) as usize;
        let count = self.word(at)? as usize;
        if count == 0 || count > self.data.len() / 4 {
            return Err(FormatError::Value(format!(
                "object at {at} claims {count} entries"
            )));
        }
        let entries = (0..count)
            .map(|i| self.word(at + 4 * i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Obj { db: *self, entries })
    }

    /// The blob at `value`; null gives `None`.
    pub fn blob(&self, value: u32) -> Result<Option<&'a [u8]>, FormatError> {
        let at = (value & VALUE_MASK) as usize;
        let (len, head) = match value & TYPE_MASK {
            0 if value == 0 => return Ok(None),
            TYPE_BLOB_8 => (*self.bytes(at, 1)?.first().unwrap_or(&0) as usize, 1),
            TYPE_BLOB_16 => {
                let b = self.bytes(at, 2)?;
                (u16::from_le_bytes([b[0], b[1]]) as usize, 2)
            }
            TYPE_BLOB_32 => (self.word(at)? as usize, 4),
            _ => return Err(FormatError::Value(format!("{value:#010x} is not a blob"))),
        };
        self.bytes(at + head, len).map(Some)
    }

    /// The integer at `value`; null gives 0.
    pub fn int(&self, value: u32) -> Result<u64, FormatError> {
        let at = (value & VALUE_MASK) as usize;
        match value & TYPE_MASK {
            0 => Ok(0),
            TYPE_INT => Ok(u64::from(value & VALUE_MASK)),
            TYPE_INT_32 => Ok(u64::from(self.word(at)?)),
            TYPE_INT_64 => {
                let b = self.bytes(at, 8)?;
                Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
            }
            _ => Err(FormatError::Value(format!(
                "{value:#010x} is not an integer"
            ))),
        }
    }

    fn word(&self, at: usize) -> Result<u32, FormatError> {
        u32_at(self.data, at).ok_or_else(|| self.outside(at, 4))
    }

    fn bytes(&self, at: usize, len: usize) -> Result<&'a [u8], FormatError> {
        let end = at.checked_add(len).ok_or_else(|| self.outside(at, len))?;
        self.data.get(at..end).ok_or_else(|| self.outside(at, len))
    }

    fn outside(&self, at: usize, len: usize) -> FormatError {
        FormatError::Value(format!(
            "{len} bytes at offset {at} lie outside the {}-byte metadata block",
            self.data.len()
        ))
    }
}

impl<'a> Obj<'a> {
    /// Number of array items (entries after the count).
    pub fn len(&self) -> usize {
        self.entries.len() - 1
    }

    /// True for an empty array or object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw value of field (or 1-based item) `i`; null when absent.
    pub fn raw(&self, i: usize) -> u32 {
        if i == 0 {
            return 0;
        }
        self.entries.get(i).copied().unwrap_or(0)
    }

    /// Field `i` as text (lossy UTF-8); `None` when absent.
    pub fn text(&self, i: usize) -> Result<Option<String>, FormatError> {
        Ok(self
            .db
            .blob(self.raw(i))?
            .map(|b| String::from_utf8_lossy(b).into_owned()))
    }

    /// Field `i` as bytes.
    pub fn blob(&self, i: usize) -> Result<Option<&'a [u8]>, FormatError> {
        self.db.blob(self.raw(i))
    }

    /// Field `i` as an integer (0 when absent).
    pub fn int(&self, i: usize) -> Result<u64, FormatError> {
        self.db.int(self.raw(i))
    }

    /// Field `i` as an object or array.
    pub fn obj(&self, i: usize) -> Result<Obj<'a>, FormatError> {
        self.db.obj(self.raw(i))
    }

    /// The items of an array, as objects.
    pub fn items(&self) -> Result<Vec<Obj<'a>>, FormatError> {
        (1..=self.len()).map(|i| self.obj(i)).collect()
    }
}

/// Builds a metadata block: values are appended to a growing buffer that
/// starts with the 8-byte block header (versions and root).
#[derive(Debug)]
pub struct Writer {
    data: Vec<u8>,
}

/// A value written (or an inline one), ready to put in an object.
pub type Value = u32;

impl Default for Writer {
    fn default() -> Self {
        Writer { data: vec![0; 8] }
    }
}

impl Writer {
    /// A blob; empty gives null, as apk writes it.
    pub fn blob(&mut self, bytes: &[u8]) -> Value {
        let n = bytes.len();
        let (ty, len): (u32, Vec<u8>) = match n {
            0 => return 0,
            1..=0xff => (TYPE_BLOB_8, vec![n as u8]),
            0x100..=0xffff => (TYPE_BLOB_16, (n as u16).to_le_bytes().to_vec()),
            _ => (TYPE_BLOB_32, (n as u32).to_le_bytes().to_vec()),
        };
        let at = self.append(&[&len, bytes].concat(), len.len());
        ty | at
    }

    /// An integer, inline when it fits in 28 bits.
    pub fn int(&mut self, value: u64) -> Value {
        if value < u64::from(TYPE_INT) {
            return TYPE_INT | value as u32;
        }
        match u32::try_from(value) {
            Ok(v) => TYPE_INT_32 | self.append(&v.to_le_bytes(), 4),
            Err(_) => TYPE_INT_64 | self.append(&value.to_le_bytes(), 8),
        }
    }

    /// An object from its fields (index 1 first); trailing nulls dropped,
    /// and an object with no field at all is null.
    pub fn object(&mut self, fields: &[Value]) -> Value {
        self.list(TYPE_OBJECT, fields)
    }

    /// An array of items; nulls are skipped, an empty array is null.
    pub fn array(&mut self, items: &[Value]) -> Value {
        let kept: Vec<Value> = items.iter().copied().filter(|v| *v != 0).collect();
        self.list(TYPE_ARRAY, &kept)
    }

    fn list(&mut self, ty: u32, values: &[Value]) -> Value {
        let used = values.iter().rposition(|v| *v != 0).map_or(0, |i| i + 1);
        if used == 0 {
            return 0;
        }
        let mut bytes = ((used + 1) as u32).to_le_bytes().to_vec();
        for v in &values[..used] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        ty | self.append(&bytes, 4)
    }

    /// Copy `value` of `db` (and everything it points to) into this block.
    pub fn copy(&mut self, db: &Db, value: u32) -> Result<Value, FormatError> {
        match value & TYPE_MASK {
            0 | TYPE_INT => Ok(value),
            TYPE_INT_32 | TYPE_INT_64 => Ok(self.int(db.int(value)?)),
            TYPE_BLOB_8 | TYPE_BLOB_16 | TYPE_BLOB_32 => {
                Ok(self.blob(db.blob(value)?.unwrap_or(&[])))
            }
            ty @ (TYPE_OBJECT | TYPE_ARRAY) => {
                let fields = self.copy_fields(&db.obj(value)?)?;
                Ok(self.list(ty, &fields))
            }
            _ => Err(FormatError::Value(format!(
                "{value:#010x} has an unknown type"
            ))),
        }
    }

    /// Copies of an object's fields (index 1 first), to amend and write.
    pub fn copy_fields(&mut self, obj: &Obj) -> Result<Vec<Value>, FormatError> {
        (1..obj.entries.len())
            .map(|i| self.copy(&obj.db, obj.raw(i)))
            .collect()
    }

    /// Set the root and return the block's bytes.
    pub fn finish(mut self, root: Value) -> Vec<u8> {
        self.data[4..8].copy_from_slice(&root.to_le_bytes());
        self.data
    }

    fn append(&mut self, bytes: &[u8], align: usize) -> u32 {
        let at = self.data.len().next_multiple_of(align);
        self.data.resize(at, 0);
        self.data.extend_from_slice(bytes);
        at as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::default();
        let name = w.blob(b"hello");
        let big = w.int(0x0012_3456_789a);
        let small = w.int(7);
        let long = w.blob(&[b'x'; 300]);
        let list = w.array(&[small, 0, big]);
        let root = w.object(&[name, list, 0, long]);
        let adb = w.finish(root);
        File {
            schema: *b"test",
            blocks: vec![Block {
                kind: BLOCK_ADB,
                payload: adb,
            }],
        }
        .to_bytes()
    }

    #[test]
    fn values_round_trip() {
        let file = File::parse(&sample(), Some(b"test")).unwrap();
        let root = file.adb().unwrap().root().unwrap();
        assert_eq!(root.text(1).unwrap().as_deref(), Some("hello"));
        let list = root.obj(2).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list.int(1).unwrap(), 7);
        assert_eq!(list.int(2).unwrap(), 0x0012_3456_789a);
        assert_eq!(root.text(3).unwrap(), None);
        assert_eq!(root.blob(4).unwrap().unwrap().len(), 300);
        assert_eq!(root.text(9).unwrap(), None);
    }

    #[test]
    fn blocks_are_padded_to_eight_bytes() {
        let bytes = sample();
        assert_eq!((bytes.len() - 8) % 8, 0);
    }

    #[test]
    fn deflated_files_are_read() {
        use std::io::Write;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&sample()).unwrap();
        let mut bytes = MAGIC_DEFLATE.to_vec();
        bytes.extend(enc.finish().unwrap());
        let file = File::parse(&bytes, None).unwrap();
        assert_eq!(&file.schema, b"test");
    }

    #[test]
    fn wrong_magic_and_schema_are_named() {
        let err = File::parse(b"!<arch>\nxxxx", None).unwrap_err();
        assert!(err.to_string().contains("not an apk v3 file"), "{err}");
        let err = File::parse(&sample(), Some(b"pckg")).unwrap_err();
        assert!(err.to_string().contains("schema is \"test\""), "{err}");
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            if let Ok(file) = File::parse(cut, None) {
                // A cut at a block boundary leaves a shorter valid file
                // only if nothing but padding went; values must still read.
                let _ = file.adb().map(|db| db.root());
            }
        }
    }

    #[test]
    fn offsets_outside_the_block_are_refused() {
        let mut w = Writer::default();
        let root = w.object(&[TYPE_BLOB_8 | 0x0fff_fff0]);
        let adb = w.finish(root);
        let db = Db { data: &adb };
        let err = db.root().unwrap().text(1).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
    }
}

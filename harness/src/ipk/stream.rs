//! Size bounds on decompressed streams, and turning the I/O errors of one
//! archive layer into an [`IpkError`] that names the package and the layer.
//!
//! A hostile package can decompress to far more than its own size; every
//! stream we decode goes through [`Bounded`] so the worst case is a clear
//! refusal rather than exhausted memory or a read that never ends.

use std::error::Error;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use super::error::IpkError;

/// Uncompressed bound on the outer tar of a gzip-form package.
pub(super) const OUTER_LIMIT: u64 = 1 << 30;
/// Uncompressed bound on `control.tar.gz`, which is read into memory.
pub(super) const CONTROL_LIMIT: u64 = 1 << 20;
/// Uncompressed bound on `data.tar.gz`, which is only streamed.
pub(super) const DATA_LIMIT: u64 = 4 << 30;

/// The archive layer being read, for error messages and its size bound.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layer<'a> {
    /// The package file.
    pub path: &'a Path,
    /// "outer archive", "control.tar.gz" or "data.tar.gz".
    pub member: &'static str,
    /// Uncompressed bytes this layer may produce.
    pub limit: u64,
}

impl Layer<'_> {
    /// Classifies an I/O error met while reading this layer.
    pub fn fail(&self, err: io::Error) -> IpkError {
        let path = self.path.to_path_buf();
        let member = self.member;
        if err
            .get_ref()
            .is_some_and(|inner| inner.is::<LimitExceeded>())
        {
            let limit = self.limit;
            return IpkError::TooLarge {
                path,
                member,
                limit,
            };
        }
        if err.kind() == io::ErrorKind::UnexpectedEof {
            let source = Some(err);
            return IpkError::Truncated {
                path,
                member,
                source,
            };
        }
        IpkError::Corrupt {
            path,
            member,
            source: err,
        }
    }

    /// Reads `reader` to its end without keeping anything, so trailing
    /// checksums get verified.
    pub fn drain(&self, mut reader: impl Read) -> Result<(), IpkError> {
        io::copy(&mut reader, &mut io::sink()).map_err(|e| self.fail(e))?;
        Ok(())
    }
}

/// Marker error carried inside `io::Error` when a [`Bounded`] stream overflows.
#[derive(Debug)]
struct LimitExceeded;

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stream exceeds its size bound")
    }
}

impl Error for LimitExceeded {}

/// A reader that fails once more than `remaining` bytes have come through.
pub(super) struct Bounded<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Bounded<R> {
    /// Wraps `inner`, allowing at most `limit` bytes.
    pub fn new(inner: R, limit: u64) -> Self {
        Bounded {
            inner,
            remaining: limit,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte past the bound so overflow is seen, not silently cut.
        let want = usize::try_from(self.remaining.saturating_add(1)).unwrap_or(usize::MAX);
        let len = buf.len().min(want);
        // `len` never exceeds `buf.len()`, so the slice is always there.
        let got = self.inner.read(buf.get_mut(..len).unwrap_or_default())?;
        let got_u64 = u64::try_from(got).unwrap_or(u64::MAX);
        if got_u64 > self.remaining {
            return Err(io::Error::other(LimitExceeded));
        }
        self.remaining -= got_u64;
        Ok(got)
    }
}

/// A reader that counts the bytes that came through it.
pub(super) struct Counted<R> {
    inner: R,
    /// Bytes read so far.
    pub count: u64,
}

impl<R: Read> Counted<R> {
    /// Wraps `inner`, starting from zero.
    pub fn new(inner: R) -> Self {
        Counted { inner, count: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = self.inner.read(buf)?;
        self.count = self
            .count
            .saturating_add(u64::try_from(got).unwrap_or(u64::MAX));
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> Layer<'static> {
        let path = Path::new("/p.ipk");
        Layer {
            path,
            member: "data.tar.gz",
            limit: 4,
        }
    }

    fn read_all(data: &[u8], limit: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Bounded::new(data, limit).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn exactly_the_limit_is_allowed() {
        assert_eq!(read_all(b"abcd", 4).ok(), Some(b"abcd".to_vec()));
        assert_eq!(read_all(b"", 0).ok(), Some(Vec::new()));
    }

    #[test]
    fn one_byte_more_is_too_large() {
        let err = read_all(b"abcde", 4)
            .err()
            .map(|e| layer().fail(e).to_string());
        assert_eq!(
            err.as_deref(),
            Some("/p.ipk: data.tar.gz holds more than 4 bytes once uncompressed")
        );
    }

    #[test]
    fn eof_means_truncated_anything_else_corrupt() {
        let eof = layer().fail(io::ErrorKind::UnexpectedEof.into());
        assert!(matches!(eof, IpkError::Truncated { .. }), "{eof}");
        let bad = layer().fail(io::Error::new(io::ErrorKind::InvalidData, "bad header"));
        assert_eq!(bad.to_string(), "read data.tar.gz in /p.ipk");
    }
}

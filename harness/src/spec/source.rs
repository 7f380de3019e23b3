//! The text of one suite file and how to point into it.
//!
//! Owns the translation from the byte offsets reported by the TOML parser to
//! [`Location`]s. Nothing here interprets the suite format.

use std::path::Path;

use super::error::{Location, SpecError};

/// Bytes between two marks of the character count; a column is found by
/// counting at most this many bytes twice.
const MARK_STRIDE: usize = 1024;

/// A suite file's path and text, borrowed for the length of one parse.
///
/// Every value of a suite remembers its location, so finding one must not
/// rescan the text from the start: that made a 400 KB suite take seconds.
/// Line starts and a character count every [`MARK_STRIDE`] bytes are
/// indexed once, in [`Source::new`].
pub(crate) struct Source<'a> {
    /// The path used in every [`Location`].
    pub path: &'a Path,
    /// The whole file.
    pub text: &'a str,
    /// The byte offset where each line starts; the first is 0.
    line_starts: Vec<usize>,
    /// How many characters come before byte `k * MARK_STRIDE`, for each `k`.
    char_marks: Vec<usize>,
}

impl<'a> Source<'a> {
    /// Indexes `text`, read from `path`.
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        let breaks = text.match_indices('\n').map(|(i, _)| i + 1);
        let line_starts = std::iter::once(0).chain(breaks).collect();
        let counts = text.as_bytes().chunks(MARK_STRIDE).map(char_starts);
        let char_marks = std::iter::once(0)
            .chain(counts.scan(0, |total, n| {
                *total += n;
                Some(*total)
            }))
            .collect();
        Source {
            path,
            text,
            line_starts,
            char_marks,
        }
    }

    /// The 1-based line and character column of byte `offset`.
    pub fn location(&self, offset: usize) -> Location {
        let end = self.floor_boundary(offset);
        // The first line starts at 0, so `line` is at least 1.
        let line = self.line_starts.partition_point(|&start| start <= end);
        let line_start = line.checked_sub(1).and_then(|i| self.line_starts.get(i));
        let line_start = line_start.copied().unwrap_or_default();
        Location {
            file: self.path.to_path_buf(),
            line,
            col: self.chars_before(end) - self.chars_before(line_start) + 1,
        }
    }

    /// How many characters the text holds before byte `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let mark = offset / MARK_STRIDE;
        let counted = self.char_marks.get(mark).copied().unwrap_or_default();
        let rest = self.text.as_bytes().get(mark * MARK_STRIDE..offset);
        counted + rest.map_or(0, char_starts)
    }

    /// An error pointing at byte `offset`.
    pub fn error(&self, offset: usize, message: impl Into<String>) -> SpecError {
        SpecError::new(self.location(offset), message)
    }

    /// Where the value of a `key = value` pair starts, given the byte just
    /// after its key. `None` when the key is not followed by `=`: it names a
    /// table header or is the first part of a dotted key.
    pub fn value_start(&self, key_end: usize) -> Option<usize> {
        let rest = self.text.get(key_end..)?;
        let value = rest
            .trim_start_matches([' ', '\t'])
            .strip_prefix('=')?
            .trim_start_matches([' ', '\t']);
        Some(self.text.len() - value.len())
    }

    /// The largest char boundary not after `offset`, so slicing never panics.
    fn floor_boundary(&self, offset: usize) -> usize {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        end
    }
}

/// How many characters start in `bytes`: every byte but UTF-8
/// continuation bytes, so a slice may start or end inside a character.
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source<'_> {
        Source::new(Path::new("s.toml"), text)
    }

    #[test]
    fn counts_lines_and_characters() {
        let src = source("a = 1\nbé = \"x\"\n");
        let at = src.location(src.text.find('"').unwrap_or(0));
        assert_eq!((at.line, at.col), (2, 6));
        assert_eq!(src.location(0).to_string(), "s.toml:1:1");
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        let src = source("é\n");
        assert_eq!(src.location(1).col, 1);
        assert_eq!(src.location(99).line, 2);
    }

    /// Regression: each location was counted from the start of the text,
    /// so a suite of 60,000 one-line array elements (420 KB) took over five
    /// seconds to parse, and a one-line 1 MB suite fourteen.
    #[test]
    fn indexed_locations_agree_with_counting_from_the_start() {
        let text = "é€x\n".repeat(900) + &"ab€".repeat(2000) + "\n";
        let src = source(&text);
        for offset in (0..text.len() + 3).step_by(5) {
            let before = &text[..src.floor_boundary(offset)];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line = before.matches('\n').count() + 1;
            let col = before[line_start..].chars().count() + 1;
            let at = src.location(offset);
            assert_eq!((at.line, at.col), (line, col), "offset {offset}");
        }
    }

    #[test]
    fn finds_the_value_after_a_key() {
        let src = source("key \t=  \"v\"\n[table]\n");
        assert_eq!(src.value_start(3), Some(8));
        assert_eq!(src.value_start(src.text.len() - 2), None);
    }
}

//! The text of one suite file and how to point into it.
//!
//! Owns the translation from the byte offsets reported by the TOML parser to
//! [`Location`]s. Nothing here interprets the suite format.

use std::path::Path;

use super::error::{Location, SpecError};

/// A suite file's path and text, borrowed for the length of one parse.
pub(crate) struct Source<'a> {
    /// The path used in every [`Location`].
    pub path: &'a Path,
    /// The whole file.
    pub text: &'a str,
}

impl Source<'_> {
    /// The 1-based line and character column of byte `offset`.
    pub fn location(&self, offset: usize) -> Location {
        let before = &self.text[..self.floor_boundary(offset)];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            file: self.path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            col: before[line_start..].chars().count() + 1,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source<'_> {
        Source {
            path: Path::new("s.toml"),
            text,
        }
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

    #[test]
    fn finds_the_value_after_a_key() {
        let src = source("key \t=  \"v\"\n[table]\n");
        assert_eq!(src.value_start(3), Some(8));
        assert_eq!(src.value_start(src.text.len() - 2), None);
    }
}

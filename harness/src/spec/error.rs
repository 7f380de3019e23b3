//! Positions and errors for suite files.
//!
//! Owns [`Location`] (a 1-based `file:line:col`), [`Located`] (a value that
//! remembers where it was written) and [`SpecError`], the single error type
//! of the `spec` module. It knows nothing about TOML.

use std::fmt;
use std::path::PathBuf;

/// A position in a suite file; line and column are 1-based, the column
/// counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The suite file, as it was given to [`load`](super::load) or
    /// [`parse`](super::parse).
    pub file: PathBuf,
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub col: usize,
}

impl Location {
    /// The very start of `file` (line 1, column 1), for errors about the
    /// file as a whole.
    pub fn start_of(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            line: 1,
            col: 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// A value together with the place in the suite file it came from, so that
/// later stages (image lookup, package resolution) can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value itself.
    pub value: T,
    /// Where the value was written.
    pub location: Location,
}

/// A suite file that cannot be read or does not describe a valid suite.
///
/// Displays as `file:line:col: message`, where the position points at the
/// offending key or value and the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SpecError {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong and what was expected instead.
    pub message: String,
}

impl SpecError {
    /// An error at `location`.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Self {
            location,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_file_line_col_message() {
        let location = Location {
            file: PathBuf::from("suites/a.toml"),
            line: 3,
            col: 7,
        };
        let err = SpecError::new(location, "expected a string");
        assert_eq!(err.to_string(), "suites/a.toml:3:7: expected a string");
    }
}

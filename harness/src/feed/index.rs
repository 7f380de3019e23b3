//! The `Packages` index of a feed: each package's control fields, then
//! where the file is and its size and digest, one paragraph per package.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::ipk::{self, IpkError};

/// The index paragraph of one package file, named in the feed by `filename`.
pub fn entry(path: &Path, filename: &str) -> Result<String, IpkError> {
    let package = ipk::read(path)?;
    let bytes = std::fs::read(path).map_err(|source| IpkError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut text = String::new();
    let fields = &package.control.fields;
    let field = |key: &str, value: &str| format!("{key}: {}\n", continued(value));
    for (key, value) in fields.iter().filter(|(k, _)| {
        !matches!(
            k.as_str(),
            "Filename" | "Size" | "SHA256sum" | "MD5Sum" | "Description"
        )
    }) {
        text.push_str(&field(key, value));
    }
    text.push_str(&format!(
        "Filename: {filename}\nSize: {}\nSHA256sum: {}\n",
        bytes.len(),
        hex::encode(Sha256::digest(&bytes))
    ));
    // Last, as opkg's own index writer does: a multi-line value is where
    // a parser is most likely to lose its place.
    if let Some((_, value)) = fields.iter().find(|(k, _)| k == "Description") {
        text.push_str(&field("Description", value));
    }
    Ok(text)
}

/// Continuation lines indented by one space; an empty one becomes ` .`,
/// since a blank (or whitespace-only) line would end the paragraph.
fn continued(value: &str) -> String {
    let mut lines = value.split('\n');
    let first = lines.next().unwrap_or("").to_owned();
    lines.fold(first, |acc, line| {
        let line = if line.trim().is_empty() { "." } else { line };
        format!("{acc}\n {line}")
    })
}

/// The name each of `files` gets in the feed (see
/// [`staged_name`](crate::opkg::commands::staged_name)), sorted by it.
pub fn names(files: &[PathBuf]) -> Result<Vec<(PathBuf, String)>, IpkError> {
    let mut named = Vec::new();
    for path in files {
        let control = ipk::read(path)?.control;
        named.push((path.clone(), crate::opkg::commands::staged_name(&control)));
    }
    named.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(named)
}

/// The index of `files` under their feed names; paragraphs are separated
/// by a blank line, sorted by name.
pub fn index(files: &[PathBuf]) -> Result<String, IpkError> {
    let named = names(files)?;
    let paragraphs = named
        .iter()
        .map(|(path, name)| entry(path, name))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(paragraphs.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/packages/lmapd-chain")
            .join(name)
    }

    #[test]
    fn an_entry_keeps_the_control_fields_and_adds_file_size_and_digest() {
        let path = real("zlib_1.2.11-2_x86_64.ipk");
        let text = entry(&path, "zlib.ipk").unwrap();
        assert!(
            text.starts_with("Package: zlib\nVersion: 1.2.11-2\n"),
            "{text}"
        );
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            text.contains(&format!("Filename: zlib.ipk\nSize: {size}\nSHA256sum: ")),
            "{text}"
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn an_empty_description_line_cannot_end_the_paragraph() {
        assert_eq!(
            continued("libevent\nfirst\n\nsecond"),
            "libevent\n first\n .\n second"
        );
        let text = entry(&real("libevent2-6_2.1.8-3_x86_64.ipk"), "e.ipk").unwrap();
        assert!(!text.lines().any(|l| l.trim().is_empty()), "{text}");
        assert!(text.find("Filename:").unwrap() < text.find("Description:").unwrap());
    }

    #[test]
    fn an_index_has_one_paragraph_per_file() {
        let files = [
            real("zlib_1.2.11-2_x86_64.ipk"),
            real("libxml2_2.9.9-1_x86_64.ipk"),
        ];
        let text = index(&files).unwrap();
        assert_eq!(text.matches("\nFilename: ").count(), 2);
        assert!(text.find("Package: libxml2").unwrap() < text.find("Package: zlib").unwrap());
    }
}

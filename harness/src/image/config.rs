//! The project configuration, `wrtest.toml`: where image tarballs are looked
//! for, and which ids name which tarball with which pinned digest.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use super::ImageError;

/// The configuration file's name.
pub const CONFIG_NAME: &str = "wrtest.toml";

/// One named image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// Short id, e.g. `openwrt-19.07.5-x86-64`.
    pub id: String,
    /// Tarball file name, looked for in the image directories (or a path).
    pub file: String,
    /// Pinned sha256 of the tarball, hex.
    pub sha256: Option<String>,
    /// A line saying what it is.
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    image_dirs: Vec<String>,
    cache_dir: Option<String>,
    #[serde(default)]
    qemu_dirs: Vec<String>,
    #[serde(default, rename = "image")]
    images: Vec<ImageEntry>,
}

/// A loaded `wrtest.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Directories searched for tarballs, absolute.
    pub image_dirs: Vec<PathBuf>,
    /// The cache directory, if the file sets one.
    pub cache_dir: Option<PathBuf>,
    /// Directories searched first for qemu-user emulators, absolute.
    pub qemu_dirs: Vec<PathBuf>,
    /// The images, in file order.
    pub images: Vec<ImageEntry>,
}

impl Config {
    /// `$WRTEST_CONFIG` if set, else the nearest `wrtest.toml` at or above `start`.
    pub fn find(start: &Path) -> Result<Config, ImageError> {
        if let Some(path) = std::env::var_os("WRTEST_CONFIG") {
            return Config::load(Path::new(&path));
        }
        let start = std::path::absolute(start).unwrap_or_else(|_| start.to_owned());
        let found = start
            .ancestors()
            .map(|d| d.join(CONFIG_NAME))
            .find(|p| p.is_file());
        match found {
            Some(path) => Config::load(&path),
            None => Err(ImageError::NoConfig { start }),
        }
    }

    /// Load one file.
    pub fn load(path: &Path) -> Result<Config, ImageError> {
        let text = std::fs::read_to_string(path).map_err(|source| ImageError::ConfigRead {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parse the text of `path`; relative directories are taken from its folder.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ImageError> {
        let raw: Raw = toml::from_str(text).map_err(|e| syntax(path, text, &e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &str| std::path::absolute(base.join(p)).unwrap_or_else(|_| base.join(p));
        let config = Config {
            path: path.to_owned(),
            image_dirs: raw.image_dirs.iter().map(|d| abs(d)).collect(),
            cache_dir: raw.cache_dir.as_deref().map(abs),
            qemu_dirs: raw.qemu_dirs.iter().map(|d| abs(d)).collect(),
            images: raw.images,
        };
        config.check_unique()?;
        Ok(config)
    }

    fn check_unique(&self) -> Result<(), ImageError> {
        for (i, entry) in self.images.iter().enumerate() {
            if self.images[..i].iter().any(|e| e.id == entry.id) {
                let message = format!("image id {:?} is listed twice", entry.id);
                return Err(ImageError::ConfigSyntax {
                    path: self.path.clone(),
                    line: 1,
                    col: 1,
                    message,
                });
            }
        }
        Ok(())
    }

    /// The entry for `id`.
    pub fn entry(&self, id: &str) -> Result<&ImageEntry, ImageError> {
        self.images
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ImageError::Unknown {
                id: id.to_owned(),
                config: self.path.clone(),
                known: self.images.iter().map(|e| e.id.clone()).collect(),
            })
    }

    /// Where the tarball of `entry` is, searching the image directories.
    pub fn locate(&self, entry: &ImageEntry) -> Result<PathBuf, ImageError> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        let direct = base.join(&entry.file);
        let candidates: Vec<PathBuf> = if entry.file.contains('/') {
            vec![direct]
        } else {
            self.image_dirs
                .iter()
                .map(|d| d.join(&entry.file))
                .collect()
        };
        match candidates.iter().find(|p| p.is_file()) {
            Some(found) => Ok(found.clone()),
            None => Err(ImageError::Missing {
                id: entry.id.clone(),
                file: entry.file.clone(),
                searched: candidates
                    .iter()
                    .filter_map(|p| p.parent().map(Path::to_owned))
                    .collect(),
            }),
        }
    }
}

fn syntax(path: &Path, text: &str, error: &toml::de::Error) -> ImageError {
    let offset = error.span().map(|s| s.start).unwrap_or(0);
    let (line, col) = line_col(text, offset);
    let message = error
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .to_owned();
    ImageError::ConfigSyntax {
        path: path.to_owned(),
        line,
        col,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dirs_are_taken_from_the_config_folder() {
        let text = "image_dirs = [\"imgs\"]\n[[image]]\nid = \"a\"\nfile = \"a.tar.gz\"\n";
        let config = Config::parse(text, Path::new("/proj/wrtest.toml")).unwrap();
        assert_eq!(config.image_dirs, vec![PathBuf::from("/proj/imgs")]);
        assert_eq!(config.entry("a").unwrap().file, "a.tar.gz");
    }

    #[test]
    fn an_unknown_key_is_reported_at_its_position() {
        let text = "image_dirs = []\n[[image]]\nid = \"a\"\nfiel = \"x\"\n";
        let err = Config::parse(text, Path::new("/p/wrtest.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/p/wrtest.toml:4:1: unknown field `fiel`"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_id_lists_the_known_ones() {
        let text =
            "[[image]]\nid = \"a\"\nfile = \"a.tgz\"\n[[image]]\nid = \"b\"\nfile = \"b.tgz\"\n";
        let config = Config::parse(text, Path::new("/p/wrtest.toml")).unwrap();
        let err = config.entry("c").unwrap_err().to_string();
        assert!(
            err.contains("unknown image \"c\"") && err.contains("a, b"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let text =
            "[[image]]\nid = \"a\"\nfile = \"a.tgz\"\n[[image]]\nid = \"a\"\nfile = \"b.tgz\"\n";
        let err = Config::parse(text, Path::new("/p/wrtest.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listed twice"), "{err}");
    }
}

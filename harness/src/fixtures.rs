//! Fixture packages: source trees under the project's `fixtures/packages/`
//! built into `.ipk` or `.apk` files on first use, once per process and
//! format.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::image::PackageManager;
use crate::ipk;

/// A fixture could not be found or built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// No directory of that name in any fixture directory.
    #[error("no fixture package {name:?} in {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The directories searched.
        dirs: Vec<PathBuf>,
    },
    /// Building it failed.
    /// Building it failed; the message holds the whole cause chain (the
    /// result is shared between threads, so the error itself cannot be).
    #[error("failed to build fixture package {name:?}: {message}")]
    Build {
        /// The fixture.
        name: String,
        /// Why, with its causes.
        message: String,
    },
}

/// Where fixtures are found and built.
#[derive(Debug)]
pub struct Fixtures {
    dirs: Vec<PathBuf>,
    /// Where built packages go; `None`: the run directory's `fixtures/`.
    out: Option<PathBuf>,
    built: Mutex<HashMap<(String, Format), Arc<Build>>>,
}

/// The package formats a fixture is built into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Format {
    Ipk,
    Apk,
}

/// One fixture's build, done once and shared by the threads that need it.
type Build = OnceLock<Result<PathBuf, String>>;

impl Fixtures {
    /// Fixtures from `dirs`, built into `out` (default: the run directory,
    /// made only when a fixture is first built).
    pub fn new(dirs: Vec<PathBuf>, out: Option<PathBuf>) -> Fixtures {
        Fixtures {
            dirs,
            out,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The source tree of fixture `name`.
    pub fn source(&self, name: &str) -> Result<PathBuf, FixtureError> {
        let valid = !name.is_empty() && !name.contains('/') && name != "..";
        let found = self
            .dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| valid && p.join("CONTROL").is_dir());
        found.ok_or_else(|| FixtureError::Unknown {
            name: name.to_owned(),
            dirs: self.dirs.clone(),
        })
    }

    /// The built `.ipk` of fixture `name`, building it on first use.
    pub fn ipk(&self, name: &str) -> Result<PathBuf, FixtureError> {
        self.built(name, Format::Ipk)
    }

    /// The built `.apk` (v3) of fixture `name`, building it on first use.
    pub fn apk(&self, name: &str) -> Result<PathBuf, FixtureError> {
        self.built(name, Format::Apk)
    }

    /// The package of fixture `name` for `manager`'s images.
    pub fn package(&self, name: &str, manager: PackageManager) -> Result<PathBuf, FixtureError> {
        match manager {
            PackageManager::Opkg => self.ipk(name),
            PackageManager::Apk => self.apk(name),
        }
    }

    fn built(&self, name: &str, format: Format) -> Result<PathBuf, FixtureError> {
        let src = self.source(name)?;
        let slot = {
            let mut map = self.built.lock().unwrap_or_else(|e| e.into_inner());
            map.entry((name.to_owned(), format)).or_default().clone()
        };
        let built = slot.get_or_init(|| {
            let out = match &self.out {
                Some(out) => out.clone(),
                None => crate::container::rundir::RunDir::current()?
                    .path()
                    .join("fixtures"),
            };
            let out = out.join(name);
            match format {
                Format::Ipk => ipk::build(&src, &out).map_err(|e| crate::error_chain(&e)),
                Format::Apk => crate::apk::build(&src, &out).map_err(|e| crate::error_chain(&e)),
            }
        });
        built.clone().map_err(|message| FixtureError::Build {
            name: name.to_owned(),
            message,
        })
    }
}

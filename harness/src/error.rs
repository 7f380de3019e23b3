//! The crate-level error: one enum over the modules' own errors, so the API
//! and the runner can use `?` across them. Each variant keeps its cause.

use crate::container::ContainerError;
use crate::fixtures::FixtureError;
use crate::image::ImageError;
use crate::ipk::IpkError;
use crate::opkg::commands::OpkgError;
use crate::spec::SpecError;

/// Anything that stops a case from running as written (as opposed to a
/// case that runs and fails its checks).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image problem.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A container problem.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// A package file problem.
    #[error(transparent)]
    Package(#[from] IpkError),
    /// A package manager run could not happen.
    #[error(transparent)]
    Opkg(#[from] OpkgError),
    /// An apk package file problem.
    #[error(transparent)]
    ApkPackage(#[from] crate::apk::ApkError),
    /// An apk run could not happen.
    #[error(transparent)]
    Apk(#[from] crate::apktool::ApkToolError),
    /// A fixture problem.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// A network problem (the hub, a case's link).
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// Boot mode did not come up.
    #[error(transparent)]
    Boot(#[from] crate::boot::BootError),
    /// A suite file problem.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Bad input found outside the parsers (a missing file, say).
    #[error("{0}")]
    Input(String),
    /// Something this version cannot do, said plainly.
    #[error("{0}")]
    Unsupported(String),
}

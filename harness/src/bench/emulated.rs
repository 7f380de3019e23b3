//! The slowdown of emulation: the bench's case on a foreign-architecture
//! image (through qemu-user), timed in the same rounds as the native case
//! so both see the same machine load.

use std::sync::Arc;

use super::stats::Summary;
use crate::emulation::Runner;
use crate::image::Prepared;
use crate::testbed::Project;

/// The foreign image to time, with its emulator's name; `Err` says why it
/// is not timed (unknown image, no emulator, or not emulated on this host).
pub fn prepare(project: &Arc<Project>, id: Option<&str>) -> Result<(Prepared, String), String> {
    let id = id.ok_or("no foreign image asked for")?;
    let image = project.image(id).map_err(|e| crate::error_chain(&e))?;
    match crate::testbed::check_runnable(&image, &project.config) {
        Ok(Runner::Emulated(emulator)) => Ok((image, format!("qemu-{}", emulator.target))),
        Ok(other) => Err(format!(
            "{id} runs {} on this host, not emulated",
            other.describe()
        )),
        Err(e) => Err(crate::error_chain(&e)),
    }
}

/// The emulated case's timings beside the native one's.
#[derive(Debug, Clone)]
pub struct Emulated {
    /// The foreign image.
    pub image: String,
    /// The emulator, e.g. `qemu-aarch64`.
    pub emulator: String,
    /// The case (create, work, teardown) on it.
    pub case: Summary,
}

impl Emulated {
    /// How many times slower the emulated case is than `native` (medians).
    pub fn slowdown(&self, native: &Summary) -> f64 {
        self.case.median.as_secs_f64() / native.median.as_secs_f64()
    }
}

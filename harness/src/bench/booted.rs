//! Boot mode's cost: a booted, networked case (create, link to the hub,
//! boot, teardown) beside the same container without them, measured in the
//! same run. Boots take seconds, so a few rounds are enough.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::stats::Summary;
use crate::container::Options;
use crate::image::Prepared;
use crate::testbed::{Project, Testbed};
use crate::Error;

/// Most rounds of booting, whatever the bench's round count.
const MOST_ROUNDS: usize = 5;

/// The boot measurements.
#[derive(Debug, Clone, Copy)]
pub struct Booted {
    /// Linking the container to the hub.
    pub link: Summary,
    /// ubusd, procd and the start scripts.
    pub boot: Summary,
    /// Create, link, boot, teardown.
    pub case: Summary,
}

/// Boot `rounds` (at most five) containers on `image`.
pub fn measure(
    project: &Arc<Project>,
    image: &Prepared,
    options: &Options,
    rounds: usize,
) -> Result<Booted, Error> {
    let options = Options {
        net_admin: true,
        ..options.clone()
    };
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for _ in 0..rounds.clamp(1, MOST_ROUNDS) {
        let started = Instant::now();
        let mut bed = Testbed::start(project.clone(), image.clone(), &options)?;
        let linking = Instant::now();
        bed.attach_network()?;
        samples[0].push(linking.elapsed());
        let booted = bed.boot(Duration::from_secs(120))?;
        samples[1].push(booted.took);
        bed.container_stop()?;
        samples[2].push(started.elapsed());
    }
    let [link, boot, case] = samples.map(|s| Summary::of(&s));
    Ok(Booted { link, boot, case })
}

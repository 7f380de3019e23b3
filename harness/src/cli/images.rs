//! `wrtest images`: what the project configuration names, whether each
//! tarball is present, and how this host would run it: natively, through
//! a qemu-user emulator (and which), or not at all (and why).

use wrtest::emulation::{self, Runner};
use wrtest::{Error, Project};

/// Print one line per image: id, tarball state, how it runs, description.
pub fn list() -> Result<i32, Error> {
    let project = Project::discover(&std::env::current_dir().unwrap_or_default())?;
    let config = &project.config;
    let dirs = emulation::search_dirs(config);
    println!("{:<30} {:<9} {:<16} DESCRIPTION", "ID", "TARBALL", "RUNS");
    let mut notes = Vec::new();
    for entry in &config.images {
        let (state, runs) = match config.locate(entry) {
            Ok(tarball) => ("found", runs(&tarball, &dirs, &mut notes, &entry.id)),
            Err(_) => ("missing", "-".to_owned()),
        };
        println!(
            "{:<30} {:<9} {:<16} {}",
            entry.id, state, runs, entry.description
        );
    }
    for note in notes {
        println!("  {note}");
    }
    println!("\nconfiguration: {}", config.path.display());
    println!("image directories: {}", join(&config.image_dirs));
    println!("emulators: searched in {}", join(&dirs));
    println!(
        "cache: {}",
        wrtest::image::cache_dir(Some(config)).display()
    );
    Ok(super::PASSED)
}

/// How the image in `tarball` runs, read from the tarball without
/// extracting it; the reason goes to `notes` when it cannot.
fn runs(
    tarball: &std::path::Path,
    dirs: &[std::path::PathBuf],
    notes: &mut Vec<String>,
    id: &str,
) -> String {
    let meta = match wrtest::image::peek(tarball) {
        Ok(meta) => meta,
        Err(e) => {
            notes.push(format!("{id}: {}", wrtest::error_chain(&e)));
            return "unreadable".into();
        }
    };
    match emulation::runner_for(&meta, dirs) {
        Ok(runner @ Runner::Emulated(_)) => {
            let path = runner.emulator_path().map(|p| p.display().to_string());
            notes.push(format!("{id} runs through {}", path.unwrap_or_default()));
            runner.describe()
        }
        Ok(runner) => runner.describe(),
        Err(e) => {
            notes.push(format!("{id} ({}): {}", meta.arch, wrtest::error_chain(&e)));
            "no".into()
        }
    }
}

fn join(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

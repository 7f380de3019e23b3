//! `wrtest images`: what the project configuration names, and whether each
//! tarball is present.

use wrtest::{Error, Project};

/// Print one line per image: id, state, file, description.
pub fn list() -> Result<i32, Error> {
    let project = Project::discover(&std::env::current_dir().unwrap_or_default())?;
    let config = &project.config;
    println!("{:<30} {:<9} DESCRIPTION", "ID", "TARBALL");
    for entry in &config.images {
        let state = match config.locate(entry) {
            Ok(_) => "found",
            Err(_) => "missing",
        };
        println!("{:<30} {:<9} {}", entry.id, state, entry.description);
    }
    println!("\nconfiguration: {}", config.path.display());
    println!(
        "image directories: {}",
        config
            .image_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "cache: {}",
        wrtest::image::cache_dir(Some(config)).display()
    );
    Ok(super::PASSED)
}

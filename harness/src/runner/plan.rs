//! From suite files to trials: one per (case, image), named
//! `suite::case::image`, with every input checked before anything runs so a
//! typo fails the run at once with its `file:line:col`.

use std::path::Path;
use std::sync::Arc;

use super::RunOptions;
use crate::spec::{self, Action, Case, Located, PackageRef, Suite};
use crate::testbed::Project;
use crate::Error;

/// One trial: a case of a suite on an image.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// The suite.
    pub suite: Arc<Suite>,
    /// Index of the case in the suite.
    pub case: usize,
    /// The image id.
    pub image: String,
    /// `suite::case::image`.
    pub name: String,
}

impl CaseRun {
    /// The fixtures this run installs, publishes or cycles.
    pub fn fixtures(&self) -> Vec<String> {
        let case = self.case();
        case.install
            .iter()
            .chain(&case.feed)
            .chain(step_packages(case))
            .filter_map(|package| match &package.value {
                PackageRef::Fixture(name) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The case.
    pub fn case(&self) -> &Case {
        &self.suite.cases[self.case]
    }
}

/// Every trial of a run.
#[derive(Debug)]
pub struct Plan {
    /// The trials, in suite, case and image order.
    pub runs: Vec<CaseRun>,
}

impl Plan {
    /// Every fixture the planned cases use, once each.
    pub fn fixtures(&self) -> Vec<String> {
        let mut names = std::collections::BTreeSet::new();
        for run in &self.runs {
            names.extend(run.fixtures());
        }
        names.into_iter().collect()
    }

    /// Load the suites named by `options`, check their inputs and list the trials.
    pub fn build(project: &Project, options: &RunOptions) -> Result<Plan, Error> {
        let suites = load_suites(project, options)?;
        let mut runs = Vec::new();
        for suite in suites {
            check_inputs(project, &suite)?;
            for (index, case) in suite.cases.iter().enumerate() {
                for image in images_of(case, &options.images) {
                    let name = format!("{}::{}::{}", suite.name, case.name, image);
                    runs.push(CaseRun {
                        suite: suite.clone(),
                        case: index,
                        image,
                        name,
                    });
                }
            }
        }
        check_unique(&runs)?;
        Ok(Plan { runs })
    }
}

fn load_suites(project: &Project, options: &RunOptions) -> Result<Vec<Arc<Suite>>, Error> {
    if !options.generated.is_empty() {
        return options
            .generated
            .iter()
            .map(|(path, text)| Ok(Arc::new(spec::parse(text, path)?)))
            .collect();
    }
    if options.paths.is_empty() && !options.ipks.is_empty() {
        return Ok(vec![Arc::new(smoke_suite(project, options)?)]);
    }
    let files = spec::discover(&options.paths)?;
    if files.is_empty() {
        let listed = options
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::Input(format!(
            "no suite files (*.toml) found in {listed}"
        )));
    }
    files.iter().map(|f| Ok(Arc::new(spec::load(f)?))).collect()
}

fn images_of(case: &Case, overrides: &[String]) -> Vec<String> {
    if overrides.is_empty() {
        case.images.iter().map(|i| i.value.clone()).collect()
    } else {
        overrides.to_vec()
    }
}

/// Every image id is known and every package reference resolves.
fn check_inputs(project: &Project, suite: &Suite) -> Result<(), Error> {
    for case in &suite.cases {
        check_commands(case)?;
        for image in &case.images {
            check_image(project, image)?;
        }
        for package in case
            .install
            .iter()
            .chain(&case.feed)
            .chain(step_packages(case))
        {
            check_package(project, package)?;
        }
    }
    Ok(())
}

/// A command line reaches the kernel as a C string: no NUL byte in it.
fn check_commands(case: &Case) -> Result<(), Error> {
    for step in &case.steps {
        if let Action::Run { command, .. } = &step.action {
            if command.contains('\0') {
                let message = "a command cannot contain a NUL byte (\\u0000)";
                return Err(Error::Spec(spec::SpecError::new(
                    step.location.clone(),
                    message,
                )));
            }
        }
    }
    Ok(())
}

fn step_packages(case: &Case) -> impl Iterator<Item = &Located<PackageRef>> {
    case.steps.iter().flat_map(|s| match &s.action {
        Action::Install { packages, .. } | Action::Lifecycle { packages, .. } => {
            packages.as_slice()
        }
        _ => &[],
    })
}

fn check_image(project: &Project, image: &Located<String>) -> Result<(), Error> {
    match project.config.entry(&image.value) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::Spec(spec::SpecError::new(
            image.location.clone(),
            e.to_string(),
        ))),
    }
}

fn check_package(project: &Project, package: &Located<PackageRef>) -> Result<(), Error> {
    let problem = match &package.value {
        PackageRef::Fixture(name) => project.fixtures.source(name).err().map(|e| e.to_string()),
        PackageRef::File(path) if !path.exists() => {
            Some(format!("package file {} not found", path.display()))
        }
        PackageRef::File(path) if !path.is_file() && !path.is_dir() => Some(format!(
            "package file {} is not a regular file",
            path.display()
        )),
        PackageRef::File(dir) if dir.is_dir() => unreadable_in(dir),
        PackageRef::File(_) | PackageRef::Name(_) | PackageRef::Repack(_) => None,
    };
    match problem {
        Some(message) => Err(Error::Spec(spec::SpecError::new(
            package.location.clone(),
            message,
        ))),
        None => Ok(()),
    }
}

/// The first package file in a feed directory that is not a package,
/// with why: found before any container starts, not when the case runs.
fn unreadable_in(dir: &std::path::Path) -> Option<String> {
    let listed = |ext| crate::testbed::packages_in(dir, ext).unwrap_or_default();
    let ipks = listed("ipk")
        .into_iter()
        .map(|p| crate::ipk::read(&p).err().map(|e| e.to_string()));
    let apks = listed("apk")
        .into_iter()
        .map(|p| crate::apk::package::read(&p).err().map(|e| e.to_string()));
    ipks.chain(apks)
        .flatten()
        .next()
        .map(|why| format!("in feed directory {}: {why}", dir.display()))
}

fn check_unique(runs: &[CaseRun]) -> Result<(), Error> {
    let mut names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(Error::Input(format!(
            "two trials would be named {} (two suites share a name?)",
            w[0]
        ))),
        None => Ok(()),
    }
}

/// `wrtest run --ipk FILE... --image ID` without suites: install the files,
/// check they are installed, remove them, check they are gone.
fn smoke_suite(project: &Project, options: &RunOptions) -> Result<Suite, Error> {
    if options.images.is_empty() {
        return Err(Error::Input(
            "--ipk without a suite needs at least one --image".into(),
        ));
    }
    let mut names = Vec::new();
    for file in &options.ipks {
        names.push(crate::testbed::package_name_of(file)?);
    }
    let text = smoke_text(&options.ipks, &names, &options.images);
    let path = project
        .config
        .path
        .with_file_name("wrtest-run-ipk-generated.toml");
    Ok(spec::parse(&text, &path)?)
}

fn smoke_text(files: &[std::path::PathBuf], names: &[String], images: &[String]) -> String {
    let quote = |s: &str| format!("{s:?}");
    let list = |items: Vec<String>| items.join(", ");
    let files = list(files.iter().map(|f| quote(&absolute(f))).collect());
    let names = list(names.iter().map(|n| quote(n)).collect());
    let images = list(images.iter().map(|i| quote(i)).collect());
    format!(
        "name = \"smoke\"\nimages = [{images}]\n\n[[case]]\nname = \"install_remove\"\n\n[[case.step]]\ninstall = [{files}]\ninstalled = [{names}]\n\n[[case.step]]\nremove = [{names}]\nnot_installed = [{names}]\n"
    )
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .to_string_lossy()
        .into_owned()
}

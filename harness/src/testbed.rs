//! The Rust API for hand-written tests: open a fresh container on an image,
//! install packages, run commands, look at files. The declarative runner is
//! built on it too.
//!
//! ```no_run
//! # fn main() -> Result<(), wrtest::Error> {
//! use wrtest::{PackageRef, Testbed};
//! let mut bed = Testbed::open("openwrt-19.07.5-x86-64")?;
//! let tx = bed.install(&[PackageRef::Fixture("hello".into())])?;
//! assert!(tx.succeeded(), "{}", tx.combined_output());
//! assert_eq!(bed.sh("hello")?.stdout_text(), "Hello, world!\n");
//! # Ok(()) }
//! ```
//! The binary running it must call [`crate::container::enter_if_requested`]
//! first thing in `main` (or set `WRTEST_HELPER` to the `wrtest` binary).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::apktool;
use crate::boot::Booted;
use crate::container::{Container, Node, Options, Output};
use crate::emulation::{self, Runner};
use crate::feed::{FeedOptions, Published};
use crate::fixtures::Fixtures;
use crate::image::{self, Config, PackageManager, Prepared};
use crate::lifecycle::{self, LifecycleReport, Snapshot};
use crate::network::{Link, LinkInfo};
use crate::opkg::{self, InstallOptions, InstalledPackage, Targets, Transaction};
use crate::spec::PackageRef;
use crate::Error;

/// Default limit for a command run through [`Testbed::sh`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A project: its configuration and its fixture packages.
#[derive(Debug)]
pub struct Project {
    /// The loaded `wrtest.toml`.
    pub config: Config,
    /// Its fixture packages.
    pub fixtures: Fixtures,
}

impl Project {
    /// The project whose `wrtest.toml` is at or above `start`.
    pub fn discover(start: &Path) -> Result<Project, Error> {
        let config = Config::find(start)?;
        let root = config.path.parent().unwrap_or(Path::new(".")).to_owned();
        let dirs = vec![
            root.join("fixtures/packages"),
            root.join("fixtures/hostile"),
        ];
        let fixtures = Fixtures::new(dirs, None);
        Ok(Project { config, fixtures })
    }

    /// The project found from the current directory, loaded once per process.
    pub fn current() -> Result<Arc<Project>, Error> {
        static CURRENT: OnceLock<Arc<Project>> = OnceLock::new();
        if let Some(p) = CURRENT.get() {
            return Ok(p.clone());
        }
        let project = Arc::new(Project::discover(
            &std::env::current_dir().unwrap_or_default(),
        )?);
        Ok(CURRENT.get_or_init(|| project).clone())
    }

    /// The image `id`, verified and extracted (once per process).
    pub fn image(&self, id: &str) -> Result<Prepared, Error> {
        Ok(image::prepare(id, &self.config)?)
    }

    /// The package files behind a reference, for `manager`'s images: a
    /// fixture is built as an `.ipk` or an `.apk`, a directory means every
    /// package file of that kind in it.
    pub fn package_files(
        &self,
        package: &PackageRef,
        manager: PackageManager,
    ) -> Result<Vec<PathBuf>, Error> {
        match package {
            PackageRef::File(dir) if dir.is_dir() => packages_in(dir, extension(manager)),
            other => Ok(vec![self.package_file(other, manager)?]),
        }
    }

    /// The package file behind a reference, for `manager`'s images.
    pub fn package_file(
        &self,
        package: &PackageRef,
        manager: PackageManager,
    ) -> Result<PathBuf, Error> {
        match package {
            PackageRef::Fixture(name) => Ok(self.fixtures.package(name, manager)?),
            PackageRef::File(path) if path.is_file() => Ok(path.clone()),
            PackageRef::File(path) => Err(Error::Input(format!(
                "package file {} not found",
                path.display()
            ))),
            PackageRef::Name(name) => Err(Error::Input(format!(
                "name:{name} is installed from the case's feed and has no package file"
            ))),
            PackageRef::Repack(name) => Err(Error::Input(format!(
                "repack:{name} is built from a container; use Testbed::repack"
            ))),
        }
    }

    /// Split references into files to copy in and names for the feeds;
    /// `repacked` gives the files of `repack:` references.
    pub fn targets(
        &self,
        packages: &[PackageRef],
        repacked: &HashMap<String, PathBuf>,
        manager: PackageManager,
    ) -> Result<Targets, Error> {
        let mut targets = Targets::default();
        for package in packages {
            match package {
                PackageRef::Name(name) => targets.names.push(name.clone()),
                PackageRef::Repack(name) => targets.files.push(repacked.get(name).cloned().ok_or_else(|| {
                    Error::Input(format!("repack:{name} was not repacked when the case started (is {name} installed in the image?)"))
                })?),
                other => targets.files.extend(self.package_files(other, manager)?),
            }
        }
        Ok(targets)
    }
}

/// The package file extension of `manager`: `ipk` or `apk`.
pub fn extension(manager: PackageManager) -> &'static str {
    match manager {
        PackageManager::Opkg => "ipk",
        PackageManager::Apk => "apk",
    }
}

/// The package name in a package file: an `.apk` is read as apk v3, any
/// other file as an ipk.
pub fn package_name_of(file: &Path) -> Result<String, Error> {
    if file.extension().is_some_and(|x| x == "apk") {
        return Ok(crate::apk::read(file)?.name);
    }
    Ok(crate::ipk::read(file)?.control.package)
}

/// Every `*.ipk` directly in `dir`, sorted.
pub fn ipks_in(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    packages_in(dir, "ipk")
}

/// Every `*.<extension>` directly in `dir`, sorted.
pub fn packages_in(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Input(format!(
            "cannot read package directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    files.sort();
    Ok(files)
}

/// A fresh container on one image, with the project it belongs to.
#[derive(Debug)]
pub struct Testbed {
    project: Arc<Project>,
    image: Prepared,
    // Before the container, so the link goes first when dropped.
    link: Option<Link>,
    container: Container,
    helper: PathBuf,
    repacked: HashMap<String, PathBuf>,
    repack_dir: Option<tempfile::TempDir>,
    scratch: Vec<tempfile::TempDir>,
}

impl Testbed {
    /// A container on image `id` of the project found from the current directory.
    pub fn open(id: &str) -> Result<Testbed, Error> {
        let project = Project::current()?;
        let image = project.image(id)?;
        Testbed::start(project, image, &Options::default())
    }

    /// A container on an already prepared image.
    pub fn start(
        project: Arc<Project>,
        image: Prepared,
        options: &Options,
    ) -> Result<Testbed, Error> {
        let runner = check_runnable(&image, &project.config)?;
        let options = options_for(&runner, options);
        let mut container = Container::start(&image.rootfs, &options)?;
        if image.meta.package_manager == PackageManager::Apk {
            apktool::prepare(&mut container)?;
        }
        Ok(Testbed {
            project,
            image,
            link: None,
            container,
            helper: crate::container::helper_exe(&options)?,
            repacked: HashMap::new(),
            repack_dir: None,
            scratch: Vec::new(),
        })
    }

    /// The image this container runs.
    pub fn image(&self) -> &Prepared {
        &self.image
    }

    /// The container, read-only (limit counters, id).
    pub fn container_ref(&self) -> &Container {
        &self.container
    }

    /// Link the container to the run's network hub: a `hub0` link with a
    /// private address the hub (and so the test code, through [`Link`])
    /// can reach. Once per testbed; later calls return the same link.
    pub fn attach_network(&mut self) -> Result<LinkInfo, Error> {
        if let Some(link) = &self.link {
            return Ok(link.info());
        }
        let link = Link::attach(&self.container, &self.helper)?;
        let info = link.info();
        self.link = Some(link);
        Ok(info)
    }

    /// The container's link to the hub, once [`attach_network`](Self::attach_network)
    /// made it.
    pub fn link(&mut self) -> Option<&mut Link> {
        self.link.as_mut()
    }

    /// Boot OpenWrt's service layer in the container (ubusd, procd, the
    /// start scripts; see [`crate::boot`]), so services run under procd.
    pub fn boot(&mut self, timeout: Duration) -> Result<Booted, Error> {
        Ok(crate::boot::boot(&mut self.container, timeout)?)
    }

    /// The container itself, for everything else.
    pub fn container(&mut self) -> &mut Container {
        &mut self.container
    }

    /// Run a shell command line with the default timeout.
    pub fn sh(&mut self, line: &str) -> Result<Output, Error> {
        Ok(self.container.sh(line, DEFAULT_TIMEOUT)?)
    }

    /// The image's package manager.
    pub fn manager(&self) -> PackageManager {
        self.image.meta.package_manager
    }

    /// Install packages with the image's package manager.
    pub fn install(&mut self, packages: &[PackageRef]) -> Result<Transaction, Error> {
        self.install_with(packages, &InstallOptions::default())
    }

    /// Install packages with the image's package manager, with options.
    pub fn install_with(
        &mut self,
        packages: &[PackageRef],
        options: &InstallOptions,
    ) -> Result<Transaction, Error> {
        let targets = self
            .project
            .targets(packages, &self.repacked, self.manager())?;
        let arch = &self.image.meta.arch;
        match self.manager() {
            PackageManager::Opkg => {
                Ok(opkg::install(&mut self.container, &targets, arch, options)?)
            }
            PackageManager::Apk if options.force_reinstall => Err(Error::Unsupported(format!(
                "force_reinstall is opkg's --force-reinstall; apk (image {}) has no such option",
                self.image.id
            ))),
            PackageManager::Apk => Ok(apktool::install(
                &mut self.container,
                &targets,
                arch,
                options,
            )?),
        }
    }

    /// Remove packages by name.
    pub fn remove(&mut self, names: &[String], autoremove: bool) -> Result<Transaction, Error> {
        self.remove_with(names, autoremove, Duration::from_secs(120))
    }

    /// Remove packages by name, with a timeout.
    pub fn remove_with(
        &mut self,
        names: &[String],
        autoremove: bool,
        timeout: Duration,
    ) -> Result<Transaction, Error> {
        match self.manager() {
            PackageManager::Opkg => Ok(opkg::remove(
                &mut self.container,
                names,
                autoremove,
                timeout,
            )?),
            PackageManager::Apk => Ok(apktool::remove(&mut self.container, names, timeout)?),
        }
    }

    /// Install the packages, remove them again, and report what the cycle
    /// left behind compared with the system before the install. `ignore`
    /// adds glob patterns to [`lifecycle::DEFAULT_IGNORED`].
    pub fn lifecycle(
        &mut self,
        packages: &[PackageRef],
        ignore: &[String],
        timeout: Duration,
    ) -> Result<LifecycleRun, Error> {
        let names = self.package_names(packages)?;
        self.refuse_installed(&names)?;
        let before = Snapshot::take(&mut self.container)?;
        let options = InstallOptions {
            timeout: Some(timeout),
            ..InstallOptions::default()
        };
        let install = self.install_with(packages, &options)?;
        if !install.succeeded() {
            return Ok(LifecycleRun {
                install,
                remove: None,
                report: None,
            });
        }
        let cx = self.lifecycle_context(&names, ignore)?;
        let reversed: Vec<String> = names.iter().rev().cloned().collect();
        let remove = self.remove_with(&reversed, false, timeout)?;
        let after = Snapshot::take(&mut self.container)?;
        let changes = lifecycle::diff(&before, &after, &self.image.rootfs);
        let started: Vec<String> = after
            .processes
            .iter()
            .filter(|p| !before.processes.contains(p))
            .map(|(pid, cmd)| format!("pid {pid}: {cmd}"))
            .collect();
        let report = lifecycle::classify(&changes, started, &cx)
            .map_err(|e| Error::Input(format!("bad leftovers_ignore pattern: {e}")))?;
        Ok(LifecycleRun {
            install,
            remove: Some(remove),
            report: Some(report),
        })
    }

    /// A lifecycle compares against the system without the packages.
    fn refuse_installed(&mut self, names: &[String]) -> Result<(), Error> {
        let present: Vec<String> = self
            .installed()?
            .into_iter()
            .map(|p| p.name)
            .filter(|n| names.contains(n))
            .collect();
        if present.is_empty() {
            return Ok(());
        }
        Err(Error::Input(format!(
            "a lifecycle installs and removes its packages, but {} is installed already (does the image ship it?): remove it in an earlier step, then cycle it",
            present.join(", ")
        )))
    }

    fn package_names(&self, packages: &[PackageRef]) -> Result<Vec<String>, Error> {
        let targets = self
            .project
            .targets(packages, &self.repacked, self.manager())?;
        let mut names = Vec::new();
        for file in &targets.files {
            names.push(match self.manager() {
                PackageManager::Opkg => crate::ipk::read(file)?.control.package,
                PackageManager::Apk => crate::apk::read(file)?.name,
            });
        }
        names.extend(targets.names);
        Ok(names)
    }

    /// Owners and conffiles of the installed `names`, before they go.
    fn lifecycle_context(
        &mut self,
        names: &[String],
        ignore: &[String],
    ) -> Result<lifecycle::Context, Error> {
        let mut cx = lifecycle::Context {
            ignore: ignore.to_vec(),
            ..lifecycle::Context::default()
        };
        for name in names {
            for path in self.files_of(name)? {
                cx.owners.insert(path, name.clone());
            }
        }
        for pkg in self
            .installed()?
            .into_iter()
            .filter(|p| names.contains(&p.name))
        {
            cx.conffiles
                .extend(pkg.conffiles.into_iter().map(|(path, _)| path));
        }
        Ok(cx)
    }

    /// The files the package manager recorded for the installed `name`.
    pub fn files_of(&mut self, name: &str) -> Result<Vec<String>, Error> {
        Ok(match self.manager() {
            PackageManager::Opkg => opkg::package_files(&mut self.container, name)?,
            PackageManager::Apk => apktool::package_files(&mut self.container, name)?,
        })
    }

    /// Publish these packages as the container's only feed (offline,
    /// `file://`; for apk a `packages.adb` written and signed by wrtest) and update the
    /// package manager's lists, so packages install by name with their
    /// dependencies resolved from the feed.
    pub fn publish_feed(
        &mut self,
        packages: &[PackageRef],
        timeout: Duration,
    ) -> Result<Transaction, Error> {
        let published = self.publish_feed_with(packages, &FeedOptions::default(), timeout)?;
        published
            .update
            .ok_or_else(|| Error::Input("the feed was published without an update".into()))
    }

    /// Publish these packages as the container's only feed as `options`
    /// say: `file://` or over HTTP from the hub (after
    /// [`attach_network`](Self::attach_network)), signed with usign or not,
    /// with or without `opkg update`. On apk images the feed is always a
    /// `file://` one signed with a key made for it (see `apktool`).
    pub fn publish_feed_with(
        &mut self,
        packages: &[PackageRef],
        options: &FeedOptions,
        timeout: Duration,
    ) -> Result<Published, Error> {
        let mut files = Vec::new();
        for package in packages {
            match package {
                PackageRef::Repack(name) => files.push(self.repack(name)?),
                other => files.extend(self.project.package_files(other, self.manager())?),
            }
        }
        if self.manager() == PackageManager::Apk {
            return self.publish_apk_feed(&files, options, timeout);
        }
        let host_dir = self.scratch_dir("feed-")?;
        let published = crate::feed::publish(
            &mut self.container,
            self.link.as_mut(),
            &files,
            &host_dir,
            options,
            timeout,
        )?;
        Ok(published)
    }

    fn publish_apk_feed(
        &mut self,
        files: &[PathBuf],
        options: &FeedOptions,
        timeout: Duration,
    ) -> Result<Published, Error> {
        if *options != FeedOptions::default() {
            return Err(Error::Unsupported(format!(
                "feed_options ({options:?}) are for opkg feeds; {} gets a signed file feed",
                self.image.id
            )));
        }
        let update = apktool::publish(&mut self.container, files, timeout)?;
        Ok(Published {
            url: "file feed (apk)".into(),
            host_dir: None,
            update: Some(update),
        })
    }

    /// `opkg update` (or `apk update`) against the configured feeds.
    pub fn update(&mut self, timeout: Duration) -> Result<Transaction, Error> {
        match self.manager() {
            PackageManager::Opkg => Ok(crate::feed::update(&mut self.container, timeout)?),
            PackageManager::Apk => Ok(apktool::update(&mut self.container, timeout)?),
        }
    }

    /// A new directory for this testbed's files on the host, removed with
    /// it.
    fn scratch_dir(&mut self, prefix: &str) -> Result<PathBuf, Error> {
        let run = crate::container::rundir::RunDir::current()
            .map_err(crate::container::ContainerError::RunDir)?;
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(run.path())
            .map_err(|e| {
                Error::Input(format!(
                    "cannot make a directory in {}: {e}",
                    run.path().display()
                ))
            })?;
        let path = dir.path().to_owned();
        self.scratch.push(dir);
        Ok(path)
    }

    /// Rebuild the installed package `name` into an ipk from this
    /// container's files and opkg's metadata; later installs of
    /// `repack:NAME` use it. Built once per testbed.
    pub fn repack(&mut self, name: &str) -> Result<PathBuf, Error> {
        self.require_opkg()?;
        if let Some(done) = self.repacked.get(name) {
            return Ok(done.clone());
        }
        if self.repack_dir.is_none() {
            let run = crate::container::rundir::RunDir::current()
                .map_err(crate::container::ContainerError::RunDir)?;
            let dir = tempfile::Builder::new()
                .prefix("repacked-")
                .tempdir_in(run.path())
                .map_err(|e| {
                    Error::Input(format!(
                        "cannot make a directory for repacked packages: {e}"
                    ))
                })?;
            self.repack_dir = Some(dir);
        }
        let out = self
            .repack_dir
            .as_ref()
            .map(|d| d.path().to_owned())
            .unwrap_or_default();
        let file = opkg::repack(&mut self.container, name, &out)?;
        self.repacked.insert(name.to_owned(), file.clone());
        Ok(file)
    }

    /// Installed packages.
    pub fn installed(&mut self) -> Result<Vec<InstalledPackage>, Error> {
        Ok(match self.manager() {
            PackageManager::Opkg => opkg::installed(&mut self.container)?,
            PackageManager::Apk => apktool::installed(&mut self.container)?,
        })
    }

    /// A file's description and (for regular files) its first MiB.
    pub fn file(&mut self, path: &str) -> Result<Option<(Node, Vec<u8>)>, Error> {
        Ok(self.container.inspect(path, 1 << 20)?)
    }

    /// Tear the container down now, reporting what could not be cleaned
    /// (dropping the testbed does the same, silently).
    pub fn container_stop(self) -> Result<(), Error> {
        Ok(self.container.stop()?)
    }

    fn require_opkg(&self) -> Result<(), Error> {
        match self.image.meta.package_manager {
            PackageManager::Opkg => Ok(()),
            PackageManager::Apk => Err(Error::Unsupported(format!(
                "image {} manages packages with apk; repack: rebuilds from opkg's metadata and is opkg-only so far",
                self.image.id
            ))),
        }
    }
}

/// What [`Testbed::lifecycle`] did.
#[derive(Debug, Clone)]
pub struct LifecycleRun {
    /// The install.
    pub install: Transaction,
    /// The removal, when the install succeeded.
    pub remove: Option<Transaction>,
    /// What was left behind, when the install succeeded.
    pub report: Option<LifecycleReport>,
}

/// How the host runs `image`, or a refusal naming the image, its
/// architecture and, when no emulator was found, every path looked at.
pub fn check_runnable(image: &Prepared, config: &Config) -> Result<Runner, Error> {
    let runner = emulation::runner_for(&image.meta, &emulation::search_dirs(config));
    runner.map_err(|e| {
        Error::Unsupported(format!(
            "image {} ({}) is built for {} (ELF machine {}), which this {} host runs only through qemu-user: {}",
            image.id,
            image.tarball.display(),
            image.meta.arch,
            image.meta.elf_machine,
            std::env::consts::ARCH,
            crate::error_chain(&e),
        ))
    })
}

/// The container options for a runner: 32-bit images get no seccomp
/// filter, emulated ones their emulator's registration.
pub fn options_for(runner: &Runner, options: &Options) -> Options {
    Options {
        compat32: *runner == Runner::Compat32,
        binfmt: match runner {
            Runner::Emulated(e) => Some(e.binfmt.clone()),
            _ => None,
        },
        ..options.clone()
    }
}

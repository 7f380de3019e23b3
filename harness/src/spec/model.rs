//! The validated suite model.
//!
//! Owns the types the rest of wrtest consumes once a suite file has been
//! checked: every default is filled in and every value has the right shape.
//! Nothing here reads TOML; images and package files are not looked up here
//! either, only remembered with their [`Location`]s.

use std::path::PathBuf;
use std::time::Duration;

use super::error::{Located, Location};
use super::matcher::Matcher;

/// One suite file: a named list of cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    /// The suite's name: the `name` key, or else the file stem.
    pub name: String,
    /// The file the suite was read from.
    pub path: PathBuf,
    /// The cases, in file order; there is at least one.
    pub cases: Vec<Case>,
}

/// One test case: a fresh container, prepared and then driven step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The case's name, unique within its suite.
    pub name: String,
    /// Where the case's `[[case]]` table starts.
    pub location: Location,
    /// The images to run the case on (at least one): the case's own
    /// `images`, or else the suite's.
    pub images: Vec<Located<String>>,
    /// Packages to publish as a local opkg feed in the container before
    /// anything is installed, so that `name:` references and dependencies
    /// resolve from it; empty means no feed. The suite's `feed` followed by
    /// the case's, except that a case's `feed = []` leaves it empty.
    pub feed: Vec<Located<PackageRef>>,
    /// How the feed is published: `file://` or HTTP, signed or not, with
    /// `opkg update` or without (the `feed_options` keys of the case, else
    /// of the suite, else the defaults: file, unsigned, update).
    pub feed_options: crate::feed::FeedOptions,
    /// Packages to install before the first step: the suite's `install`
    /// followed by the case's.
    pub install: Vec<Located<PackageRef>>,
    /// The steps, in order; there is at least one.
    pub steps: Vec<Step>,
    /// Whether the case only runs when ignored tests are asked for.
    pub ignore: bool,
    /// The container's hostname, if the case sets one.
    pub hostname: Option<String>,
    /// Why the case is expected to fail (such as a known bug), when it is.
    pub expect_fail: Option<String>,
    /// What the case needs to run (`procd`, `network` or `arch:NAME`),
    /// each as written and at most once, in file order.
    pub needs: Vec<Located<String>>,
    /// The resource limits: each key of the case's `limits` table, else the
    /// same key of the suite's.
    pub limits: LimitsSpec,
}

/// Limits a suite or case asks for; `None` means the harness default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitsSpec {
    /// Most processes (and threads) alive at once in the case.
    pub pids: Option<u64>,
    /// Most memory the case may use, in bytes.
    pub memory_bytes: Option<u64>,
    /// CPU bandwidth in thousandths of a core (500 is half a core).
    pub cpu_millis: Option<u32>,
    /// Size of the container's `/tmp` (and `/var`) tmpfs, in bytes.
    pub tmp_bytes: Option<u64>,
    /// Size of the container's writable layer (changes outside `/tmp`), in
    /// bytes.
    pub layer_bytes: Option<u64>,
    /// Wall-clock limit for the whole case.
    pub time: Option<Duration>,
}

/// One step of a case: an action followed by checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step's position in its case, starting at 1.
    pub index: usize,
    /// Where the step's table starts.
    pub location: Location,
    /// What the step does.
    pub action: Action,
    /// How long the action may take: the step's `timeout`, else the case's,
    /// else the suite's, else 60 seconds.
    pub timeout: Duration,
    /// The snapshot name, when the step's result is to be snapshotted.
    pub snapshot: Option<String>,
    /// What must hold once the action is done.
    pub checks: Checks,
}

/// What a step does before its checks are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a command with `/bin/sh -c` inside the container.
    Run {
        /// The shell command.
        command: String,
        /// Text fed to the command's standard input, if any.
        stdin: Option<String>,
        /// The expected exit status (0 unless the step says otherwise).
        exit: i32,
        /// What standard output must look like, if checked.
        stdout: Option<Matcher>,
        /// What standard error must look like, if checked.
        stderr: Option<Matcher>,
    },
    /// Install packages with the package manager.
    Install {
        /// The packages, in the order given.
        packages: Vec<Located<PackageRef>>,
        /// Whether to reinstall packages that are already installed.
        force_reinstall: bool,
        /// How the package manager must finish.
        outcome: Outcome,
    },
    /// Remove installed packages by name.
    Remove {
        /// The package names.
        names: Vec<String>,
        /// Whether to also remove dependencies nothing else needs.
        autoremove: bool,
        /// How the package manager must finish.
        outcome: Outcome,
    },
    /// Install packages, remove them again and compare the container
    /// before and after: every file added, changed or removed and every
    /// process still running is a leftover, except the package manager's
    /// own bookkeeping and paths matching `leftovers_ignore`. Modified
    /// conffiles that are kept count as "config kept", not as leftovers.
    Lifecycle {
        /// The packages, in the order given; there is at least one.
        packages: Vec<Located<PackageRef>>,
        /// Absolute path patterns of changes that are not leftovers, as
        /// written: `*` matches within one path segment, `**` (a whole
        /// segment) any number of segments, `?` one character.
        leftovers_ignore: Vec<String>,
    },
    /// Run `opkg update` against the case's feed.
    Update {
        /// How opkg must finish.
        outcome: Outcome,
    },
    /// Wait until every condition holds inside the case (a procd service
    /// instance runs, a process runs, a port listens), or the step's
    /// timeout passes.
    Wait {
        /// The conditions, in the order written.
        conditions: Vec<crate::services::Condition>,
    },
    /// `GET path` from the hub to the case's address and `port`, repeated
    /// until the response matches or the step's timeout passes. Needs a
    /// network (`needs = ["network"]`).
    Http {
        /// The case's TCP port (80 unless given).
        port: u16,
        /// The path, starting with `/`.
        path: String,
        /// The expected status code (200 unless given).
        status: u16,
        /// What the body must look like, if checked.
        body: Option<Matcher>,
    },
    /// Ask the case's DNS server (port 53) from the hub for a name's A
    /// records, repeated until the answer matches or the step's timeout
    /// passes. Needs a network.
    Dns {
        /// The name to look up.
        name: String,
        /// The response code the answer must have (`NOERROR`, `NXDOMAIN`,
        /// `REFUSED`, ...), if checked.
        rcode: Option<String>,
        /// What the answer records (one `NAME A ADDRESS` line each) must
        /// look like; without it, any NOERROR answer with a record passes.
        answer: Option<Matcher>,
    },
    /// Read the system log with `logread` (needs `needs = ["procd"]`); its
    /// text can be matched and snapshotted (timestamps and process ids
    /// redacted).
    Logread {
        /// Only lines containing this text, when given.
        filter: Option<String>,
        /// What the log must look like, if checked.
        output: Option<Matcher>,
    },
    /// Do nothing; only verify the step's checks.
    Check,
}

/// The expected result of a package manager action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the package manager must succeed (true) or fail (false).
    pub success: bool,
    /// Error kinds the package manager must report, such as
    /// `missing-dependency`; only ever non-empty when `success` is false.
    /// See [`ERROR_KINDS`](super::ERROR_KINDS).
    pub error_kinds: Vec<String>,
    /// What the package manager's combined output must look like, if
    /// checked.
    pub output: Option<Matcher>,
}

/// A package to install or to publish in a case's feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PackageRef {
    /// `fixture:NAME`: a package built from the fixture named NAME.
    Fixture(String),
    /// A package file, already joined to the suite file's directory; it may
    /// not exist. In a case's `feed` it may also be a directory, standing
    /// for every `*.ipk` file directly in it.
    File(PathBuf),
    /// `name:PKG`: the package named PKG, installed by name as
    /// `opkg install PKG` would, with its dependencies, from the package
    /// lists in the container (the case's feed, when it has one). Never in
    /// a feed.
    Name(String),
    /// `repack:PKG`: the package PKG as the image ships it, rebuilt into an
    /// ipk from its installed files and opkg's metadata when the case
    /// starts, so a case can remove it and install it again (from a file,
    /// or by name from the case's feed).
    Repack(String),
}

/// Conditions verified after a step's action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checks {
    /// Package names that must be installed.
    pub installed: Vec<String>,
    /// Package names that must not be installed.
    pub not_installed: Vec<String>,
    /// Conditions on paths inside the container.
    pub files: Vec<FileCheck>,
}

impl Checks {
    /// Whether there is nothing to verify.
    pub fn is_empty(&self) -> bool {
        self.installed.is_empty() && self.not_installed.is_empty() && self.files.is_empty()
    }
}

/// Conditions on one path inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Where the check's table starts.
    pub location: Location,
    /// The absolute path inside the container.
    pub path: String,
    /// Whether the path must exist (true) or be absent (false). When false,
    /// the other conditions are all `None`.
    pub exists: bool,
    /// The kind of file the path must be, without following a final
    /// symlink.
    pub kind: Option<FileKind>,
    /// The permission bits (including setuid, setgid and sticky) the path
    /// must have.
    pub mode: Option<u32>,
    /// What the file's content must look like.
    pub content: Option<Matcher>,
}

/// A kind of filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
}

//! The declarative suite format: TOML files that describe test cases.
//!
//! This module owns reading suite files into a validated [`Suite`] and
//! finding them on disk ([`discover`]). It does not look up images, build
//! fixtures, check that package files exist or run anything: it only makes
//! sure a suite is well formed and remembers where each value was written,
//! so later stages can report `file:line:col` too.
//!
//! # The format
//!
//! A suite is one TOML file holding suite-wide defaults and a list of
//! `[[case]]` tables. Every case runs in a fresh container; its steps run
//! in order.
//!
//! ```toml
//! name = "hello"                        # default: the file stem
//! images = ["openwrt-19.07.5-x86-64"]   # image ids every case runs on
//! install = ["fixture:hello-lib"]       # installed before each case's steps
//! timeout = 30                          # default per-step timeout, seconds
//!
//! [limits]                              # defaults for every case
//! memory = "256M"
//! time = 120
//!
//! [[case]]
//! name = "prints_greeting"
//! install = ["fixture:hello"]           # after the suite's `install`
//! hostname = "OpenWrt"
//!
//!   [case.limits]                       # overrides the suite's, key by key
//!   pids = 64
//!
//!   [[case.step]]
//!   run = "hello world"
//!   stdout = "Hello, world!\n"
//!   stderr = { not_contains = "warning" }
//!   snapshot = true                     # named "prints_greeting-1"
//!
//!   [[case.step]]
//!   remove = ["hello"]
//!   not_installed = ["hello"]
//!   [[case.step.file]]
//!     path = "/usr/bin/hello"
//!     exists = false
//!
//! [[case]]
//! name = "leaves_nothing_behind"
//! needs = ["procd", "arch:x86_64"]
//! expect_fail = "the init script leaves its pid file (bug 42)"
//!
//!   [[case.step]]
//!   lifecycle = ["fixture:hello-lib", "fixture:hello"]
//!   leftovers_ignore = ["/etc/hello.log", "/var/log/**"]
//!
//! [[case]]
//! name = "installs_by_name"
//! feed = ["fixture:hello", "pkgs/"]     # a local feed: the fixture and pkgs/*.ipk
//! install = ["name:hello"]              # resolved, with its dependencies, from the feed
//!
//!   [[case.step]]
//!   installed = ["hello", "hello-lib"]
//! ```
//!
//! ## Top level
//!
//! | key | value | default |
//! |---|---|---|
//! | `name` | suite name: ASCII letters, digits, `_`, `-` | the file stem |
//! | `images` | array of image ids | none; then every case must set `images` |
//! | `feed` | array of package references published as a local feed; see below | `[]` |
//! | `install` | array of package references | `[]` |
//! | `timeout` | seconds, an integer or float greater than 0 | 60 |
//! | `limits` | resource limits for every case; see below | harness defaults |
//! | `case` | the `[[case]]` tables; at least one | |
//!
//! ## `[[case]]`
//!
//! | key | value | default |
//! |---|---|---|
//! | `name` | required; a name as above, unique in the suite | |
//! | `images` | array of image ids, replacing the suite's; not empty | the suite's |
//! | `feed` | package references published after the suite's; `[]` means no feed | the suite's |
//! | `install` | package references installed after the suite's | `[]` |
//! | `ignore` | boolean; an ignored case runs only with `--ignored` | `false` |
//! | `expect_fail` | non-blank reason: the case is expected to fail (a known bug) | unset |
//! | `needs` | array of what the case needs to run, each at most once; see below | `[]` |
//! | `hostname` | the container's hostname (1 to 63 of `A-Za-z0-9-.`) | unset |
//! | `timeout` | per-step default for this case, seconds | the suite's |
//! | `limits` | resource limits; each key set here replaces the suite's | the suite's |
//! | `step` | the `[[case.step]]` tables, in order; at least one | |
//!
//! `expect_fail` and `needs` are case keys only; the suite and steps do not
//! take them.
//!
//! An item of `needs` is one of:
//!
//! | item | the case needs |
//! |---|---|
//! | `procd` | procd, OpenWrt's init and service manager, running in the container |
//! | `network` | networking in the container beyond loopback |
//! | `arch:NAME` | an image that takes packages of architecture NAME |
//!
//! NAME is a package architecture such as `x86_64`, `i386_pentium4`,
//! `aarch64_generic`, `mips_24kc` or `all`, made of ASCII letters, digits,
//! `_` and `-`. Items are kept as written; deciding whether an image or the
//! host provides them is the runner's job.
//!
//! ## `[limits]` and `[case.limits]`
//!
//! Every key is optional. A case takes each key from its own table when it
//! sets it, else from the suite's, else the harness default applies; the
//! result is the case's [`LimitsSpec`].
//!
//! | key | value |
//! |---|---|
//! | `pids` | most processes and threads alive at once, 1 to 4194304 |
//! | `memory` | most memory, a size |
//! | `cpus` | CPU bandwidth in cores, 0.001 to 64, such as `2` or `0.5` |
//! | `tmp` | size of the container's `/tmp` (and `/var`) tmpfs, a size |
//! | `layer` | size of the container's writable layer (changes outside `/tmp`), a size |
//! | `time` | wall-clock limit for the whole case, seconds greater than 0 |
//!
//! A size is at least 1M: an integer number of bytes, or a string of a
//! whole number followed by `K`, `M` or `G` (powers of 1024), such as
//! `"512M"`. Fractions are not accepted; write `"1536M"`, not `"1.5G"`.
//!
//! ## `[[case.step]]`
//!
//! A step has at most one action, then checks. A step with no action must
//! have at least one check.
//!
//! | key | goes with | value | default |
//! |---|---|---|---|
//! | `run` | (action) | shell command, run as `/bin/sh -c` in the container | |
//! | `stdin` | `run` | text fed to standard input | none |
//! | `exit` | `run` | expected exit status, 0 to 255 | 0 |
//! | `stdout`, `stderr` | `run` | matcher | unchecked |
//! | `install` | (action) | array of package references, not empty | |
//! | `force_reinstall` | `install` | boolean | `false` |
//! | `remove` | (action) | array of package names, not empty | |
//! | `autoremove` | `remove` | boolean | `false` |
//! | `lifecycle` | (action) | array of package references, not empty; see below | |
//! | `leftovers_ignore` | `lifecycle` | array of path patterns; see below | `[]` |
//! | `expect` | `install`, `remove` | `"success"` or `"failure"` | `"success"` |
//! | `errors` | `install`, `remove` | error kinds to report; implies `"failure"` | `[]` |
//! | `output` | `install`, `remove` | matcher on the package manager's output | unchecked |
//! | `timeout` | any | seconds | the case's |
//! | `snapshot` | any | `true` (named `<case>-<step number>`) or a name | no snapshot |
//! | `installed`, `not_installed` | any | arrays of package names | `[]` |
//! | `file` | any | the `[[case.step.file]]` tables | `[]` |
//!
//! Snapshot names must be unique in the suite. The error kinds are listed
//! in [`ERROR_KINDS`]; giving both `errors` and `expect = "success"` is an
//! error.
//!
//! ## `lifecycle` steps
//!
//! A `lifecycle` step checks that its packages clean up after themselves.
//! It records the container's files and processes, installs the packages
//! (which must succeed), removes them again and records once more. Every
//! file added, changed or removed and every process left running fails the
//! step, except the package manager's own bookkeeping and paths matching a
//! `leftovers_ignore` pattern. A modified conffile that removal keeps is
//! reported as "config kept", not as a leftover.
//!
//! A pattern is an absolute path; within a segment `*` matches any run of
//! characters and `?` one character, neither crossing a `/`; a segment that
//! is exactly `**` matches any number of whole segments, including none. Every
//! other character stands for itself. Patterns may not be empty, relative,
//! contain an empty segment (`//` or a final `/`), or use `**` inside a
//! longer segment: `/var/log/**` is valid, `/var/log**` is not.
//!
//! ## Feeds
//!
//! `feed` makes a case's container install from local packages, the way a
//! router installs from its package feeds, without reaching the network.
//! Before the case's `install` list, the packages of the case's feed (the
//! suite's `feed` followed by the case's own) are published inside the
//! container as an opkg feed: their index is written into a `file://`
//! feed, the image's own (internet) feeds are disabled, signature checks
//! are turned off for the local feed, as OpenWrt's CI does, and `opkg
//! update` is run. `name:PKG` references then resolve from the feed, and so
//! do the dependencies of every package installed, whatever form it was
//! named in. Publishing a package does not install it.
//!
//! An item of `feed` is `fixture:NAME` or a path, relative to the suite
//! file's directory, of a package file or of a directory standing for
//! every `*.ipk` file directly in it. `name:PKG` is an error in `feed`: a
//! feed needs files. An empty list at the top means no feed. A case's
//! `feed = []` means the case has no feed even when the suite has one;
//! leaving `feed` out keeps the suite's.
//!
//! ```toml
//! images = ["openwrt-21.02.3-x86-64"]
//! feed = ["pkgs/"]                      # every *.ipk in pkgs/, for every case
//!
//! [[case]]
//! name = "lmapd_runs"
//! feed = ["fixture:simet-ma"]           # published after pkgs/*.ipk
//! install = ["name:simet-lmapd"]        # its dependencies come from the feed too
//!
//!   [[case.step]]
//!   run = "lmapctl version"
//!
//! [[case]]
//! name = "alone"
//! feed = []                             # no feed at all for this case
//! install = ["fixture:simet-ma"]
//!
//!   [[case.step]]
//!   installed = ["simet-ma"]
//! ```
//!
//! ## `[[case.step.file]]`
//!
//! | key | value | default |
//! |---|---|---|
//! | `path` | required; absolute path in the container | |
//! | `exists` | boolean; `false` allows no other key but `path` | `true` |
//! | `kind` | `"file"`, `"dir"` or `"symlink"` | unchecked |
//! | `mode` | permission bits as 3 or 4 octal digits, such as `"0644"` | unchecked |
//! | `content` | matcher | unchecked |
//!
//! ## Package references and matchers
//!
//! A package reference takes one of three forms; NAME and PKG are made of
//! ASCII letters, digits, `.`, `_`, `+` and `-`.
//!
//! | form | the package | allowed in |
//! |---|---|---|
//! | `fixture:NAME` | built from the fixture NAME | `install`, `lifecycle`, `feed` |
//! | `name:PKG` | the one named PKG, from the case's feed | `install`, `lifecycle` |
//! | `repack:PKG` | PKG as installed in the image, rebuilt into an ipk when the case starts | `install`, `lifecycle` |
//! | anything else | the file at that path | `install`, `lifecycle`, `feed` |
//!
//! `name:PKG` installs by name, as `opkg install PKG` would on a router.
//! A path is relative to the suite file's directory; in `feed` it may also
//! be a directory (see "Feeds").
//!
//! A package file whose path starts with `fixture:` or `name:` can be
//! named as `./fixture:...` or `./name:...`.
//!
//! A [`Matcher`] is either a string, which the text must equal exactly, or
//! a table with any of `equals`, `contains`, `not_contains` and `matches`
//! (a regular expression, compiled when the suite is loaded). Each takes a
//! string or an array of strings, and every rule must hold.
//!
//! ## Errors
//!
//! Every problem is reported as a [`SpecError`] that displays as
//! `file:line:col: message`, pointing at the offending key or value.
//! Unknown keys are errors (the message lists the allowed ones), so a typo
//! never silently turns a check off. `fixtures/bad/spec/` holds one small
//! example of each kind of mistake.
//!
//! ```
//! let suite = wrtest::spec::parse(
//!     "images = [\"x86-64\"]\n[[case]]\nname = \"a\"\n[[case.step]]\nrun = \"true\"\n",
//!     std::path::Path::new("suites/smoke.toml"),
//! );
//! assert_eq!(suite.map(|s| s.name), Ok("smoke".to_string()));
//!
//! let err = wrtest::spec::parse("images = 3\n", std::path::Path::new("s.toml"));
//! let message = err.map_err(|e| e.to_string()).err().unwrap_or_default();
//! assert_eq!(message, "s.toml:1:10: expected an array for `images`, found an integer");
//! ```

mod checks;
mod discover;
mod error;
mod feed_options;
mod fields;
mod limits;
mod matcher;
mod model;
mod needs;
mod pattern;
mod raw;
mod services;
mod source;
mod step;
mod suite;
mod values;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod suite_tests;

pub use discover::discover;
pub use error::{Located, Location, SpecError};
pub use matcher::{Matcher, Rule};
pub use model::{
    Action, Case, Checks, FileCheck, FileKind, LimitsSpec, Outcome, PackageRef, Step, Suite,
};
pub use suite::{load, parse, DEFAULT_TIMEOUT};
pub use values::ERROR_KINDS;

//! Boot mode: OpenWrt's service layer brought up inside a container.
//!
//! wrtest's own init stays pid 1 (it holds the control socket, reaps and
//! ends the case); what boot adds is what a router runs after preinit:
//! `ubusd`, `procd` as the service manager (procd not running as pid 1
//! connects to ubus and serves the `service` object, but skips the pid-1
//! early setup that mounts filesystems, creates devices and coldplugs
//! /sys), then every `/etc/rc.d/S*` script with `boot`, in order, as procd's
//! rcS would. So `logd` runs, `/etc/init.d/NAME start|stop|enable|...`,
//! `service`, `ubus call service list` and `logread` work, and packages'
//! postinst scripts start their services as on a router.
//!
//! procd's jail helper (`ujail`) is removed from the case first: it needs
//! namespaces a case cannot create, and procd runs services unjailed
//! without it, as on images built without ujail.
//!
//! Nothing reaches the host: /sys and /proc/sys are read-only in the
//! container, capabilities exclude module loading and network
//! administration, so boot scripts that try (sysctl, kmodloader, netifd's
//! interface setup, the firewall) fail inside and are reported, not fatal.

use std::time::{Duration, Instant};

use crate::container::{Container, ContainerError};

/// Where ubusd's socket is, by release: 21.02 and later, then older.
const UBUS_SOCKETS: &[&str] = &["/var/run/ubus/ubus.sock", "/var/run/ubus.sock"];

/// The runtime directories preinit makes before init; and ujail removed
/// (from the case's overlay), so procd runs services it would jail
/// unjailed, as on images built without ujail: ujail needs namespaces a
/// case cannot make.
const PREPARE: &str = "mkdir -p /var/run/ubus /var/log /var/lock /var/state /tmp/.uci \
    && for b in /sbin/ubusd /sbin/procd /bin/ubus; do \
    [ -x $b ] || { echo \"$b is missing\"; exit 1; }; done \
    && rm -f /sbin/ujail";

/// Marks in the boot loop's output: a script starts, a script ended.
const STARTS: &str = "wrtest-boot-start ";
const ENDS: &str = "wrtest-boot-end ";

/// Run every start script with `boot`, as procd's rcS does.
/// Start scripts not run: `sysntpd` waits up to 30 s for an upstream time
/// server the case can never reach, and a container cannot set the clock.
pub const SKIPPED: &[&str] = &["sysntpd"];

/// Each mark carries the kernel's uptime (centiseconds), for timing.
const RC_BOOT: &str = "for s in /etc/rc.d/S*; do [ -x \"$s\" ] || continue; \
    case \"${s##*/}\" in S[0-9][0-9]sysntpd) continue;; esac; \
    read up _ </proc/uptime; echo \"wrtest-boot-start ${s##*/} $up\"; \
    \"$s\" boot </dev/null 2>&1; c=$?; read up _ </proc/uptime; \
    echo \"wrtest-boot-end $c $up\"; done";

/// A boot problem: the service layer did not come up.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Talking to the container failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// A step of the boot did not work; the text says which.
    #[error("boot failed: {0}")]
    Failed(String),
}

/// What a boot did.
#[derive(Debug, Clone)]
pub struct Booted {
    /// From the first command to the last start script's end.
    pub took: Duration,
    /// The start scripts, in order.
    pub scripts: Vec<BootScript>,
}

/// One `/etc/rc.d/S*` script run with `boot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootScript {
    /// Its name, such as `S19dropbear`.
    pub name: String,
    /// Its exit status (`None` when the output was cut before its end).
    pub exit: Option<i32>,
    /// What it printed (stdout and stderr together).
    pub output: String,
    /// How long it ran (to 10 ms).
    pub took: Duration,
}

impl Booted {
    /// The scripts that did not end with status 0.
    pub fn failed(&self) -> impl Iterator<Item = &BootScript> {
        self.scripts.iter().filter(|s| s.exit != Some(0))
    }

    /// Scripts that ended non-zero, with their output, one per line.
    pub fn failures(&self) -> Vec<String> {
        self.failed()
            .map(|s| {
                let exit = s.exit.map_or("no end".into(), |c| format!("exit {c}"));
                format!(
                    "{} ({exit}): {}",
                    s.name,
                    s.output.trim().replace('\n', " | ")
                )
            })
            .collect()
    }
}

/// Boot the container's services; `timeout` bounds the whole boot.
pub fn boot(c: &mut Container, timeout: Duration) -> Result<Booted, BootError> {
    let started = Instant::now();
    let deadline = started + timeout;
    must(c.sh(PREPARE, timeout)?, "preparing /var")?;
    must(
        c.sh("/sbin/ubusd </dev/null >/dev/null 2>&1 &", timeout)?,
        "starting ubusd",
    )?;
    wait_for_socket(c, deadline)?;
    let left = remaining(deadline)?;
    let wait = format!(
        "/sbin/procd </dev/null >/dev/null 2>&1 & ubus -t {} wait_for service",
        left.as_secs().max(1)
    );
    must(c.sh(&wait, left)?, "starting procd (ubus wait_for service)")?;
    let output = c.sh(RC_BOOT, remaining(deadline)?)?;
    if output.status == crate::container::ExitStatus::TimedOut {
        return Err(BootError::Failed(format!(
            "the start scripts did not finish within {timeout:?}"
        )));
    }
    Ok(Booted {
        took: started.elapsed(),
        scripts: scripts(&output.stdout_text()),
    })
}

fn must(output: crate::container::Output, what: &str) -> Result<(), BootError> {
    if output.code() == Some(0) {
        return Ok(());
    }
    Err(BootError::Failed(format!(
        "{what}: exit {:?}: {}{}",
        output.code(),
        output.stdout_text(),
        output.stderr_text()
    )))
}

fn remaining(deadline: Instant) -> Result<Duration, BootError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| BootError::Failed("the boot timed out".into()))
}

/// Wait until ubusd's socket exists.
fn wait_for_socket(c: &mut Container, deadline: Instant) -> Result<(), BootError> {
    loop {
        for socket in UBUS_SOCKETS {
            if c.inspect(socket, 0)?.is_some() {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(BootError::Failed(format!(
                "ubusd made none of {} in time",
                UBUS_SOCKETS.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The scripts in the boot loop's output.
fn scripts(output: &str) -> Vec<BootScript> {
    let mut scripts: Vec<BootScript> = Vec::new();
    let mut began = 0.0;
    for line in output.lines() {
        if let Some(mark) = line.strip_prefix(STARTS) {
            let (name, at) = mark.rsplit_once(' ').unwrap_or((mark, ""));
            began = at.parse().unwrap_or(0.0);
            scripts.push(BootScript {
                name: name.to_owned(),
                exit: None,
                output: String::new(),
                took: Duration::ZERO,
            });
        } else if let Some(last) = scripts.last_mut() {
            match line.strip_prefix(ENDS) {
                Some(mark) if last.exit.is_none() => {
                    let (code, at) = mark.split_once(' ').unwrap_or((mark, ""));
                    last.exit = code.parse().ok();
                    let ended: f64 = at.parse().unwrap_or(began);
                    last.took = Duration::from_secs_f64((ended - began).max(0.0));
                }
                _ => {
                    last.output.push_str(line);
                    last.output.push('\n');
                }
            }
        }
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_loop_output_splits_into_scripts() {
        let out = "wrtest-boot-start S10boot 10.00\nmount: permission denied\n\
                   wrtest-boot-end 0 11.25\n\
                   wrtest-boot-start S11sysctl 11.25\nsysctl: read-only\nwrtest-boot-end 1 11.30\n\
                   wrtest-boot-start S19cut 11.30\npartial";
        let s = scripts(out);
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].name.as_str(), s[0].exit), ("S10boot", Some(0)));
        assert_eq!(s[0].output, "mount: permission denied\n");
        assert_eq!(s[0].took, Duration::from_millis(1250));
        assert_eq!(s[1].exit, Some(1));
        assert_eq!(s[2].exit, None);
        let booted = Booted {
            took: Duration::ZERO,
            scripts: s,
        };
        assert_eq!(
            booted.failures(),
            [
                "S11sysctl (exit 1): sysctl: read-only",
                "S19cut (no end): partial"
            ]
        );
    }
}

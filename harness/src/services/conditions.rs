//! The conditions a case can wait for, and how each is checked inside the
//! container: procd's `service list` over ubus, the process table, and the
//! kernel's socket tables in `/proc/net`.

use std::fmt;
use std::time::Duration;

use crate::container::{Container, ContainerError};

/// A transport protocol of a listening port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP: a socket in LISTEN state.
    Tcp,
    /// UDP: a bound socket.
    Udp,
}

/// Something that should come to hold in a running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// procd runs an instance of this service (`ubus call service list`).
    Service(String),
    /// A process of this name runs: its program's base name, or for a
    /// script run by an interpreter (`/bin/sh /usr/sbin/NAME`), the
    /// script's.
    Process(String),
    /// Something listens on this port, IPv4 or IPv6.
    Port(Protocol, u16),
    /// The inner condition does not hold (a service stopped, a port
    /// closed).
    Not(Box<Condition>),
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Service(name) => write!(f, "service {name} running under procd"),
            Condition::Process(name) => write!(f, "process {name} running"),
            Condition::Port(Protocol::Tcp, port) => write!(f, "TCP port {port} listening"),
            Condition::Port(Protocol::Udp, port) => write!(f, "UDP port {port} bound"),
            Condition::Not(inner) => write!(f, "no {inner}"),
        }
    }
}

const SHORT: Duration = Duration::from_secs(10);

/// Largest socket table read.
const TABLE_LIMIT: u64 = 4 << 20;

/// What one check of a condition found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It holds.
    Holds,
    /// It does not hold; what was seen instead.
    Fails(String),
    /// It could not be checked (ubus down, a table unreadable); why. A
    /// negated condition is not met by this either.
    Unknown(String),
}

impl Condition {
    /// Check the condition now.
    pub fn check(&self, c: &mut Container) -> Result<Verdict, ContainerError> {
        match self {
            Condition::Service(name) => service(c, name),
            Condition::Process(name) => process(c, name),
            Condition::Port(protocol, port) => port_open(c, *protocol, *port),
            Condition::Not(inner) => Ok(match inner.check(c)? {
                Verdict::Holds => Verdict::Fails(format!("{inner} still holds")),
                Verdict::Fails(_) => Verdict::Holds,
                unknown => unknown,
            }),
        }
    }

    /// Whether the condition (or the one it negates) asks procd.
    pub fn asks_procd(&self) -> bool {
        match self {
            Condition::Service(_) => true,
            Condition::Not(inner) => inner.asks_procd(),
            _ => false,
        }
    }
}

fn service(c: &mut Container, name: &str) -> Result<Verdict, ContainerError> {
    let out = c.sh("ubus call service list", SHORT)?;
    if out.code() != Some(0) {
        let said = format!("{}{}", out.stdout_text(), out.stderr_text());
        return Ok(Verdict::Unknown(format!(
            "`ubus call service list` failed ({}); is the case booted (needs = [\"procd\"])?",
            said.trim()
        )));
    }
    Ok(running_instances(&out.stdout_text(), name))
}

/// Whether procd's service list has a running instance of `name`. A
/// service procd does not know (never started, or removed) is not running.
pub(crate) fn running_instances(list: &str, name: &str) -> Verdict {
    let parsed: serde_json::Value = match serde_json::from_str(list) {
        Ok(parsed) => parsed,
        Err(e) => return Verdict::Unknown(format!("unreadable service list ({e})")),
    };
    let Some(service) = parsed.get(name) else {
        let known: Vec<&String> = parsed
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        return Verdict::Fails(format!("procd knows no service {name}; it knows {known:?}"));
    };
    let instances = service.get("instances").and_then(|i| i.as_object());
    let running = instances
        .into_iter()
        .flat_map(|i| i.values())
        .any(|i| i.get("running").and_then(|r| r.as_bool()) == Some(true));
    if running {
        Verdict::Holds
    } else {
        Verdict::Fails(format!("{name} has no running instance: {service}"))
    }
}

fn process(c: &mut Container, name: &str) -> Result<Verdict, ContainerError> {
    let processes = c.processes()?;
    if processes
        .iter()
        .any(|(_, command)| program_names(command).contains(&name))
    {
        return Ok(Verdict::Holds);
    }
    let seen: Vec<&str> = processes.iter().map(|(_, c)| c.as_str()).collect();
    Ok(Verdict::Fails(format!("running: {}", seen.join("; "))))
}

/// Interpreters whose first argument names the program (a script daemon
/// runs as `/bin/sh /usr/sbin/NAME`).
const INTERPRETERS: &[&str] = &[
    "sh", "ash", "bash", "dash", "lua", "ucode", "perl", "python3",
];

/// The names a command line runs as: its program's base name, and for a
/// script run by an interpreter, the script's.
pub(crate) fn program_names(command: &str) -> Vec<&str> {
    fn base(word: &str) -> &str {
        word.rsplit('/').next().unwrap_or(word)
    }
    let mut words = command.split_whitespace();
    let Some(program) = words.next().map(base) else {
        return Vec::new();
    };
    let mut names = vec![program];
    if INTERPRETERS.contains(&program) {
        if let Some(script) = words.next().filter(|w| !w.starts_with('-')) {
            names.push(base(script));
        }
    }
    names
}

fn port_open(c: &mut Container, protocol: Protocol, port: u16) -> Result<Verdict, ContainerError> {
    let tables: &[&str] = match protocol {
        Protocol::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Protocol::Udp => &["/proc/net/udp", "/proc/net/udp6"],
    };
    let mut text = String::new();
    for table in tables {
        // Read by pid 1 itself, in the case's network namespace: no tool
        // of the image is needed, so a case cannot break the check.
        match c.inspect(table, TABLE_LIMIT)? {
            Some((_, bytes)) => text.push_str(&String::from_utf8_lossy(&bytes)),
            None if table.ends_with('6') => {}
            None => return Ok(Verdict::Unknown(format!("{table} is missing"))),
        }
    }
    let ports = listening(&text, protocol);
    Ok(if ports.contains(&port) {
        Verdict::Holds
    } else {
        Verdict::Fails(format!("listening: {ports:?}"))
    })
}

/// The local ports in LISTEN state (TCP) or bound (UDP) in `/proc/net`
/// socket tables.
pub(crate) fn listening(tables: &str, protocol: Protocol) -> Vec<u16> {
    let mut ports: Vec<u16> = tables
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1)?;
            let state = fields.nth(1)?;
            let wanted = match protocol {
                Protocol::Tcp => state == "0A",
                Protocol::Udp => state == "07",
            };
            let port = local.rsplit_once(':')?.1;
            wanted.then(|| u16::from_str_radix(port, 16).ok()).flatten()
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_tables_give_listening_ports() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue\n\
            0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n\
            1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2\n\
            2: 0200000A:0016 0100000A:C350 01 00000000:00000000 00:00000000 00000000 0 0 3\n\
            0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0\n";
        assert_eq!(listening(tcp, Protocol::Tcp), [22, 53, 80]);
        let udp = "  sl  local_address rem_address   st\n\
            5: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0\n";
        assert_eq!(listening(udp, Protocol::Udp), [53]);
        assert_eq!(listening(udp, Protocol::Tcp), Vec::<u16>::new());
    }

    #[test]
    fn service_lists_are_read_as_procd_writes_them() {
        let list = r#"{"dropbear":{"instances":{"instance1":{"running":true,"pid":9}}},
                       "cron":{},"uhttpd":{"instances":{"instance1":{"running":false}}}}"#;
        assert_eq!(running_instances(list, "dropbear"), Verdict::Holds);
        let Verdict::Fails(cron) = running_instances(list, "cron") else {
            panic!()
        };
        assert!(cron.contains("no running instance"), "{cron}");
        assert!(matches!(
            running_instances(list, "uhttpd"),
            Verdict::Fails(_)
        ));
        let Verdict::Fails(unknown) = running_instances(list, "sshd") else {
            panic!()
        };
        assert!(unknown.contains("knows no service sshd"), "{unknown}");
        assert!(matches!(
            running_instances("not json", "x"),
            Verdict::Unknown(_)
        ));
    }

    #[test]
    fn script_daemons_match_by_their_scripts_name() {
        assert_eq!(program_names("/usr/sbin/uhttpd -f -p 80"), ["uhttpd"]);
        assert_eq!(
            program_names("/bin/sh /usr/sbin/mwan3track wan"),
            ["sh", "mwan3track"]
        );
        assert_eq!(program_names("/bin/sh -c sleep 1"), ["sh"]);
        assert_eq!(program_names(""), Vec::<&str>::new());
    }
}

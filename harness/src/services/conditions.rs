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
    /// A process of this name runs (its command's base name, or its comm).
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

impl Condition {
    /// Whether the condition holds now; `Err` says what was seen instead.
    pub fn check(&self, c: &mut Container) -> Result<Result<(), String>, ContainerError> {
        match self {
            Condition::Service(name) => service(c, name),
            Condition::Process(name) => process(c, name),
            Condition::Port(protocol, port) => port_open(c, *protocol, *port),
            Condition::Not(inner) => Ok(match inner.check(c)? {
                Ok(()) => Err(format!("{inner} still holds")),
                Err(_) => Ok(()),
            }),
        }
    }
}

fn service(c: &mut Container, name: &str) -> Result<Result<(), String>, ContainerError> {
    let out = c.sh("ubus call service list", SHORT)?;
    if out.code() != Some(0) {
        let said = format!("{}{}", out.stdout_text(), out.stderr_text());
        return Ok(Err(format!(
            "`ubus call service list` failed ({}); is the case booted (needs = [\"procd\"])?",
            said.trim()
        )));
    }
    Ok(running_instances(&out.stdout_text(), name))
}

/// Whether procd's service list has a running instance of `name`.
pub(crate) fn running_instances(list: &str, name: &str) -> Result<(), String> {
    let parsed: serde_json::Value = serde_json::from_str(list)
        .map_err(|e| format!("unreadable service list ({e})"))?;
    let Some(service) = parsed.get(name) else {
        let known: Vec<&String> = parsed.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        return Err(format!("procd knows no service {name}; it knows {known:?}"));
    };
    let instances = service.get("instances").and_then(|i| i.as_object());
    let running = instances
        .into_iter()
        .flat_map(|i| i.values())
        .any(|i| i.get("running").and_then(|r| r.as_bool()) == Some(true));
    if running {
        Ok(())
    } else {
        Err(format!("{name} has no running instance: {service}"))
    }
}

fn process(c: &mut Container, name: &str) -> Result<Result<(), String>, ContainerError> {
    let processes = c.processes()?;
    let found = processes.iter().any(|(_, command)| {
        let program = command.split_whitespace().next().unwrap_or("");
        program.rsplit('/').next() == Some(name) || command == name
    });
    if found {
        return Ok(Ok(()));
    }
    let seen: Vec<&str> = processes.iter().map(|(_, c)| c.as_str()).collect();
    Ok(Err(format!("running: {}", seen.join("; "))))
}

fn port_open(
    c: &mut Container,
    protocol: Protocol,
    port: u16,
) -> Result<Result<(), String>, ContainerError> {
    let tables = match protocol {
        Protocol::Tcp => "/proc/net/tcp /proc/net/tcp6",
        Protocol::Udp => "/proc/net/udp /proc/net/udp6",
    };
    let out = c.sh(&format!("cat {tables} 2>/dev/null"), SHORT)?;
    let ports = listening(&out.stdout_text(), protocol);
    if ports.contains(&port) {
        Ok(Ok(()))
    } else {
        Ok(Err(format!("listening: {ports:?}")))
    }
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
        assert_eq!(running_instances(list, "dropbear"), Ok(()));
        assert!(running_instances(list, "cron").unwrap_err().contains("no running instance"));
        assert!(running_instances(list, "uhttpd").is_err());
        let unknown = running_instances(list, "sshd").unwrap_err();
        assert!(unknown.contains("knows no service sshd"), "{unknown}");
        assert!(running_instances("not json", "x").is_err());
    }
}

//! What the harness and its hub say to each other: one JSON object per
//! line over the Unix socket of a case's link.

use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// A request of one case to the hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Link the network namespace of process `pid` (the case's container)
    /// to the hub. Once per connection; closing the connection unlinks it.
    Attach {
        /// A process in the case's network namespace.
        pid: u32,
    },
    /// Serve the files directly in `dir` over HTTP until the connection
    /// closes.
    Serve {
        /// The directory.
        dir: PathBuf,
    },
    /// `GET path` from the hub to the case's address.
    Http {
        /// The case's TCP port.
        port: u16,
        /// The request path, starting with `/`.
        path: String,
        /// How long one attempt may take, in milliseconds.
        timeout_ms: u64,
    },
    /// Open a TCP connection from the hub to the case's `port`.
    Tcp {
        /// The case's TCP port.
        port: u16,
        /// How long one attempt may take, in milliseconds.
        timeout_ms: u64,
    },
    /// Ask the case's DNS server (UDP port 53) for `name`'s A records.
    Dns {
        /// The name to look up.
        name: String,
        /// How long one attempt may take, in milliseconds.
        timeout_ms: u64,
    },
}

/// The hub's answer to one [`Request`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Answer {
    /// The link is up.
    Attached(LinkInfo),
    /// The directory is served under this URL path (`/TOKEN`).
    Serving(String),
    /// The HTTP response.
    Http {
        /// The status code.
        status: u16,
        /// The body, as text (lossy), at most 1 MiB.
        body: String,
    },
    /// The TCP connection was accepted.
    Connected,
    /// The DNS answer's records, as `NAME TYPE DATA` lines, and its
    /// response code.
    Dns {
        /// `NOERROR`, `NXDOMAIN`, ...
        code: String,
        /// The answer section.
        records: Vec<String>,
    },
    /// The request failed.
    Failed(String),
}

/// A case's link to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    /// The hub's address on the link.
    pub hub: Ipv4Addr,
    /// The case's address, on its `hub0`.
    pub case: Ipv4Addr,
    /// The prefix length of both.
    pub prefix: u8,
}

/// Write `message` as one line.
pub fn send<T: Serialize>(out: &mut impl Write, message: &T) -> io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// Read one line as a message; `None` at the end of the stream.
pub fn receive<T: for<'de> Deserialize<'de>>(input: &mut impl BufRead) -> io::Result<Option<T>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

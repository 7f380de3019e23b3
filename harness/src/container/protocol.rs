//! The messages between the harness and a container's pid 1, and how they
//! travel over the control socket.
//!
//! A frame is a JSON header followed by zero or more raw byte blobs (command
//! output, file contents), each length-prefixed, so binary output survives
//! untouched. This module owns the wire format only, not what either side does.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// Largest header or blob accepted from the other side.
const MAX_PART: u32 = 256 * 1024 * 1024;

/// The helper's first message: the cgroup v1 directories (hybrid hosts)
/// to join before anything else, so that pid 1 and all it starts inherit
/// them. Joining costs the kernel a grace period, which is why it happens
/// here, before the helper is needed (see `pool`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warmup {
    /// Directories whose `cgroup.procs` the helper writes itself into.
    pub join: Vec<String>,
}

/// What the container process needs to build the container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// The extracted image, used read-only as the overlay's lower layer.
    pub lower: String,
    /// Where pid 1 mounts a tmpfs holding the overlay's upper and work
    /// directories: the case's writable layer lives in memory, is bounded by
    /// `layer_bytes`, and vanishes with the container's mount namespace.
    pub layer: String,
    /// Size limit of the writable layer, in bytes.
    pub layer_bytes: u64,
    /// Where the overlay is mounted before `pivot_root`.
    pub root: String,
    /// The container's hostname.
    pub hostname: String,
    /// The case's cgroup v2 directory: pid 1 is forked straight into it.
    pub cgroup: Option<String>,
    /// Size of the container's `/tmp` tmpfs, in bytes.
    pub tmp_bytes: u64,
    /// The image runs 32-bit binaries of the host's family (i386 on
    /// x86-64): no seccomp filter then (see `privileges`).
    pub compat32: bool,
    /// Processes keep `NET_ADMIN` (boot mode; see `privileges`).
    #[serde(default)]
    pub net_admin: bool,
    /// The image's binaries run through this emulator. The container then
    /// gets a user namespace of its own (mapping every id to itself), which
    /// owns the binfmt_misc instance the emulator is registered in.
    #[serde(default)]
    pub binfmt: Option<Binfmt>,
    /// Rootless mode: the run's user namespace, which the helper enters
    /// before it creates the container's own inside it.
    #[serde(default)]
    pub run_user_ns: Option<RunUserNs>,
    /// Rootless, without cgroups: fallbacks for the pids and memory limits
    /// (see [`Rlimits`]).
    #[serde(default)]
    pub rlimits: Option<Rlimits>,
}

/// Resource limits pid 1 sets on itself, so on every process of the
/// container: rootless mode's fallbacks for the cgroup limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimits {
    /// Most processes of each user of the container (`RLIMIT_NPROC`,
    /// which the kernel counts per user of each user namespace, so per
    /// container).
    pub nproc: u64,
    /// Most data (heap, private writable mappings) of each process
    /// (`RLIMIT_DATA`): one runaway process is stopped, not the sum.
    pub data_bytes: u64,
}

/// The run's user namespace (rootless mode, see `userns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunUserNs {
    /// `/proc/<holder>/ns/user`.
    pub path: String,
    /// Its uid extents, as (first id, count).
    pub uids: Vec<(u32, u32)>,
    /// Its gid extents, as (first id, count).
    pub gids: Vec<(u32, u32)>,
}

impl Setup {
    /// Whether the container gets a user namespace of its own: an
    /// emulated image does, for its binfmt_misc instance, and so does
    /// every container of a rootless run.
    pub fn own_user_namespace(&self) -> bool {
        self.user_map().is_some()
    }

    /// The uid and gid extents (first id, count) the container's own
    /// user namespace maps to themselves: the run's (rootless), else
    /// every id of the host.
    pub fn user_map(&self) -> Option<super::namespaces::Extents> {
        match (&self.run_user_ns, &self.binfmt) {
            (Some(run), _) => Some((run.uids.clone(), run.gids.clone())),
            (None, Some(_)) => Some((vec![(0, u32::MAX)], vec![(0, u32::MAX)])),
            (None, None) => None,
        }
    }
}

/// An emulator to register in the container's own binfmt_misc instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binfmt {
    /// The entry's name, e.g. `qemu-aarch64`: inside the container it is
    /// `/proc/sys/fs/binfmt_misc/<name>`.
    pub name: String,
    /// The line written to `register`: magic, mask, the emulator's host
    /// path and flags (`F`: opened at registration, before `pivot_root`).
    pub registration: String,
}

/// A request from the harness to the container's pid 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Request {
    /// Run a program; one blob follows: its standard input.
    Run(RunRequest),
    /// Create or replace a file; one blob follows: its content.
    WriteFile {
        /// Absolute path inside the container.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// How full the writable layer and `/tmp` are.
    Usage,
    /// Everything the case changed: the overlay's upper layer and `/tmp`.
    Snapshot,
    /// The processes running in the container, pid 1 aside.
    Processes,
    /// Describe a path (and read it when it is a regular file).
    Inspect {
        /// Absolute path inside the container.
        path: String,
        /// Read at most this many bytes of content.
        read_limit: u64,
    },
}

/// How to run one program inside the container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRequest {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// The complete environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: String,
    /// Kill the program's process group after this many milliseconds.
    pub timeout_ms: u64,
    /// Use the three descriptors sent with this frame as stdio instead of
    /// capturing output (an interactive shell).
    pub interactive: bool,
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// The timeout ran out and the harness killed it.
    TimedOut,
}

/// The kind of a filesystem object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed).
    Symlink,
    /// Anything else: device, fifo, socket.
    Other,
}

/// What `Inspect` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    /// Its kind.
    pub kind: NodeKind,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Size in bytes.
    pub size: u64,
    /// Target of a symbolic link.
    pub link: Option<String>,
}

/// An answer from the container's pid 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Reply {
    /// The helper has joined its cgroups and waits for its [`Setup`].
    Warm,
    /// The container is built and waits for requests.
    Ready,
    /// The program ended; two blobs follow: stdout and stderr.
    Ran {
        /// How it ended.
        status: ExitStatus,
        /// Wall-clock time inside the container.
        micros: u64,
    },
    /// The file was written.
    Written,
    /// The path does not exist (`None`) or is described; a content blob
    /// follows for regular files.
    Inspected(Option<Node>),
    /// Space used and available.
    Usage(Usage),
    /// The changed paths.
    Snapshot(Vec<FsEntry>),
    /// Pid and command line of each process.
    Processes(Vec<(u32, String)>),
    /// The request failed; the text says why.
    Failed(String),
}

/// What a changed path is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FsState {
    /// Deleted from the image (an overlay whiteout).
    Deleted,
    /// A regular file: permission bits, size and content digest.
    File {
        /// Permission bits.
        mode: u32,
        /// Size in bytes.
        size: u64,
        /// sha256 of the content, hex.
        sha256: String,
    },
    /// A directory and its permission bits.
    Dir {
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link and its target.
    Symlink {
        /// Where it points.
        target: String,
    },
    /// A device, fifo or socket.
    Other {
        /// Type and permission bits (`st_mode`).
        mode: u32,
    },
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsEntry {
    /// Absolute path inside the container.
    pub path: String,
    /// What it is now.
    pub state: FsState,
}

/// Space in the container's two size-limited filesystems, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Writable layer (overlayfs reports its upper layer's tmpfs).
    pub layer_used: u64,
    /// Writable layer size.
    pub layer_total: u64,
    /// `/tmp` used.
    pub tmp_used: u64,
    /// `/tmp` size.
    pub tmp_total: u64,
}

impl Usage {
    /// Names of the filesystems that are (nearly: under 64 KiB left) full.
    pub fn full(&self) -> Vec<String> {
        let near = |used: u64, total: u64| total > 0 && total.saturating_sub(used) < 64 * 1024;
        let mut full = Vec::new();
        if near(self.layer_used, self.layer_total) {
            full.push(format!(
                "writable layer full: all {} MiB used (limits.layer)",
                self.layer_total >> 20
            ));
        }
        if near(self.tmp_used, self.tmp_total) {
            full.push(format!(
                "/tmp full: all {} MiB used (limits.tmp)",
                self.tmp_total >> 20
            ));
        }
        full
    }
}

/// Write one frame: a header and its blobs.
pub fn send<T: Serialize>(out: &mut impl Write, header: &T, blobs: &[&[u8]]) -> io::Result<()> {
    let json = serde_json::to_vec(header).map_err(io::Error::other)?;
    let mut buf =
        Vec::with_capacity(json.len() + 8 + blobs.iter().map(|b| b.len() + 4).sum::<usize>());
    put_part(&mut buf, &json)?;
    buf.extend_from_slice(&(blobs.len() as u32).to_le_bytes());
    for blob in blobs {
        put_part(&mut buf, blob)?;
    }
    out.write_all(&buf)
}

fn put_part(buf: &mut Vec<u8>, part: &[u8]) -> io::Result<()> {
    let len = u32::try_from(part.len())
        .ok()
        .filter(|n| *n <= MAX_PART)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame part too large"))?;
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(part);
    Ok(())
}

/// Read one frame. `Ok(None)` means the other side closed the socket.
pub fn receive<T: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
) -> io::Result<Option<(T, Vec<Vec<u8>>)>> {
    let Some(json) = get_first_part(input)? else {
        return Ok(None);
    };
    let header = serde_json::from_slice(&json).map_err(io::Error::other)?;
    let count = read_u32(input)?;
    let blobs = (0..count)
        .map(|_| get_part(input))
        .collect::<io::Result<_>>()?;
    Ok(Some((header, blobs)))
}

fn get_first_part(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match input.read(&mut len[..1])? {
        0 => return Ok(None),
        _ => input.read_exact(&mut len[1..])?,
    }
    read_body(input, u32::from_le_bytes(len)).map(Some)
}

fn get_part(input: &mut impl Read) -> io::Result<Vec<u8>> {
    let len = read_u32(input)?;
    read_body(input, len)
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    Ok(u32::from_le_bytes(len))
}

fn read_body(input: &mut impl Read, len: u32) -> io::Result<Vec<u8>> {
    if len > MAX_PART {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame part too large",
        ));
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_binary_blobs() {
        let mut wire = Vec::new();
        let reply = Reply::Ran {
            status: ExitStatus::Signal(9),
            micros: 12,
        };
        send(&mut wire, &reply, &[b"out\0\xff", b""]).unwrap();
        send(&mut wire, &Reply::Ready, &[]).unwrap();
        let mut input = wire.as_slice();
        let (first, blobs): (Reply, _) = receive(&mut input).unwrap().unwrap();
        assert!(matches!(
            first,
            Reply::Ran {
                status: ExitStatus::Signal(9),
                micros: 12
            }
        ));
        assert_eq!(blobs, vec![b"out\0\xff".to_vec(), Vec::new()]);
        let (second, blobs): (Reply, _) = receive(&mut input).unwrap().unwrap();
        assert!(matches!(second, Reply::Ready) && blobs.is_empty());
        assert!(receive::<Reply>(&mut input).unwrap().is_none());
    }

    #[test]
    fn a_truncated_frame_is_an_error_not_a_hang() {
        let mut wire = Vec::new();
        send(&mut wire, &Reply::Written, &[b"abc"]).unwrap();
        wire.truncate(wire.len() - 1);
        assert!(receive::<Reply>(&mut wire.as_slice()).is_err());
    }

    #[test]
    fn an_oversized_length_is_refused() {
        let wire = (MAX_PART + 1).to_le_bytes();
        assert!(receive::<Reply>(&mut wire.as_slice()).is_err());
    }
}

//! The veth pairs between the hub and the cases, made with rtnetlink.
//!
//! A pair is created in the hub's namespace; its case end is moved into
//! the case's namespace by process id, renamed `eth0`, given its address
//! and brought up there. The case end is configured from a short-lived
//! thread of the hub that enters the case's network namespace, so no
//! netlink request ever leaves the hub's or the case's namespace.

use futures_util::stream::TryStreamExt;
use rtnetlink::{new_connection, Handle, LinkUnspec, LinkVeth};
use std::future::Future;
use std::net::IpAddr;

use crate::network::addresses::LinkAddresses;

/// The case end's name once inside the case.
/// Not `eth0`: a booted case's netifd manages the image's own interface
/// names (`eth0` is in the lan bridge) and would take the link over.
pub const CASE_IFNAME: &str = "hub0";

/// The hub end's name of link `number`.
fn hub_name(number: u32) -> String {
    format!("wrh{number}")
}

/// The case end's name of link `number` while still in the hub.
fn peer_name(number: u32) -> String {
    format!("wrc{number}")
}

/// Link the network namespace of process `pid` to the hub as link `number`.
pub fn attach(pid: u32, number: u32, addrs: LinkAddresses) -> Result<(), String> {
    block_on(hub_side(pid, number, addrs))?;
    let configured = in_namespace_of(pid, move || block_on(case_side(number, addrs)));
    if configured.is_err() {
        let _ = remove(number);
    }
    configured
}

/// Remove link `number` (both ends); a link already gone is no error.
pub fn remove(number: u32) -> Result<(), String> {
    block_on(async move {
        let handle = connect()?;
        let Some(index) = index_of(&handle, &hub_name(number)).await? else {
            return Ok(());
        };
        handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(|e| format!("failed to delete link {}: {e}", hub_name(number)))
    })
}

async fn hub_side(pid: u32, number: u32, addrs: LinkAddresses) -> Result<(), String> {
    let handle = connect()?;
    let (hub, peer) = (hub_name(number), peer_name(number));
    handle
        .link()
        .add(LinkVeth::new(&hub, &peer).build())
        .execute()
        .await
        .map_err(|e| format!("failed to create veth pair {hub}/{peer}: {e}"))?;
    let peer_index = must_index(&handle, &peer).await?;
    set(
        &handle,
        LinkUnspec::new_with_index(peer_index).setns_by_pid(pid),
    )
    .await
    .map_err(|e| format!("failed to move {peer} into the namespace of process {pid}: {e}"))?;
    let hub_index = must_index(&handle, &hub).await?;
    add_address(&handle, hub_index, &hub, addrs.hub.into(), addrs.prefix).await?;
    set(&handle, LinkUnspec::new_with_index(hub_index).up())
        .await
        .map_err(|e| format!("failed to bring {hub} up: {e}"))
}

async fn case_side(number: u32, addrs: LinkAddresses) -> Result<(), String> {
    let handle = connect()?;
    let peer = peer_name(number);
    let index = must_index(&handle, &peer).await?;
    set(
        &handle,
        LinkUnspec::new_with_index(index).name(CASE_IFNAME.to_string()),
    )
    .await
    .map_err(|e| format!("failed to rename {peer} to {CASE_IFNAME}: {e}"))?;
    add_address(&handle, index, CASE_IFNAME, addrs.case.into(), addrs.prefix).await?;
    set(&handle, LinkUnspec::new_with_index(index).up())
        .await
        .map_err(|e| format!("failed to bring {CASE_IFNAME} up: {e}"))
}

fn connect() -> Result<Handle, String> {
    let (connection, handle, _) =
        new_connection().map_err(|e| format!("failed to open a netlink socket: {e}"))?;
    tokio::spawn(connection);
    Ok(handle)
}

async fn set(
    handle: &Handle,
    builder: rtnetlink::LinkMessageBuilder<LinkUnspec>,
) -> Result<(), rtnetlink::Error> {
    handle.link().set(builder.build()).execute().await
}

async fn add_address(
    handle: &Handle,
    index: u32,
    name: &str,
    address: IpAddr,
    prefix: u8,
) -> Result<(), String> {
    handle
        .address()
        .add(index, address, prefix)
        .execute()
        .await
        .map_err(|e| format!("failed to add {address}/{prefix} to {name}: {e}"))
}

async fn index_of(handle: &Handle, name: &str) -> Result<Option<u32>, String> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(link) => Ok(link.map(|l| l.header.index)),
        // The kernel answers ENODEV for a name it does not know.
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(format!("failed to look up link {name}: {e}")),
    }
}

async fn must_index(handle: &Handle, name: &str) -> Result<u32, String> {
    index_of(handle, name)
        .await?
        .ok_or_else(|| format!("link {name} disappeared"))
}

/// Run `future` on a runtime of this thread alone.
fn block_on<F: Future<Output = Result<(), String>>>(future: F) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("failed to start a netlink runtime: {e}"))?;
    runtime.block_on(future)
}

/// Run `work` on a thread that first enters the network namespace of
/// process `pid`. Only that thread changes namespace, and it ends with the
/// work.
fn in_namespace_of<F>(pid: u32, work: F) -> Result<(), String>
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    let path = format!("/proc/{pid}/ns/net");
    let namespace =
        std::fs::File::open(&path).map_err(|e| format!("failed to open {path}: {e}"))?;
    let worker = std::thread::spawn(move || {
        nix::sched::setns(&namespace, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("failed to enter the network namespace {path}: {e}"))?;
        work()
    });
    worker
        .join()
        .unwrap_or_else(|_| Err("the link thread panicked".into()))
}

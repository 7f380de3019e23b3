//! Networks beyond loopback: a case's veth link to the run's hub.
//!
//! The hub (module `hub`) is a separate, freshly executed process in its own
//! network namespace; each case that asks for a network gets a veth pair
//! between its namespace and the hub's, with a /30 of the run's private
//! range ([`addresses`]). Test code reaches the case's ports through the
//! hub ([`Link::http`], [`Link::tcp`], [`Link::dns`]), and the hub serves
//! feeds to the case over HTTP ([`Link::serve`]). Nothing is added to the
//! host's network namespace.

pub mod addresses;
mod client;
pub(crate) mod hub;
pub mod protocol;

pub use client::{shutdown, Link, NetworkError};
pub use hub::HUB_ARG;
pub use protocol::LinkInfo;

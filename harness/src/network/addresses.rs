//! The addresses of a run's case links.
//!
//! Each run's hub owns one private /16 (`10.N.0.0/16`, N from the run's
//! process id), which exists only inside the hub's network namespace. Each
//! case link is a /30 of it: the hub side gets the first host address, the
//! case the second, so parallel cases never share a subnet and cannot reach
//! each other (the hub does not forward).

use std::net::Ipv4Addr;

/// How many /30 links fit in a /16.
pub const MAX_LINKS: u32 = 1 << 14;

/// The addresses of one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkAddresses {
    /// The hub's side.
    pub hub: Ipv4Addr,
    /// The case's side.
    pub case: Ipv4Addr,
    /// The prefix length of both (30).
    pub prefix: u8,
}

/// The /16 of the run with process id `pid`: `10.N.0.0`, N in 64..=191.
pub fn run_network(pid: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 64 + (pid % 128) as u8, 0, 0)
}

/// The addresses of link number `index` (below [`MAX_LINKS`]) in `network`.
pub fn link(network: Ipv4Addr, index: u32) -> LinkAddresses {
    let base = u32::from(network) + (index % MAX_LINKS) * 4;
    LinkAddresses {
        hub: Ipv4Addr::from(base + 1),
        case: Ipv4Addr::from(base + 2),
        prefix: 30,
    }
}

/// Hands out link numbers, lowest free first.
#[derive(Debug, Default)]
pub struct Numbers {
    used: std::collections::BTreeSet<u32>,
}

impl Numbers {
    /// The lowest free number, now taken; `None` when all are taken.
    pub fn take(&mut self) -> Option<u32> {
        let free = (0..MAX_LINKS).find(|n| !self.used.contains(n))?;
        self.used.insert(free);
        Some(free)
    }

    /// Give `number` back.
    pub fn give_back(&mut self, number: u32) {
        self.used.remove(&number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_disjoint_slash_30s() {
        let net = run_network(1234);
        assert_eq!(net, Ipv4Addr::new(10, 64 + (1234 % 128) as u8, 0, 0));
        let first = link(net, 0);
        assert_eq!(first.hub.octets()[2..], [0, 1]);
        assert_eq!(first.case.octets()[2..], [0, 2]);
        let far = link(net, 64);
        assert_eq!(far.hub.octets()[2..], [1, 1]);
        let last = link(net, MAX_LINKS - 1);
        assert_eq!(last.case.octets()[2..], [255, 254]);
        assert_eq!(last.hub.octets()[..2], net.octets()[..2]);
    }

    #[test]
    fn numbers_are_reused_lowest_first() {
        let mut n = Numbers::default();
        assert_eq!((n.take(), n.take(), n.take()), (Some(0), Some(1), Some(2)));
        n.give_back(1);
        assert_eq!(n.take(), Some(1));
        assert_eq!(n.take(), Some(3));
    }
}

//! Splitting one suite run over several CI jobs, as nextest does:
//! `count:K/N` deals the cases out in turn, `hash:K/N` by a hash of each
//! case's name (stable when cases are added). Every case lands in exactly
//! one of the N shares.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

use super::plan::CaseRun;

/// Which share of the cases this job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// By turn (`count`) or by name hash (`hash`).
    pub by_hash: bool,
    /// This job's share, 1-based.
    pub share: u64,
    /// How many shares.
    pub shares: u64,
}

impl Partition {
    /// Keep this share of `runs` (in their planned order).
    pub fn select(&self, runs: Vec<CaseRun>) -> Vec<CaseRun> {
        runs.into_iter()
            .enumerate()
            .filter(|(i, run)| self.holds(*i as u64, &run.name))
            .map(|(_, run)| run)
            .collect()
    }

    /// Whether the case at `index` named `name` is in this share.
    pub fn holds(&self, index: u64, name: &str) -> bool {
        let key = if self.by_hash { name_hash(name) } else { index };
        key % self.shares == self.share - 1
    }
}

fn name_hash(name: &str) -> u64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(text: &str) -> Result<Partition, String> {
        let bad = || {
            format!("invalid partition {text:?}: expected count:K/N or hash:K/N with 1 <= K <= N")
        };
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let (k, n) = rest.split_once('/').ok_or_else(bad)?;
        let (share, shares): (u64, u64) =
            (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        let by_hash = match kind {
            "count" => false,
            "hash" => true,
            _ => return Err(bad()),
        };
        if share == 0 || share > shares {
            return Err(bad());
        }
        Ok(Partition {
            by_hash,
            share,
            shares,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            if self.by_hash { "hash" } else { "count" },
            self.share,
            self.shares
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_lands_in_exactly_one_share() {
        let names: Vec<String> = (0..200).map(|i| format!("suite::case{i}::img")).collect();
        for kind in ["count", "hash"] {
            let parts: Vec<Partition> = (1..=3)
                .map(|k| format!("{kind}:{k}/3").parse().unwrap())
                .collect();
            for (i, name) in names.iter().enumerate() {
                let owners = parts.iter().filter(|p| p.holds(i as u64, name)).count();
                assert_eq!(owners, 1, "{kind}: {name}");
            }
        }
    }

    #[test]
    fn malformed_partitions_are_refused_clearly() {
        for bad in [
            "count:0/2",
            "count:3/2",
            "slice:1/2",
            "hash:1",
            "count:a/b",
            "",
        ] {
            let err = bad.parse::<Partition>().unwrap_err();
            assert!(
                err.contains("expected count:K/N or hash:K/N"),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            "hash:2/4".parse::<Partition>().unwrap().to_string(),
            "hash:2/4"
        );
    }
}

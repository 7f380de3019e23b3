//! The `limits` table of a suite or a case.
//!
//! Owns which keys a `limits` table may hold, building a [`LimitsSpec`]
//! from one, and laying a case's table over its suite's, key by key. The
//! values themselves (sizes, CPU bandwidth, process counts) are read by
//! `values`; applying limits to a container belongs to `container`.

use super::error::SpecError;
use super::fields::{Fields, Spot};
use super::model::LimitsSpec;
use super::values;

/// Every key a `limits` table may hold.
const LIMITS_KEYS: &[&str] = &["pids", "memory", "cpus", "tmp", "layer", "time"];

/// The `limits` table of a suite or case; every limit unset when absent.
pub(crate) fn limits(fields: &Fields<'_>) -> Result<LimitsSpec, SpecError> {
    Ok(fields.opt("limits", table)?.unwrap_or_default())
}

fn table(spot: Spot<'_>) -> Result<LimitsSpec, SpecError> {
    let fields = spot.table("a `limits` table")?;
    fields.deny_unknown(LIMITS_KEYS)?;
    Ok(LimitsSpec {
        pids: fields.opt("pids", values::pids)?,
        memory_bytes: fields.opt("memory", values::size)?,
        cpu_millis: fields.opt("cpus", values::cpu_millis)?,
        tmp_bytes: fields.opt("tmp", values::size)?,
        layer_bytes: fields.opt("layer", values::size)?,
        time: fields.opt("time", values::timeout)?,
    })
}

/// The case's limits, each one it leaves unset taken from the suite's.
pub(crate) fn merged(case: LimitsSpec, suite: LimitsSpec) -> LimitsSpec {
    LimitsSpec {
        pids: case.pids.or(suite.pids),
        memory_bytes: case.memory_bytes.or(suite.memory_bytes),
        cpu_millis: case.cpu_millis.or(suite.cpu_millis),
        tmp_bytes: case.tmp_bytes.or(suite.tmp_bytes),
        layer_bytes: case.layer_bytes.or(suite.layer_bytes),
        time: case.time.or(suite.time),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::spec::parse;

    const MIB: u64 = 1 << 20;

    /// The limits of every case of a suite made of `top` (suite keys) and
    /// one case per entry of `cases` (its extra lines).
    fn case_limits(top: &str, cases: &[&str]) -> Result<Vec<LimitsSpec>, String> {
        let mut text = format!("images = [\"x\"]\n{top}\n");
        for (i, extra) in cases.iter().enumerate() {
            text.push_str(&format!(
                "[[case]]\nname = \"c{i}\"\n{extra}\n[[case.step]]\nrun = \"true\"\n"
            ));
        }
        let suite = parse(&text, Path::new("s.toml")).map_err(|e| e.to_string())?;
        Ok(suite.cases.into_iter().map(|c| c.limits).collect())
    }

    fn all_keys() -> LimitsSpec {
        LimitsSpec {
            pids: Some(256),
            memory_bytes: Some(256 * MIB),
            cpu_millis: Some(500),
            tmp_bytes: Some(32 * MIB),
            layer_bytes: Some(128 * MIB),
            time: Some(Duration::from_secs(120)),
        }
    }

    const ALL_KEYS: &str = "pids = 256\nmemory = \"256M\"\ncpus = 0.5\ntmp = \"32M\"\n\
                            layer = 134217728\ntime = 120";

    #[test]
    fn every_key_is_read_at_both_levels() {
        let suite_level = case_limits(&format!("[limits]\n{ALL_KEYS}"), &[""]);
        assert_eq!(suite_level, Ok(vec![all_keys()]));
        let case_level = case_limits("", &[&format!("[case.limits]\n{ALL_KEYS}")]);
        assert_eq!(case_level, Ok(vec![all_keys()]));
    }

    #[test]
    fn no_table_leaves_every_limit_unset() {
        assert_eq!(case_limits("", &[""]), Ok(vec![LimitsSpec::default()]));
        let empty = case_limits("limits = {}", &["limits = {}"]);
        assert_eq!(empty, Ok(vec![LimitsSpec::default()]));
    }

    #[test]
    fn a_case_overrides_only_the_keys_it_sets() {
        let top = format!("[limits]\n{ALL_KEYS}");
        let cases = [
            "limits.pids = 64",
            "limits = { memory = \"1G\", time = 0.5 }",
            "limits = { cpus = 2, tmp = \"1M\", layer = \"2G\" }",
            "",
        ];
        let got = case_limits(&top, &cases).unwrap_or_default();
        let expected = [
            LimitsSpec {
                pids: Some(64),
                ..all_keys()
            },
            LimitsSpec {
                memory_bytes: Some(1024 * MIB),
                time: Some(Duration::from_millis(500)),
                ..all_keys()
            },
            LimitsSpec {
                cpu_millis: Some(2000),
                tmp_bytes: Some(MIB),
                layer_bytes: Some(2048 * MIB),
                ..all_keys()
            },
            all_keys(),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn merging_keeps_the_case_and_fills_in_from_the_suite() {
        let case = LimitsSpec {
            pids: Some(1),
            ..LimitsSpec::default()
        };
        let merged = merged(case, all_keys());
        assert_eq!(merged.pids, Some(1));
        assert_eq!(merged.memory_bytes, all_keys().memory_bytes);
        assert_eq!(super::merged(case, LimitsSpec::default()), case);
    }

    #[test]
    fn errors_point_at_the_key_or_value() {
        let err = case_limits("[limits]\npids = 1\nmemroy = \"1G\"", &[""]).unwrap_err();
        assert!(
            err.starts_with("s.toml:4:1: unknown key `memroy` in a `limits` table; allowed keys"),
            "{err}"
        );
        let err = case_limits("", &["limits = 5"]).unwrap_err();
        assert_eq!(
            err,
            "s.toml:5:10: expected a table for `limits`, found an integer"
        );
        let err = case_limits("", &["[case.limits]\ntime = 0"]).unwrap_err();
        assert_eq!(
            err,
            "s.toml:6:8: `time` must be greater than 0 seconds, found 0"
        );
    }
}

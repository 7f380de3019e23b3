//! The `needs` list of a case: what the case requires of where it runs.
//!
//! Owns which items may be listed (`procd`, `network`, `opkg`, `apk`,
//! `arch:NAME`) and
//! that none is listed twice. Items are kept as written; deciding whether
//! an image or the host provides them belongs to the runner.

use super::error::{Located, SpecError};
use super::fields::Spot;
use super::values::{self, NAME_RULE};

/// The items `needs` accepts besides `arch:NAME`.
const PLAIN: &[&str] = &["procd", "network", "opkg", "apk"];

/// The prefix of an architecture item.
const ARCH: &str = "arch:";

/// Every form an item may take, for messages.
const FORMS: &str = "\"procd\", \"network\", \"opkg\", \"apk\" or \"arch:NAME\", where NAME \
                     is a package architecture such as \"x86_64\", \"mips_24kc\" or \"all\"";

/// The case's needs, in file order; may be empty.
pub(crate) fn needs(spot: Spot<'_>) -> Result<Vec<Located<String>>, SpecError> {
    let mut needs: Vec<Located<String>> = Vec::new();
    for item in spot.items()? {
        let need = need(&item)?;
        if let Some(first) = needs.iter().find(|n| n.value == need.value) {
            return Err(item.error(format!(
                "duplicate need {:?} in `{}`; it is already listed at {}",
                need.value, item.key, first.location
            )));
        }
        needs.push(need);
    }
    Ok(needs)
}

fn need(spot: &Spot<'_>) -> Result<Located<String>, SpecError> {
    let s = spot.str()?;
    if PLAIN.contains(&s) {
        return Ok(spot.located(s.to_string()));
    }
    match s.strip_prefix(ARCH) {
        Some(arch) if values::is_name(arch) => Ok(spot.located(s.to_string())),
        Some(arch) => Err(spot.error(format!(
            "invalid architecture {arch:?} in {s:?}: {NAME_RULE}, as in \"arch:x86_64\""
        ))),
        None => Err(spot.error(format!("unknown need {s:?}; expected {FORMS}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::parse;

    /// The needs of a one-case suite whose case has `needs = value_text`
    /// on line 4, as (text, column) pairs.
    fn needs_of(value_text: &str) -> Result<Vec<(String, usize)>, String> {
        let text = format!(
            "images = [\"x\"]\n[[case]]\nname = \"c\"\nneeds = {value_text}\n\
             [[case.step]]\nrun = \"true\"\n"
        );
        let suite = parse(&text, Path::new("s.toml")).map_err(|e| e.to_string())?;
        let needs = suite.cases[0].needs.iter();
        Ok(needs.map(|n| (n.value.clone(), n.location.col)).collect())
    }

    #[test]
    fn every_form_is_kept_as_written_with_its_column() {
        let got = needs_of(r#"["procd", "network", "arch:x86_64", "arch:all"]"#);
        let expected = [
            ("procd", 10),
            ("network", 19),
            ("arch:x86_64", 30),
            ("arch:all", 45),
        ];
        let expected = expected.map(|(s, col)| (s.to_string(), col)).to_vec();
        assert_eq!(got, Ok(expected));
        for arch in ["i386_pentium4", "aarch64_generic", "mips_24kc", "arm-v7"] {
            let item = format!("[\"arch:{arch}\"]");
            assert!(needs_of(&item).is_ok(), "{arch}");
        }
        assert_eq!(needs_of("[]"), Ok(vec![]));
    }

    #[test]
    fn unknown_items_list_the_allowed_forms() {
        for unknown in ["systemd", "Procd", "arch", "x86_64", ""] {
            let err = needs_of(&format!("[\"procd\", {unknown:?}]")).unwrap_err();
            let expected = format!(
                "s.toml:4:19: unknown need {unknown:?}; expected \"procd\", \"network\", \
                 \"opkg\", \"apk\" or \"arch:NAME\""
            );
            assert!(err.starts_with(&expected), "{unknown}: {err}");
        }
    }

    #[test]
    fn architectures_must_be_names() {
        for bad in ["", "x86 64", "mips.24kc", "all/"] {
            let err = needs_of(&format!("[\"arch:{bad}\"]")).unwrap_err();
            let expected = format!("s.toml:4:10: invalid architecture {bad:?} in \"arch:{bad}\"");
            assert!(err.starts_with(&expected), "{bad}: {err}");
        }
    }

    #[test]
    fn duplicates_point_at_the_second_and_name_the_first() {
        let err = needs_of(r#"["network", "arch:all", "network"]"#).unwrap_err();
        assert_eq!(
            err,
            "s.toml:4:33: duplicate need \"network\" in `needs`; it is already listed at \
             s.toml:4:10"
        );
    }

    #[test]
    fn wrong_types_are_rejected() {
        let err = needs_of("\"procd\"").unwrap_err();
        assert_eq!(
            err,
            "s.toml:4:9: expected an array for `needs`, found a string"
        );
        let err = needs_of("[true]").unwrap_err();
        assert_eq!(
            err,
            "s.toml:4:10: expected a string for `needs`, found a boolean"
        );
    }
}

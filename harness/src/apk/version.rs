//! Package versions as apk-tools 3 accepts them, and the conversion of an
//! OpenWrt (opkg) version to one.
//!
//! apk's grammar: numbers separated by dots, an optional letter, any number
//! of `_suffix[N]` (alpha, beta, pre, rc, cvs, svn, git, hg, p), an
//! optional `~hash` (hex) and an optional `-rN` release. `1.0-1` is not
//! valid; OpenWrt writes it `1.0-r1` for apk.

const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];

/// True when apk-tools would accept `version`.
pub fn is_valid(version: &str) -> bool {
    let mut rest = version;
    if !take_numbers(&mut rest) {
        return false;
    }
    if rest.starts_with(|c: char| c.is_ascii_lowercase()) {
        rest = &rest[1..];
    }
    while let Some(after) = rest.strip_prefix('_') {
        let Some(suffix) = SUFFIXES.iter().find(|s| after.starts_with(**s)) else {
            return false;
        };
        rest = after[suffix.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    if let Some(after) = rest.strip_prefix('~') {
        let hex = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                .len();
        if hex == 0 {
            return false;
        }
        rest = &after[hex..];
    }
    if let Some(after) = rest.strip_prefix("-r") {
        return !after.is_empty() && after.chars().all(|c| c.is_ascii_digit());
    }
    rest.is_empty()
}

/// `1`, `1.2`, `1.2.3`...: at least one number, dot-separated.
fn take_numbers(rest: &mut &str) -> bool {
    loop {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        *rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => *rest = after,
            _ => return true,
        }
    }
}

/// The apk form of an OpenWrt version: a numeric release after the last
/// `-` becomes `-rN` (`1.2.3-1` gives `1.2.3-r1`); a version apk already
/// accepts is kept. `None` when the result would still be invalid.
pub fn from_openwrt(version: &str) -> Option<String> {
    if is_valid(version) {
        return Some(version.to_owned());
    }
    let converted = match version.rsplit_once('-') {
        Some((upstream, release))
            if !release.is_empty() && release.chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{upstream}-r{release}")
        }
        _ => return None,
    };
    is_valid(&converted).then_some(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Both lists as `apk version --check` (apk-tools 3.0.2 of OpenWrt
    // 25.12.0-rc5) judged them.
    #[test]
    fn versions_apk_accepts() {
        for v in [
            "1",
            "1.0",
            "1.2.3-r1",
            "2025.89-r1",
            "1690~482ba7230a",
            "1.0a",
            "3.0_rc2-r5",
            "1.37.0_p1",
            "1.0_rc",
            "1.0_git20200101",
            "1.0~abc-r1",
        ] {
            assert!(is_valid(v), "{v}");
        }
    }

    #[test]
    fn versions_apk_refuses() {
        for v in [
            "",
            "1.0-1",
            "1.0-r",
            "a1",
            "1..2",
            "1.0_foo",
            "1.0-rc1",
            "1.0~",
            "1.0 ",
            "1.0-x1",
            "1.0ab",
            "1.0-r1-r2",
        ] {
            assert!(!is_valid(v), "{v}");
        }
    }

    #[test]
    fn openwrt_releases_become_r_releases() {
        assert_eq!(from_openwrt("1.2.3-1").as_deref(), Some("1.2.3-r1"));
        assert_eq!(from_openwrt("2.0-r4").as_deref(), Some("2.0-r4"));
        assert_eq!(from_openwrt("0.1-1").as_deref(), Some("0.1-r1"));
        assert_eq!(from_openwrt("2019.78-2").as_deref(), Some("2019.78-r2"));
        assert_eq!(from_openwrt("1.0-beta"), None);
        assert_eq!(from_openwrt("v1-1"), None);
    }
}

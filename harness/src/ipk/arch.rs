//! Whether a package's architecture suits an image.
//!
//! Mirrors opkg's rule for the common case of one native architecture per
//! image; the image's full `arch` priority list is not consulted here.

/// True when a package built for `pkg_arch` can install on an image whose opkg arch is `image_arch` ("all" and "noarch" always can).
pub fn arch_compatible(pkg_arch: &str, image_arch: &str) -> bool {
    let pkg = pkg_arch.trim();
    if pkg.eq_ignore_ascii_case("all") || pkg.eq_ignore_ascii_case("noarch") {
        return true;
    }
    !pkg.is_empty() && pkg == image_arch.trim()
}

#[cfg(test)]
mod tests {
    use super::arch_compatible;

    #[test]
    fn native_and_neutral_architectures() {
        assert!(arch_compatible("x86_64", "x86_64"));
        assert!(arch_compatible("all", "mips_24kc"));
        assert!(arch_compatible("noarch", "x86_64"));
        assert!(arch_compatible("ALL", "x86_64"));
    }

    #[test]
    fn foreign_or_empty_architectures() {
        assert!(!arch_compatible("mips_24kc", "x86_64"));
        assert!(!arch_compatible("x86_64", "i386_pentium4"));
        assert!(!arch_compatible("", ""));
        assert!(!arch_compatible("arm_cortex-a7", "arm_cortex-a9"));
    }
}

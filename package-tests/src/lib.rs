//! Bundled suites live in `suites/`.

//! The `feed_options` table of a suite or case: how the feed reaches the
//! case (`transport = "file"` or `"http"`), whether its index is signed
//! (`signing = "none"`, `"usign"` or `"usign-wrong-key"`), and whether
//! `opkg update` runs when it is published (`update`, default true). A
//! case's keys override the suite's, one by one.

use super::error::SpecError;
use super::fields::{Fields, Spot};
use crate::feed::{FeedOptions, Signing, Transport};

const KEYS: &[&str] = &["transport", "signing", "update"];

/// The keys one table sets; `None` where it says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FeedOptionsSpec {
    transport: Option<Transport>,
    signing: Option<Signing>,
    update: Option<bool>,
}

impl FeedOptionsSpec {
    /// These keys over `base`'s.
    pub(crate) fn over(self, base: FeedOptionsSpec) -> FeedOptionsSpec {
        FeedOptionsSpec {
            transport: self.transport.or(base.transport),
            signing: self.signing.or(base.signing),
            update: self.update.or(base.update),
        }
    }

    /// With the harness defaults where nothing was said.
    pub(crate) fn resolve(self) -> FeedOptions {
        FeedOptions {
            transport: self.transport.unwrap_or_default(),
            signing: self.signing.unwrap_or_default(),
            no_update: !self.update.unwrap_or(true),
        }
    }
}

/// The `feed_options` table of `fields`, if it has one.
pub(crate) fn feed_options(fields: &Fields<'_>) -> Result<FeedOptionsSpec, SpecError> {
    let Some(spot) = fields.get("feed_options") else {
        return Ok(FeedOptionsSpec::default());
    };
    let table = spot.table("`feed_options`")?;
    table.deny_unknown(KEYS)?;
    Ok(FeedOptionsSpec {
        transport: table.opt("transport", transport)?,
        signing: table.opt("signing", signing)?,
        update: table.opt("update", |s| s.bool())?,
    })
}

fn transport(spot: Spot<'_>) -> Result<Transport, SpecError> {
    match spot.str()? {
        "file" => Ok(Transport::File),
        "http" => Ok(Transport::Http),
        other => Err(spot.error(format!(
            "invalid `transport` {other:?}: expected \"file\" or \"http\""
        ))),
    }
}

fn signing(spot: Spot<'_>) -> Result<Signing, SpecError> {
    match spot.str()? {
        "none" => Ok(Signing::None),
        "usign" => Ok(Signing::Usign),
        "usign-wrong-key" => Ok(Signing::UsignWrongKey),
        other => Err(spot.error(format!(
            "invalid `signing` {other:?}: expected \"none\", \"usign\" or \"usign-wrong-key\""
        ))),
    }
}

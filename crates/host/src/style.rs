//! Script styles: which provider's calling convention a script follows.

use std::fmt;
use std::str::FromStr;

use crate::bindings::claimscript::script::types::Style as WitStyle;

/// A script's calling convention. Detected from the source when compiling,
/// unless [`CompileOptions::style`](crate::CompileOptions::style) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Style {
    /// Logto: `getCustomJwtClaims({ token, context, environmentVariables, api })`
    /// returns access-token claims. The default.
    #[default]
    Logto,
    /// Auth0 Actions: `exports.onExecutePostLogin(event, api)` and
    /// `exports.onExecuteCredentialsExchange(event, api)`.
    Auth0,
    /// LoginRadius Identity Orchestration: `exports.execute(lrObject, hook)`.
    LoginRadius,
}

impl Style {
    /// Every style.
    pub const ALL: [Style; 3] = [Style::Logto, Style::Auth0, Style::LoginRadius];

    /// `logto`, `auth0` or `loginradius`.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Logto => "logto",
            Style::Auth0 => "auth0",
            Style::LoginRadius => "loginradius",
        }
    }

    pub(crate) fn to_wit(self) -> WitStyle {
        match self {
            Style::Logto => WitStyle::Logto,
            Style::Auth0 => WitStyle::Auth0,
            Style::LoginRadius => WitStyle::Loginradius,
        }
    }

    pub(crate) fn from_wit(style: WitStyle) -> Style {
        match style {
            WitStyle::Logto => Style::Logto,
            WitStyle::Auth0 => Style::Auth0,
            WitStyle::Loginradius => Style::LoginRadius,
        }
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Style {
    type Err = String;

    fn from_str(s: &str) -> Result<Style, String> {
        Style::ALL
            .into_iter()
            .find(|style| style.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown style `{s}` (expected logto, auth0 or loginradius)"))
    }
}

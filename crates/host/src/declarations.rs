//! TypeScript declarations of what a claims script can use, for editors and
//! `tsc --checkJs`.
//!
//! [`declarations`] returns one global declaration file for a [`Style`]: the
//! globals every script has (the web platform APIs, `console`, axios, the
//! limits in a header comment) followed by the style's entry point and input
//! (`crates/host/types/`). It declares exactly what the runtime implements,
//! so a misspelt property or an API the sandbox lacks is a type error before
//! the script is ever run. The CLI prints it with `claimscript types`.

use crate::Style;

const GLOBALS: &str = include_str!("../types/globals.d.ts");
const LOGTO: &str = include_str!("../types/logto.d.ts");
const AUTH0: &str = include_str!("../types/auth0.d.ts");
const LOGINRADIUS: &str = include_str!("../types/loginradius.d.ts");

/// The TypeScript declarations for scripts of `style`, as one global
/// declaration file (no imports or exports): save it beside the script, for
/// example as `claimscript.d.ts`, and name both in a `jsconfig.json` with
/// `checkJs` (the file's header shows one).
///
/// ```
/// let logto = claimscript::declarations(claimscript::Style::Logto);
/// assert!(logto.contains("type GetCustomJwtClaims"));
/// assert!(logto.contains("declare function fetch"));
/// ```
pub fn declarations(style: Style) -> String {
    let for_style = match style {
        Style::Logto => LOGTO,
        Style::Auth0 => AUTH0,
        Style::LoginRadius => LOGINRADIUS,
    };
    format!("{GLOBALS}\n{for_style}")
}

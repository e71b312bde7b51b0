//! `claimscript types`: the TypeScript declarations for a style's scripts.

use claimscript::Style;

use crate::common::{EXIT_CLAIMS, Failure, Globals};

/// The arguments of `types`.
#[derive(clap::Args)]
pub struct Args {
    /// logto, auth0 or loginradius.
    #[arg(long, default_value = "logto")]
    pub style: Style,
}

/// Print the declarations as one .d.ts file.
pub fn run(args: Args, _globals: &Globals) -> Result<u8, Failure> {
    print!("{}", claimscript::declarations(args.style));
    Ok(EXIT_CLAIMS)
}

//! Claims from a JSON template instead of a script (LoginRadius's "JWT
//! template mapping"): no Wasm, the same outcome as a run.

use std::time::Instant;

use claimscript_grants::Grants;
use claimscript_template::{Template, TemplateError};

use crate::claims::{is_protected, strip_protected};
use crate::input::RunInput;
use crate::outcome::{ErrorKind, Outcome, RunReport, RunStats, ScopeChanges, ScriptError};
use crate::providers::template_root;

/// A parsed claims template. See [`claimscript_template`] for the syntax;
/// the root it is rendered against is the run's input mapped as for a
/// LoginRadius script (profile fields such as `Email`, `FirstName`,
/// `Country`), plus `token`, `context`, `user`, `application` and
/// `organization`.
#[derive(Debug, Clone)]
pub struct ClaimsTemplate {
    template: Template,
}

impl ClaimsTemplate {
    /// Parse a template; a malformed one is an error naming the line, column
    /// and JSON pointer of the problem.
    pub fn parse(text: &str) -> Result<ClaimsTemplate, TemplateError> {
        Ok(ClaimsTemplate {
            template: Template::parse(text)?,
        })
    }

    /// Render the claims for `input`: the same report a script's run gives
    /// (access-token claims, protected claims dropped, `max_output_bytes`
    /// enforced). Missing paths never fail.
    pub fn run(&self, input: &RunInput, grants: &Grants) -> RunReport {
        let started = Instant::now();
        // Rendering stops at the cap: a template whose placeholders repeat
        // a large value costs no more than max_output_bytes.
        let rendered = self
            .template
            .render_within(&template_root(input), grants.max_output_bytes);
        let size = rendered
            .as_ref()
            .map(|claims| serde_json::to_vec(claims).map_or(usize::MAX, |v| v.len()));
        let outcome = if let Some(mut claims) =
            rendered.filter(|_| size.is_some_and(|size| size <= grants.max_output_bytes))
        {
            let dropped = strip_protected(&mut claims, is_protected);
            Outcome::Claims {
                claims,
                id_token_claims: None,
                dropped,
                id_token_dropped: Vec::new(),
                scopes: ScopeChanges::default(),
            }
        } else {
            let size = match size {
                Some(size) => format!("{size} bytes of JSON"),
                None => "over it (rendering stopped at the cap)".to_string(),
            };
            Outcome::Error(ScriptError::new(
                ErrorKind::OutputTooLarge,
                format!(
                    "the rendered claims are {size}; max_output_bytes is {}",
                    grants.max_output_bytes
                ),
            ))
        };
        RunReport {
            outcome,
            logs: Vec::new(),
            stats: RunStats {
                duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                ..RunStats::default()
            },
        }
    }
}

//! One module per command, each with its arguments (`Args`) and its `run`.
//! `main.rs` only parses the command line and dispatches here.

pub mod audit;
pub mod bench;
pub mod compile;
pub mod issue;
pub mod keys;
pub mod pull;
pub mod push;
pub mod run;
pub mod serve;
pub mod sign;
pub mod template;
pub mod types;
pub mod verify;

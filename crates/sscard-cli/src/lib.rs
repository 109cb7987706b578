//! The parts of the `sscard` command line that other programs and the CLI's own tests use: the
//! JSON documents it prints (`--output-format json`), as typed structures whose JSON Schemas
//! are published in `docs/schema/`.
//!
//! The command line itself is the `sscard` binary of this crate (see `sscard --help` and
//! docs/cli.md).
#![forbid(unsafe_code)]

pub mod documents;

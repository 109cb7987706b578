//! Unit tests of the card OS, command by command, with the status words of part 5 and the
//! profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod areas;
mod auth;
mod binary;
mod blocking;
mod financial;
mod images;
mod pin;
mod protocol;
mod records;
mod select;
mod tearing;

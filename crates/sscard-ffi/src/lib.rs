//! # libsscard
//!
//! The national reader interface of the social security card (《社会保障卡读写终端接口规范》,
//! 2016: `iReadCardBas`, `iReadCard`, `iWriteCard`, `iVerifyPIN`, `iChangePIN`, `iReloadPIN`,
//! `iUnblockPIN`, `iDoDebit`, `iReadDebitRecord` and their `_HSM_Step` variants) as a C library,
//! `libsscard.so` / `libsscard.a` (`sscard.dll` on Windows), so that a terminal written in C,
//! C++, C#, Java, Delphi or Python switches to sscard by swapping one file. The declarations are
//! in the checked-in header `sscard.h` (generated from this crate by cbindgen; a test keeps it
//! equal to the code).
//!
//! - Every function has the specification's exact C signature and calling convention
//!   (`extern "system"`: `__stdcall` on 32-bit Windows, C elsewhere), output format and return
//!   codes (appendix A; card status words negated, e.g. `6A82` → `-27266`).
//! - Two key modes: a PSAM in a second reader for the plain functions, an HSM for the
//!   `_HSM_Step` functions, whose request strings are exactly the specification's.
//! - Configuration without code changes: a file and environment variables (see
//!   `sscard.conf.example` and [`config`]) choose the readers for `iType` 1-4, the PSAM, where
//!   PINs come from (the reader's PIN pad through PC/SC secure PIN entry, a callback registered
//!   with `iSetPinCallback`, or a prompt), the output encoding (GBK or UTF-8) and logging.
//! - Safety at the boundary: see `exports.rs` (the only module with `unsafe` code in sscard;
//!   this crate cannot forbid unsafe code like the others, it denies `unsafe_op_in_unsafe_fn` and
//!   allows `unsafe` in that module only, each block with its safety comment).
//!
//! `docs/reader-interface.md` lists every function with its status and its test, the
//! configuration, and how to swap a vendor library for libsscard.

pub mod codes;
pub mod config;
mod device;
#[allow(unsafe_code)]
pub mod exports;
mod log;
mod ops;
pub mod pin;
pub mod text;

//! The C boundary: every function of the reader interface with its exact signature
//! (读写终端接口规范 2016, tables 1-23), `extern "system"` (the interface's calling convention
//! on Windows, the C one elsewhere), plus `iSetPinCallback`.
//!
//! This is the only module of sscard with `unsafe` code. What it does unsafely, and why that is
//! sound given the interface's contract:
//!
//! - **input strings** (`pCardInfo`, `pFileAddr`, `pWriteData`, `pPayInfo`, `pKey`) are read
//!   byte by byte up to their NUL, never further than the interface's size for the parameter
//!   plus the NUL (a longer or unterminated string is `-14`, not an overread without end). A NULL
//!   pointer is `-14`. The caller guarantees what every C function taking a `char*` string
//!   requires: the pointer is NULL or points to readable memory up to the NUL or that size.
//! - **`pOutInfo`** is written with at most the interface's size for the function (512, 1024,
//!   2048 or 20480 bytes), the NUL included, cut at a character boundary. The caller guarantees
//!   a buffer of that size, as the interface requires. A NULL `pOutInfo` is `-14` and nothing
//!   is written.
//!
//! Nothing else crosses the boundary: no panic (each call runs under `catch_unwind`; a panic
//! is `-99` with a message), no Rust type, no pointer kept after a call except the PIN
//! callback and its user pointer, which are only handed back to the caller's own callback.
//! Calls from several threads are serialized by one lock; a call made from inside the PIN
//! callback (re-entrance) is refused with `-14` instead of deadlocking.
#![allow(non_snake_case)]

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use sscard_core::lifecycle::hsm::PinMaintenance;

use crate::codes::{Failure, BAD_PARAMETER, OK, UNKNOWN};
use crate::config::{Config, LogLevel};
use crate::log;
use crate::ops::{self, State};
use crate::pin::{Registered, SscardPinCallback};

/// The state shared by all calls (the card of an unfinished HSM function, the PIN callback).
static STATE: Mutex<State> = Mutex::new(State::new());

thread_local! {
    /// Whether this thread is inside a call (a PIN callback calling back in).
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
}

/// The interface's sizes of `pOutInfo` (the 长度 column of each function's table).
const OUT_512: usize = 512;
const OUT_1024: usize = 1024;
const OUT_2048: usize = 2048;
const OUT_20K: usize = 1024 * 20;

/// The interface's sizes of the input strings.
const IN_CARD_INFO: usize = 128;
const IN_FILE_ADDR: usize = 1024;
const IN_WRITE_DATA: usize = 1024 * 20;
const IN_PAY_INFO: usize = 512;
const IN_KEY: usize = 128;

/// An input string as the caller passed it.
enum Arg {
    Null,
    Bytes(Vec<u8>),
    Unterminated(usize),
}

impl Arg {
    /// The string decoded in the configured encoding; `None` for NULL.
    fn text(&self, name: &str, config: &Config) -> Result<Option<String>, Failure> {
        match self {
            Arg::Null => Ok(None),
            Arg::Unterminated(cap) => Err(Failure::parameter(format!(
                "{name} is longer than the interface's {cap} characters (or not NUL-terminated)"
            ))),
            Arg::Bytes(bytes) => config.encoding.decode(bytes, name).map(Some),
        }
    }

    /// Like [`Arg::text`], NULL being `-14`.
    fn required(&self, name: &str, config: &Config) -> Result<String, Failure> {
        self.text(name, config)?
            .ok_or_else(|| Failure::parameter(format!("{name} is NULL")))
    }
}

/// Reads the caller's string at `ptr`.
///
/// # Safety
///
/// `ptr` is NULL or points to memory readable up to its NUL terminator or `cap + 1` bytes,
/// whichever comes first.
unsafe fn arg(ptr: *const c_char, cap: usize) -> Arg {
    if ptr.is_null() {
        return Arg::Null;
    }
    let mut bytes = Vec::new();
    for i in 0..=cap {
        // SAFETY: i <= cap and no NUL was found before i: by this function's contract the
        // byte at ptr + i is readable.
        let b = unsafe { *ptr.add(i) } as u8;
        if b == 0 {
            return Arg::Bytes(bytes);
        }
        bytes.push(b);
    }
    Arg::Unterminated(cap)
}

/// Writes `bytes` and a NUL to `out`.
///
/// # Safety
///
/// `out` is not NULL and writable for `bytes.len() + 1` bytes.
unsafe fn write_out(out: *mut c_char, bytes: &[u8]) {
    // SAFETY: by this function's contract `out` has room for the bytes and the NUL; `bytes`
    // is our own buffer, so the two do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), out, bytes.len());
        *out.add(bytes.len()) = 0;
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Runs one interface call: serialized, panics caught, the configuration loaded, the result
/// written to `out` (at most `cap` bytes with the NUL) in the configured encoding, logged.
/// `continues`: the call is step two or three of an HSM function, which goes on with the card
/// step one left powered; any other call first ends an unfinished HSM function, and any failed
/// call ends it too (the card is powered down).
///
/// # Safety
///
/// `out` is NULL or writable for `cap` bytes.
unsafe fn run(
    name: &'static str,
    continues: bool,
    out: *mut c_char,
    cap: usize,
    body: impl FnOnce(&mut State, &Config) -> Result<String, Failure>,
) -> c_long {
    if out.is_null() {
        return c_long::from(BAD_PARAMETER);
    }
    let reentered = IN_CALL.with(|c| c.replace(true));
    let (config, result) = if reentered {
        (
            Config::default(),
            Err(Failure::parameter(format!(
                "{name} was called from inside the PIN callback: finish the callback first"
            ))),
        )
    } else {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
            if !continues {
                // a new function: an HSM function left unfinished ends here
                state.abandon();
            }
            match Config::load() {
                Ok(config) => {
                    let result = body(&mut state, &config);
                    if result.is_err() {
                        // a failed step ends its HSM function (§1.3.3 (7) …)
                        state.abandon();
                    }
                    (config, result)
                }
                Err(f) => {
                    state.abandon();
                    (Config::default(), Err(f))
                }
            }
        }));
        IN_CALL.with(|c| c.set(false));
        outcome.unwrap_or_else(|payload| {
            // whatever the call held is in an unknown state: forget it
            let _ = catch_unwind(|| {
                STATE
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .abandon()
            });
            (
                Config::default(),
                Err(Failure::new(
                    UNKNOWN,
                    format!("internal error in {name}: {}", panic_text(&*payload)),
                )),
            )
        })
    };
    let (mut code, text) = match result {
        Ok(text) => (OK, text),
        Err(f) => (f.code, f.message()),
    };
    let (mut bytes, complete) = config.encoding.encode(&text, cap);
    if code == OK && !complete {
        let f = Failure::parameter(format!(
            "the result ({} characters) does not fit the interface's {cap}-byte pOutInfo",
            text.chars().count()
        ));
        code = f.code;
        bytes = config.encoding.encode(&f.message(), cap).0;
    }
    // SAFETY: `out` is not NULL (checked above) and by this function's contract writable for
    // `cap` bytes; `encode` returned at most `cap - 1` bytes.
    unsafe { write_out(out, &bytes) };
    if code == OK {
        log::log(&config, LogLevel::Info, &format!("{name} -> 0"));
    } else {
        log::log(
            &config,
            LogLevel::Error,
            &format!("{name} -> {code}: {text}"),
        );
    }
    c_long::from(code)
}

/// Runs one interface call: reads its input strings (`(var, pParam, length)`, in the order
/// given), then [`run`]s `body` with each of them decoded and required under its `var` name (a
/// NULL, overlong or undecodable string is `-14`, named after its parameter).
macro_rules! call {
    ($name:expr, $out:expr, $cap:expr, [$(($var:ident, $arg:ident, $arg_cap:expr)),*],
        |$state:ident, $config:ident| $body:expr) => {
        call!(@run false, $name, $out, $cap, [$(($var, $arg, $arg_cap)),*], |$state, $config| $body)
    };
    (@run $continues:expr, $name:expr, $out:expr, $cap:expr,
        [$(($var:ident, $arg:ident, $arg_cap:expr)),*],
        |$state:ident, $config:ident| $body:expr) => {{
        $(
            // SAFETY: by the interface's contract a string parameter is NULL or a NUL-terminated
            // string of at most its table's length, readable up to its NUL.
            let $var = unsafe { arg($arg, $arg_cap) };
        )*
        // SAFETY: pOutInfo is, by the interface's contract (each function's table), NULL or a
        // buffer of $cap bytes.
        unsafe {
            run($name, $continues, $out, $cap, |$state, $config| {
                $(let $var = $var.required(stringify!($arg), $config)?;)*
                $body
            })
        }
    }};
}

/// [`call!`] for step two or three of an HSM function, which goes on with the card the step
/// before left powered.
macro_rules! continue_call {
    ($name:expr, $out:expr, $cap:expr, [$(($var:ident, $arg:ident, $arg_cap:expr)),*],
        |$state:ident, $config:ident| $body:expr) => {
        call!(@run true, $name, $out, $cap, [$(($var, $arg, $arg_cap)),*], |$state, $config| $body)
    };
}

/// `iReadCardBas` 读基本信息 (§1.1, table 1): internal authentication through the PSAM (and
/// external authentication with RKSSSE on 3.0 cards), then `pOutInfo` = 发卡地区行政区划代码|
/// 社会保障号码|卡号|卡识别码|姓名|卡复位信息|规范版本|发卡日期|卡有效期|终端机编号|终端设备号|.
///
/// # Safety
///
/// `pOutInfo` is NULL or a writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCardBas(iType: c_int, pOutInfo: *mut c_char) -> c_long {
    call!("iReadCardBas", pOutInfo, OUT_1024, [], |state, config| {
        ops::read_card_bas(state, config, iType)
    })
}

/// `iReadCardBas_HSM_Step1` 基于加密机的读基本信息（步骤一） (§1.2, table 2): `pOutInfo` =
/// 发卡地区行政区划代码|卡复位信息|算法标识|卡识别码|内部认证过程因子|内部认证原始信息|
/// 外部认证过程因子|外部认证原始信息| (the last two empty for 1.0 and 2.0 cards). The card stays
/// powered for step two.
///
/// # Safety
///
/// `pOutInfo` is NULL or a writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCardBas_HSM_Step1(
    iType: c_int,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iReadCardBas_HSM_Step1",
        pOutInfo,
        OUT_1024,
        [],
        |state, config| ops::read_card_bas_step1(state, config, iType)
    )
}

/// `iReadCardBas_HSM_Step2` 基于加密机的读基本信息（步骤二） (§1.3, table 3): `pKey` =
/// 内部认证结果|外部认证结果| from the HSM; `pOutInfo` as `iReadCardBas`, the terminal number 12
/// zeros without a PSAM.
///
/// # Safety
///
/// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
/// writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCardBas_HSM_Step2(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iReadCardBas_HSM_Step2",
        pOutInfo,
        OUT_1024,
        [(key, pKey, IN_KEY)],
        |state, config| ops::read_card_bas_step2(state, config, &key)
    )
}

/// `iReadCard` 通用读卡 (§2.1, table 4): `pCardInfo` checked against the card, then the files and
/// items of `pFileAddr` with the PIN (configured source) or the PSAM's RK key as each file's read
/// rule and `iAuthType` (1 PIN, 2 RK) say; `pOutInfo` in `pFileAddr`'s shape.
///
/// # Safety
///
/// `pCardInfo` (128) and `pFileAddr` (1024) are NULL or NUL-terminated strings of at most those
/// lengths; `pOutInfo` is NULL or a writable buffer of 20480 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCard(
    iType: c_int,
    iAuthType: c_int,
    pCardInfo: *mut c_char,
    pFileAddr: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iReadCard",
        pOutInfo,
        OUT_20K,
        [(c, pCardInfo, IN_CARD_INFO), (f, pFileAddr, IN_FILE_ADDR)],
        |state, config| ops::read_card(state, config, iType, iAuthType, &c, &f)
    )
}

/// `iReadCard_HSM_Step1` 基于加密机的通用读卡（步骤一） (§2.2, table 5): for the first file of
/// `pFileAddr`, `算法标识|密钥地址|过程因子|原始信息|` for the HSM (the PIN first for a file read
/// with the PIN and a key); `-2204` for a file free to read or read with the PIN (§2.2.3 note).
///
/// # Safety
///
/// As [`iReadCard`], `pOutInfo` of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCard_HSM_Step1(
    iType: c_int,
    pCardInfo: *mut c_char,
    pFileAddr: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iReadCard_HSM_Step1",
        pOutInfo,
        OUT_1024,
        [(c, pCardInfo, IN_CARD_INFO), (f, pFileAddr, IN_FILE_ADDR)],
        |state, config| ops::read_card_hsm_step1(state, config, iType, &c, &f)
    )
}

/// `iReadCard_HSM_Step2` 基于加密机的通用读卡（步骤二） (§2.3, table 6): EXTERNAL AUTHENTICATION
/// with the HSM's answer, then step one's items in `pFileAddr`'s syntax.
///
/// # Safety
///
/// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
/// writable buffer of 20480 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadCard_HSM_Step2(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iReadCard_HSM_Step2",
        pOutInfo,
        OUT_20K,
        [(k, pKey, IN_KEY)],
        |state, config| {
            crate::text::authentication_key(&k)?;
            ops::read_card_hsm_step2(state, &k)
        }
    )
}

/// `iWriteCard` 通用写卡 (§3.1, table 7): `pCardInfo` checked against the card, then `pWriteData`
/// (in `pFileAddr`'s shape) written with each file's update key through the PSAM; every value is
/// checked before the first write.
///
/// # Safety
///
/// `pCardInfo` (128), `pFileAddr` (1024) and `pWriteData` (20480) are NULL or NUL-terminated
/// strings of at most those lengths; `pOutInfo` is NULL or a writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iWriteCard(
    iType: c_int,
    pCardInfo: *mut c_char,
    pFileAddr: *mut c_char,
    pWriteData: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iWriteCard",
        pOutInfo,
        OUT_1024,
        [
            (c, pCardInfo, IN_CARD_INFO),
            (f, pFileAddr, IN_FILE_ADDR),
            (w, pWriteData, IN_WRITE_DATA)
        ],
        |_state, config| ops::write_card(config, iType, &c, &f, &w)
    )
}

/// `iWriteCard_HSM_Step1` 基于加密机的通用写卡（步骤一） (§3.2, table 8): for the first file of
/// `pFileAddr`, writable with a key, `算法标识|密钥地址|过程因子|原始信息|` for the HSM.
///
/// # Safety
///
/// As [`iReadCard_HSM_Step1`].
#[no_mangle]
pub unsafe extern "system" fn iWriteCard_HSM_Step1(
    iType: c_int,
    pCardInfo: *mut c_char,
    pFileAddr: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iWriteCard_HSM_Step1",
        pOutInfo,
        OUT_1024,
        [(c, pCardInfo, IN_CARD_INFO), (f, pFileAddr, IN_FILE_ADDR)],
        |s, config| ops::write_card_hsm_step1(s, config, iType, &c, &f)
    )
}

/// `iWriteCard_HSM_Step2` 基于加密机的通用写卡（步骤二） (§3.3, table 9): `pWriteData` checked,
/// then EXTERNAL AUTHENTICATION with the HSM's answer and the writes.
///
/// # Safety
///
/// `pKey` (128) and `pWriteData` (20480) are NULL or NUL-terminated strings of at most those
/// lengths; `pOutInfo` is NULL or a writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iWriteCard_HSM_Step2(
    pKey: *mut c_char,
    pWriteData: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iWriteCard_HSM_Step2",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY), (w, pWriteData, IN_WRITE_DATA)],
        |s, config| {
            crate::text::authentication_key(&k)?;
            ops::write_card_hsm_step2(s, &k, &w)
        }
    )
}

/// `iVerifyPIN` PIN 校验 (§4.1, table 10): the holder's PIN from the PIN pad or the configured
/// source; `-51` with the tries left in `pOutInfo`, `-52` when blocked.
///
/// # Safety
///
/// `pOutInfo` is NULL or a writable buffer of 512 bytes.
#[no_mangle]
pub unsafe extern "system" fn iVerifyPIN(iType: c_int, pOutInfo: *mut c_char) -> c_long {
    call!("iVerifyPIN", pOutInfo, OUT_512, [], |state, config| {
        ops::verify_pin(state, config, iType)
    })
}

/// `iChangePIN` PIN 修改 (§5.1, table 11): current PIN, new PIN twice.
///
/// # Safety
///
/// `pOutInfo` is NULL or a writable buffer of 512 bytes.
#[no_mangle]
pub unsafe extern "system" fn iChangePIN(iType: c_int, pOutInfo: *mut c_char) -> c_long {
    call!("iChangePIN", pOutInfo, OUT_512, [], |state, config| {
        ops::change_pin(state, config, iType)
    })
}

/// `iReloadPIN` PIN 重置 (§6.1, table 12): the card checked against `pCardInfo`, the new PIN
/// twice, PIN RELOAD with the PSAM's PUK and STKSSSE.
///
/// # Safety
///
/// `pCardInfo` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
/// writable buffer of 512 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReloadPIN(
    iType: c_int,
    pCardInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iReloadPIN",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO)],
        |state, config| ops::maintain_pin(state, config, iType, &c, PinMaintenance::Reload)
    )
}

/// `iReloadPIN_HSM_Step1` (§6.2, table 13): `pOutInfo` = 算法标识|0090|过程因子|原始信息|.
///
/// # Safety
///
/// As [`iReloadPIN`].
#[no_mangle]
pub unsafe extern "system" fn iReloadPIN_HSM_Step1(
    iType: c_int,
    pCardInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iReloadPIN_HSM_Step1",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO)],
        |state, config| ops::pin_step1(state, config, iType, &c, PinMaintenance::Reload)
    )
}

/// `iReloadPIN_HSM_Step2` (§6.3, table 14): `pKey` = the HSM's authentication data ‖ original
/// data; the new PIN twice; `pOutInfo` = 算法标识|0173|过程因子|命令头|新 PIN| for the HSM.
///
/// # Safety
///
/// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
/// writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReloadPIN_HSM_Step2(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iReloadPIN_HSM_Step2",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY)],
        |state, config| ops::pin_step2(state, config, &k, PinMaintenance::Reload)
    )
}

/// `iReloadPIN_HSM_Step3` (§6.4, table 15): `pKey` = command header ‖ enciphered PIN ‖ MAC (34
/// or 50 hex digits).
///
/// # Safety
///
/// As [`iReloadPIN_HSM_Step2`].
#[no_mangle]
pub unsafe extern "system" fn iReloadPIN_HSM_Step3(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iReloadPIN_HSM_Step3",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY)],
        |state, config| ops::pin_step3(state, &k, PinMaintenance::Reload)
    )
}

/// `iUnblockPIN` PIN 解锁 (§7.1, table 16): the card checked against `pCardInfo`, PIN UNBLOCK
/// with the PSAM's PUK and STKSSSE.
///
/// # Safety
///
/// As [`iReloadPIN`].
#[no_mangle]
pub unsafe extern "system" fn iUnblockPIN(
    iType: c_int,
    pCardInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iUnblockPIN",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO)],
        |state, config| ops::maintain_pin(state, config, iType, &c, PinMaintenance::Unblock)
    )
}

/// `iUnblockPIN_HSM_Step1` (§7.2, table 17): `pOutInfo` = 算法标识|0090|过程因子|原始信息|.
///
/// # Safety
///
/// As [`iReloadPIN`].
#[no_mangle]
pub unsafe extern "system" fn iUnblockPIN_HSM_Step1(
    iType: c_int,
    pCardInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iUnblockPIN_HSM_Step1",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO)],
        |state, config| ops::pin_step1(state, config, iType, &c, PinMaintenance::Unblock)
    )
}

/// `iUnblockPIN_HSM_Step2` (§7.3, table 18): `pOutInfo` = 算法标识|0173|过程因子|8424000004||.
///
/// # Safety
///
/// As [`iReloadPIN_HSM_Step2`].
#[no_mangle]
pub unsafe extern "system" fn iUnblockPIN_HSM_Step2(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iUnblockPIN_HSM_Step2",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY)],
        |state, config| ops::pin_step2(state, config, &k, PinMaintenance::Unblock)
    )
}

/// `iUnblockPIN_HSM_Step3` (§7.4, table 19): `pKey` = command header ‖ MAC (18 hex digits).
///
/// # Safety
///
/// As [`iReloadPIN_HSM_Step2`].
#[no_mangle]
pub unsafe extern "system" fn iUnblockPIN_HSM_Step3(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iUnblockPIN_HSM_Step3",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY)],
        |state, config| ops::pin_step3(state, &k, PinMaintenance::Unblock)
    )
}

/// `iDoDebit` 消费交易 (§8.1, table 20): the holder's PIN, the purchase through the PSAM;
/// `pPayInfo` = 本次消费总金额|个人账户交易金额和统筹基金支付金额相加的总金额|交易时间|, `pOutInfo` =
/// 算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|.
///
/// # Safety
///
/// `pCardInfo` (128) and `pPayInfo` (512) are NULL or NUL-terminated strings of at most those
/// lengths; `pOutInfo` is NULL or a writable buffer of 512 bytes.
#[no_mangle]
pub unsafe extern "system" fn iDoDebit(
    iType: c_int,
    pCardInfo: *mut c_char,
    pPayInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iDoDebit",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO), (p, pPayInfo, IN_PAY_INFO)],
        |state, config| ops::do_debit(state, config, iType, &c, &p)
    )
}

/// `iDoDebit_HSM_Step1` (§8.2, table 21): the holder's PIN, INITIALIZE FOR PURCHASE; `pOutInfo`
/// = 算法标识|密钥地址|伪随机数|医疗消费交易序号|交易金额|交易类型|终端机编号|交易时间|. The card stays
/// powered for step two.
///
/// # Safety
///
/// As [`iDoDebit`].
#[no_mangle]
pub unsafe extern "system" fn iDoDebit_HSM_Step1(
    iType: c_int,
    pCardInfo: *mut c_char,
    pPayInfo: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    call!(
        "iDoDebit_HSM_Step1",
        pOutInfo,
        OUT_512,
        [(c, pCardInfo, IN_CARD_INFO), (p, pPayInfo, IN_PAY_INFO)],
        |state, config| ops::debit_step1(state, config, iType, &c, &p)
    )
}

/// `iDoDebit_HSM_Step2` (§8.3, table 22): `pKey` = 终端交易序号|交易时间|MAC1| from the HSM;
/// `pOutInfo` = MAC2|算法标识|密钥地址|交易金额|交易类型|终端机编号|终端交易序号|交易时间|TAC|.
///
/// # Safety
///
/// `pKey` is NULL or a NUL-terminated string of at most 128 bytes; `pOutInfo` is NULL or a
/// writable buffer of 1024 bytes.
#[no_mangle]
pub unsafe extern "system" fn iDoDebit_HSM_Step2(
    pKey: *mut c_char,
    pOutInfo: *mut c_char,
) -> c_long {
    continue_call!(
        "iDoDebit_HSM_Step2",
        pOutInfo,
        OUT_1024,
        [(k, pKey, IN_KEY)],
        |state, config| ops::debit_step2(state, &k)
    )
}

/// `iReadDebitRecord` 读消费交易记录 (§9.1, table 23): the holder's PIN, the card's purchase
/// records `交易序号^终端机编号^交易时间^本次消费总金额^个人账户交易金额和统筹基金支付金额相加的总金额^|`.
///
/// # Safety
///
/// `pOutInfo` is NULL or a writable buffer of 2048 bytes.
#[no_mangle]
pub unsafe extern "system" fn iReadDebitRecord(iType: c_int, pOutInfo: *mut c_char) -> c_long {
    call!(
        "iReadDebitRecord",
        pOutInfo,
        OUT_2048,
        [],
        |state, config| ops::read_debit_record(state, config, iType)
    )
}

/// libsscard's one function beyond the interface: registers the callback that supplies PINs
/// when the reader has no PIN pad (`pin_source = auto` or `callback`), with a pointer handed
/// back to it unchanged. A NULL `callback` removes it. Returns 0, or `-14` when called from
/// inside the callback.
///
/// # Safety
///
/// `callback`, while registered, is a function of the [`SscardPinCallback`] type that can be
/// called from any thread that calls the interface; `pUser` is whatever it expects.
#[no_mangle]
pub unsafe extern "system" fn iSetPinCallback(
    callback: SscardPinCallback,
    pUser: *mut c_void,
) -> c_long {
    if IN_CALL.with(Cell::get) {
        return c_long::from(BAD_PARAMETER);
    }
    let registered = callback.map(|callback| Registered {
        callback,
        user: pUser as usize,
    });
    let result = catch_unwind(AssertUnwindSafe(|| {
        STATE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .callback = registered;
    }));
    match result {
        Ok(()) => c_long::from(OK),
        Err(_) => c_long::from(UNKNOWN),
    }
}

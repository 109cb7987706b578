//! Where PINs come from when the reader's PIN pad does not take them: the callback the host
//! program registered with `iSetPinCallback`, or a prompt without echo on the controlling
//! terminal. PINs live in [`Pin`] (wiped on drop); the callback's buffer is wiped too, and no
//! message ever repeats a PIN.

use std::ffi::{c_char, c_int, c_long, c_void};

use sscard_core::crypto::{Pin, PinError};
use zeroize::Zeroizing;

use crate::codes::{Failure, BAD_DATA, PIN_CANCELLED, PIN_LENGTH, PIN_MISMATCH};
use crate::config::{Config, PinSource, CONFIG_ERROR};

/// The PIN callback a host program registers with `iSetPinCallback`.
///
/// libsscard calls it with what to ask the holder (`iPrompt`: 1 请输入密码, 2 请输入原密码,
/// 3 请输入新密码, 4 请再次输入新密码), a buffer `pPin` of `iPinSize` bytes for the PIN's digits
/// (NUL-terminated) and the `pUser` pointer given at registration. It returns 0 when the holder
/// entered a PIN, or an appendix A code: -31 (the holder cancelled), -32 (timeout). libsscard
/// wipes the buffer afterwards. NULL removes a registered callback.
#[allow(non_snake_case)]
pub type SscardPinCallback = Option<
    extern "system" fn(
        iPrompt: c_int,
        pPin: *mut c_char,
        iPinSize: c_int,
        pUser: *mut c_void,
    ) -> c_long,
>;

/// A registered PIN callback (never NULL).
pub type PinFn = extern "system" fn(c_int, *mut c_char, c_int, *mut c_void) -> c_long;

/// A registered callback and its user pointer (kept as an address: libsscard never
/// dereferences it, it only hands it back).
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    /// The callback.
    pub callback: PinFn,
    /// The `pUser` pointer, as an address.
    pub user: usize,
}

/// What the holder is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// 请输入密码 (`iVerifyPIN`).
    Pin = 1,
    /// 请输入原密码 (`iChangePIN`).
    OldPin = 2,
    /// 请输入新密码 (`iChangePIN`, PIN reload).
    NewPin = 3,
    /// 请再次输入新密码.
    NewPinAgain = 4,
}

impl Prompt {
    /// The words on the terminal.
    pub fn label(self) -> &'static str {
        match self {
            Prompt::Pin => "请输入密码 (PIN): ",
            Prompt::OldPin => "请输入原密码 (current PIN): ",
            Prompt::NewPin => "请输入新密码 (new PIN): ",
            Prompt::NewPinAgain => "请再次输入新密码 (new PIN again): ",
        }
    }
}

/// The longest PIN (16 digits) and its NUL, with room for a careless callback.
const CALLBACK_BUFFER: usize = 64;

fn to_pin(text: &str) -> Result<Pin, Failure> {
    if text.is_empty() {
        return Err(Failure::new(PIN_CANCELLED, "no PIN entered"));
    }
    Pin::new(text).map_err(|e| match e {
        PinError::Length(n) => Failure::new(
            PIN_LENGTH,
            format!("a PIN has 4 to 16 digits, {n} were entered"),
        ),
        _ => Failure::new(BAD_DATA, "a PIN has only the digits 0-9"),
    })
}

fn from_callback(registered: Registered, prompt: Prompt) -> Result<Pin, Failure> {
    let mut buffer = Zeroizing::new(vec![0u8; CALLBACK_BUFFER]);
    let size = c_int::try_from(buffer.len()).unwrap_or(c_int::MAX);
    let answer = (registered.callback)(
        prompt as c_int,
        buffer.as_mut_ptr().cast::<c_char>(),
        size,
        registered.user as *mut c_void,
    );
    if answer != 0 {
        let code = i32::try_from(answer)
            .ok()
            .filter(|c| *c < 0)
            .unwrap_or(PIN_CANCELLED);
        return Err(Failure::new(
            code,
            format!("the PIN callback answered {answer}"),
        ));
    }
    let end = buffer.iter().position(|&b| b == 0).ok_or_else(|| {
        Failure::new(
            PIN_LENGTH,
            format!("the PIN callback wrote no NUL within {CALLBACK_BUFFER} bytes"),
        )
    })?;
    let text = std::str::from_utf8(&buffer[..end])
        .map_err(|_| Failure::new(BAD_DATA, "a PIN has only the digits 0-9"))?;
    to_pin(text)
}

fn from_prompt(prompt: Prompt) -> Result<Pin, Failure> {
    let text = Zeroizing::new(rpassword::prompt_password(prompt.label()).map_err(|e| {
        Failure::new(
            CONFIG_ERROR,
            format!("cannot prompt for the PIN on a terminal ({e}): register a callback with iSetPinCallback (pin_source = callback) or use a PIN pad"),
        )
    })?);
    to_pin(text.trim_end_matches(['\r', '\n']))
}

/// One PIN from the configured source (the PIN pad is handled by the caller, before).
pub fn ask(config: &Config, callback: Option<Registered>, prompt: Prompt) -> Result<Pin, Failure> {
    match (config.pin_source, callback) {
        (PinSource::Auto | PinSource::Callback, Some(cb)) => from_callback(cb, prompt),
        (PinSource::Callback, None) => Err(Failure::new(
            CONFIG_ERROR,
            "pin_source = callback, but the program registered no callback (iSetPinCallback)",
        )),
        (PinSource::Auto | PinSource::Prompt, _) => from_prompt(prompt),
        (PinSource::PinPad, _) => Err(Failure::new(
            CONFIG_ERROR,
            "pin_source = pinpad, but this operation needs the PIN in the terminal (it is enciphered for the card), or the reader has no PIN pad",
        )),
    }
}

/// The new PIN, asked twice: `-34` when the two differ.
pub fn ask_new(config: &Config, callback: Option<Registered>) -> Result<Pin, Failure> {
    let new = ask(config, callback, Prompt::NewPin)?;
    let again = ask(config, callback, Prompt::NewPinAgain)?;
    if !new.ct_eq(&again) {
        return Err(Failure::new(PIN_MISMATCH, "the two new PINs differ"));
    }
    Ok(new)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    extern "system" fn answer_with_prompt_number(
        prompt: c_int,
        pin: *mut c_char,
        size: c_int,
        user: *mut c_void,
    ) -> c_long {
        // the test passes the PINs to answer through pUser: one per prompt number
        let pins = user as *const [&str; 5];
        // SAFETY: the tests below pass a pointer to a live [&str; 5] as pUser
        #[allow(unsafe_code)]
        let text = unsafe { (*pins)[usize::try_from(prompt).unwrap()] };
        if text == "cancel" {
            return -31;
        }
        let bytes = text.as_bytes();
        assert!(bytes.len() < usize::try_from(size).unwrap());
        // SAFETY: `pin` is libsscard's buffer of `size` bytes; we write fewer
        #[allow(unsafe_code)]
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), pin, bytes.len());
            *pin.add(bytes.len()) = 0;
        }
        0
    }

    fn config(source: PinSource) -> Config {
        Config {
            pin_source: source,
            ..Config::default()
        }
    }

    #[test]
    fn the_callback_answers_each_prompt() {
        let pins: [&str; 5] = ["", "123456", "111111", "258036", "258036"];
        let cb = Registered {
            callback: answer_with_prompt_number,
            user: &pins as *const _ as usize,
        };
        let c = config(PinSource::Auto);
        assert_eq!(ask(&c, Some(cb), Prompt::Pin).unwrap().expose(), "123456");
        assert_eq!(
            ask(&c, Some(cb), Prompt::OldPin).unwrap().expose(),
            "111111"
        );
        assert_eq!(ask_new(&c, Some(cb)).unwrap().expose(), "258036");
        let differ: [&str; 5] = ["", "", "", "258036", "258037"];
        let cb2 = Registered {
            user: &differ as *const _ as usize,
            ..cb
        };
        assert_eq!(ask_new(&c, Some(cb2)).unwrap_err().code, -34);
        let odd: [&str; 5] = ["", "12", "12a456", "cancel", ""];
        let cb3 = Registered {
            user: &odd as *const _ as usize,
            ..cb
        };
        assert_eq!(ask(&c, Some(cb3), Prompt::Pin).unwrap_err().code, -33);
        assert_eq!(ask(&c, Some(cb3), Prompt::OldPin).unwrap_err().code, -23);
        assert_eq!(ask(&c, Some(cb3), Prompt::NewPin).unwrap_err().code, -31);
        assert_eq!(
            ask(&c, Some(cb3), Prompt::NewPinAgain).unwrap_err().code,
            -31
        );
        // a message never repeats the PIN
        let e = ask(&c, Some(cb3), Prompt::OldPin).unwrap_err();
        assert!(!e.detail.contains("12a456"));
    }

    #[test]
    fn a_source_that_cannot_serve_is_a_configuration_error() {
        assert_eq!(
            ask(&config(PinSource::Callback), None, Prompt::Pin)
                .unwrap_err()
                .code,
            -5
        );
        assert_eq!(
            ask(&config(PinSource::PinPad), None, Prompt::Pin)
                .unwrap_err()
                .code,
            -5
        );
    }
}

//! The return codes of the reader interface (读写终端接口规范 2016, appendix A 常见错误信息) and
//! the mapping of every library error onto them.
//!
//! Card status words are returned negated, as appendix A shows them: `6A82` → `-27266`,
//! `6983` → `-27011`, `9303` → `-37635`. The table lists `-25536, -25537, -25538` as "external
//! authentication failed, 2, 1, 0 tries left"; by the same arithmetic `-25536` is `63C0` (no try
//! left) and `-25538` is `63C2` (two tries left), and that is what libsscard returns: always the
//! card's status word negated.
//!
//! This file is also compiled into the fuzz crate (`fuzz/src/ffi_strings.rs`), so it depends on
//! nothing but `std` and `sscard_core`.

use std::fmt;

use sscard_core::apdu::{StatusWord, TriesLeft};
use sscard_core::keyholder::{HsmResponseError, KeyHolderError};
use sscard_core::keys::KeyRole;
use sscard_core::profile::AreaError;
use sscard_core::transport::TransportError;
use sscard_core::Error;

/// Success.
pub const OK: i32 = 0;
/// 卡类型不对: the operated card type `iType` is not 1-4, or the card is not of that type.
pub const WRONG_CARD_TYPE: i32 = -1;
/// 无卡: no card in the reader.
pub const NO_CARD: i32 = -2;
/// 卡无应答: the card does not answer (removed, mute, reset during the operation).
pub const CARD_NO_ANSWER: i32 = -4;
/// 读卡器连接错: no smart-card service, no such reader, reader busy.
pub const READER_ERROR: i32 = -11;
/// 未建立连接: a later HSM step without the earlier step.
pub const NOT_CONNECTED: i32 = -12;
/// （动态库）不支持该命令.
pub const NOT_SUPPORTED: i32 = -13;
/// （发给动态库的）命令参数错: a null pointer, a malformed parameter string.
pub const BAD_PARAMETER: i32 = -14;
/// 卡识别码格式错.
pub const BAD_CARD_ID: i32 = -20;
/// 内部认证失败（用户卡不合法）.
pub const NOT_GENUINE: i32 = -21;
/// 传入数据与卡内不符.
pub const DATA_MISMATCH: i32 = -22;
/// 传入数据不合法.
pub const BAD_DATA: i32 = -23;
/// PSAM 卡密钥级别不够.
pub const PSAM_LEVEL: i32 = -24;
/// 用户取消密码输入.
pub const PIN_CANCELLED: i32 = -31;
/// 密码输入操作超时.
pub const PIN_TIMEOUT: i32 = -32;
/// 输入密码长度错.
pub const PIN_LENGTH: i32 = -33;
/// 两次输入密码不一致.
pub const PIN_MISMATCH: i32 = -34;
/// 运算数据含非法字符.
pub const ILLEGAL_CHARACTERS: i32 = -41;
/// 运算数据长度错.
pub const WRONG_DATA_LENGTH: i32 = -42;
/// PIN 校验失败，剩余次数 N 次.
pub const WRONG_PIN: i32 = -51;
/// PIN 锁定.
pub const PIN_BLOCKED: i32 = -52;
/// 无 PSAM 卡.
pub const NO_PSAM: i32 = -2201;
/// PSAM 卡算法不支持.
pub const PSAM_ALGORITHM: i32 = -2202;
/// PSAM 卡内没有 RKSSSE 密钥.
pub const PSAM_NO_RKSSSE: i32 = -2203;
/// 不需要加密机认证.
pub const HSM_NOT_NEEDED: i32 = -2204;
/// "其他：未知错误": anything appendix A does not name (libsscard's own internal failures).
pub const UNKNOWN: i32 = -99;

/// The appendix A description of `code`, or `None` for codes it does not list.
pub fn description(code: i32) -> Option<&'static str> {
    Some(match code {
        -1 => "卡类型不对",
        -2 => "无卡",
        -3 => "有卡未上电",
        -4 => "卡无应答",
        -5 => "加载动态库错",
        -11 => "读卡器连接错",
        -12 => "未建立连接",
        -13 => "（动态库）不支持该命令",
        -14 => "（发给动态库的）命令参数错",
        -15 => "信息校验和出错",
        -20 => "卡识别码格式错",
        -21 => "内部认证失败（用户卡不合法）",
        -22 => "传入数据与卡内不符",
        -23 => "传入数据不合法",
        -24 => "PSAM 卡密钥级别不够",
        -31 => "用户取消密码输入",
        -32 => "密码输入操作超时",
        -33 => "输入密码长度错",
        -34 => "两次输入密码不一致",
        -35 => "初始密码不能交易",
        -36 => "不能改为初始密码",
        -41 => "运算数据含非法字符",
        -42 => "运算数据长度错",
        -51 => "PIN 校验失败",
        -52 => "PIN 锁定",
        -2201 => "无 PSAM 卡",
        -2202 => "PSAM 卡算法不支持",
        -2203 => "PSAM 卡内没有 RKSSSE 密钥",
        -2204 => "不需要加密机认证",
        -25551..=-25536 => "外部认证失败",
        -26368 => "Lc/Le 不正确",
        -26881 => "命令不接受（无效状态）",
        -27009 => "命令与文件结构不相符、当前文件非所需文件",
        -27010 => "不满足安全条件",
        -27011 => "密钥锁定（算法锁定）鉴别方法锁定",
        -27012 => "引用数据无效、随机数无效",
        -27013 => "不满足使用条件、应用被锁定、应用未选择、余额上溢",
        -27016 => "安全报文数据项不正确、MAC 不正确",
        -27264 => "数据域参数不正确",
        -27265 => "不支持该功能、卡中无 MF、卡被锁定、应用锁定",
        -27266 => "未找到文件、文件标识相重、SFI 不正确",
        -27267 => "未找到记录",
        -27272 => "未找到引用数据、未找到密钥",
        -37634 => "MAC 无效",
        -37635 => "应用已被永久锁定、卡片锁定",
        -37891 => "PSAM 卡不支持消费交易",
        -37894 => "所需 MAC（或/和 TAC）不可用",
        -99 => "未知错误",
        _ => return None,
    })
}

/// The code of a card status word: the status word negated (appendix A).
pub fn status_code(sw: StatusWord) -> i32 {
    let [a, b] = sw.to_bytes();
    -i32::from(u16::from_be_bytes([a, b]))
}

/// A failed call: the interface's return code and the message written to `pOutInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The return code (negative).
    pub code: i32,
    /// What happened, in the terms of the card, the PIN or the input.
    pub detail: String,
}

impl Failure {
    /// A failure with `code` and `detail`.
    pub fn new(code: i32, detail: impl Into<String>) -> Failure {
        Failure {
            code,
            detail: detail.into(),
        }
    }

    /// `-14`: a parameter is malformed.
    pub fn parameter(detail: impl Into<String>) -> Failure {
        Failure::new(BAD_PARAMETER, detail)
    }

    /// The text for `pOutInfo`: appendix A's description, then the detail.
    pub fn message(&self) -> String {
        match (self.code, description(self.code)) {
            (WRONG_PIN, _) => self.detail.clone(),
            (_, Some(d)) if self.detail.is_empty() => d.to_owned(),
            (_, Some(d)) => format!("{d}: {}", self.detail),
            (_, None) => self.detail.clone(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.message())
    }
}

/// `-51` with the tries left, worded as appendix A words it.
pub fn wrong_pin(tries_left: u8) -> Failure {
    Failure::new(
        WRONG_PIN,
        format!(
            "PIN 校验失败，剩余次数 {tries_left} 次 (wrong PIN: {})",
            TriesLeft(tries_left)
        ),
    )
}

fn transport(e: &TransportError) -> i32 {
    match e {
        TransportError::NoCard | TransportError::NoCardInserted(_) => NO_CARD,
        TransportError::CardRemoved
        | TransportError::CardReset
        | TransportError::Timeout
        | TransportError::Protocol(_)
        | TransportError::Io(_) => CARD_NO_ANSWER,
        _ => READER_ERROR,
    }
}

fn key_holder(e: &KeyHolderError) -> i32 {
    match e {
        KeyHolderError::UnknownKey {
            role: KeyRole::Rkssse,
            ..
        } => PSAM_NO_RKSSSE,
        KeyHolderError::UnknownKey { .. } => status_code(StatusWord::ReferenceNotFound),
        KeyHolderError::AlgorithmNotHeld(_) | KeyHolderError::PsamAlgorithm(_) => PSAM_ALGORITHM,
        KeyHolderError::NotPsam(_) => NO_PSAM,
        // part 9 §8: a DELIVERY SESSION KEY refused with 6A80 at every level: the PSAM's key is
        // not at a level that diversifies to this card
        KeyHolderError::Psam {
            command: "DELIVERY SESSION KEY",
            sw: StatusWord::WrongData,
        } => PSAM_LEVEL,
        KeyHolderError::Psam { sw, .. } => status_code(*sw),
        KeyHolderError::Channel(sscard_core::channel::ChannelError::Transport(t)) => {
            match transport(t) {
                NO_CARD => NO_PSAM,
                other => other,
            }
        }
        KeyHolderError::Hsm(HsmResponseError::WrongOriginal) => DATA_MISMATCH,
        KeyHolderError::Hsm(HsmResponseError::Malformed(_)) => WRONG_DATA_LENGTH,
        KeyHolderError::Hsm(_) => BAD_DATA,
        _ => UNKNOWN,
    }
}

fn area(e: &AreaError) -> i32 {
    match e {
        AreaError::Invalid { .. } | AreaError::OutOfOrder { .. } => BAD_DATA,
        AreaError::UnknownTag { .. } | AreaError::UnknownFile(_) | AreaError::Occurrence { .. } => {
            BAD_PARAMETER
        }
        AreaError::NotWritable(_) | AreaError::AccessNeeded { .. } => {
            status_code(StatusWord::SecurityNotSatisfied)
        }
        AreaError::AreaMissing { .. } => status_code(StatusWord::FileNotFound),
        AreaError::NoKeyNeeded(_) => HSM_NOT_NEEDED,
        _ => UNKNOWN,
    }
}

/// The return code of a library error.
pub fn code_of(e: &Error) -> i32 {
    match e {
        Error::Transport(t) => transport(t),
        Error::CardReset => CARD_NO_ANSWER,
        Error::Card { sw, .. } => status_code(*sw),
        Error::WrongPin { .. } => WRONG_PIN,
        Error::PinBlocked => PIN_BLOCKED,
        Error::ApplicationBlocked => status_code(StatusWord::PermanentlyBlocked),
        Error::CardBlocked => status_code(StatusWord::FunctionNotSupported),
        Error::NotSocialSecurityCard => status_code(StatusWord::FileNotFound),
        Error::NotGenuine => NOT_GENUINE,
        Error::AuthenticationFailed { tries_left, .. } => {
            status_code(StatusWord::VerificationFailed {
                tries_left: *tries_left,
            })
        }
        Error::KeyLocked { .. } => status_code(StatusWord::AuthMethodBlocked),
        Error::KeyHolder(k) => key_holder(k),
        Error::KeyHolderAlgorithm(_) | Error::UnsupportedAlgorithm(_) => PSAM_ALGORITHM,
        Error::ReadKeyRequired => PSAM_NO_RKSSSE,
        Error::KeyHolderRequired(_) => NO_PSAM,
        Error::Blank(_) | Error::PersonalizationIncomplete => {
            status_code(StatusWord::RecordNotFound)
        }
        Error::WrongCard(_) => DATA_MISMATCH,
        Error::Area(a) => area(a),
        Error::WeakPin | Error::Data(_) => BAD_DATA,
        Error::InitialPin => -36,
        _ => UNKNOWN,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match e {
            Error::WrongPin { tries_left } => wrong_pin(tries_left),
            e => Failure::new(code_of(&e), e.to_string()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Every status word appendix A lists, negated, is the code the table gives for it.
    #[test]
    fn status_words_negated_as_appendix_a_shows() {
        let table = [
            (0x6700, -26368),
            (0x6901, -26881),
            (0x6981, -27009),
            (0x6982, -27010),
            (0x6983, -27011),
            (0x6984, -27012),
            (0x6985, -27013),
            (0x6988, -27016),
            (0x6A80, -27264),
            (0x6A81, -27265),
            (0x6A82, -27266),
            (0x6A83, -27267),
            (0x6A88, -27272),
            (0x9302, -37634),
            (0x9303, -37635),
            (0x9403, -37891),
            (0x9406, -37894),
            (0x63C0, -25536),
            (0x63C1, -25537),
            (0x63C2, -25538),
        ];
        for (sw, code) in table {
            let [a, b] = u16::to_be_bytes(sw);
            assert_eq!(status_code(StatusWord::from_bytes(a, b)), code, "{sw:04X}");
            assert!(description(code).is_some(), "{code} is in appendix A");
        }
    }

    /// The five codes of §10.5 after which a terminal switches to the HSM functions come out of
    /// the library errors that mean those five situations.
    #[test]
    fn the_five_hsm_fallback_codes() {
        let alg = sscard_core::Algorithm::Sm4;
        let cases: Vec<(Error, i32)> = vec![
            (Error::KeyHolderRequired("read"), -2201),
            (
                Error::KeyHolder(KeyHolderError::NotPsam(StatusWord::FileNotFound)),
                -2201,
            ),
            (Error::KeyHolderAlgorithm(alg), -2202),
            (
                Error::KeyHolder(KeyHolderError::AlgorithmNotHeld(alg)),
                -2202,
            ),
            (
                Error::KeyHolder(KeyHolderError::UnknownKey {
                    algorithm: alg,
                    role: KeyRole::Rkssse,
                }),
                -2203,
            ),
            (
                Error::KeyHolder(KeyHolderError::UnknownKey {
                    algorithm: alg,
                    role: KeyRole::Puk,
                }),
                -27272,
            ),
            (
                Error::KeyHolder(KeyHolderError::Psam {
                    command: "DELIVERY SESSION KEY",
                    sw: StatusWord::WrongData,
                }),
                -24,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(Failure::from(e).code, code);
        }
    }

    #[test]
    fn messages_start_with_appendix_a() {
        let f = Failure::from(Error::PinBlocked);
        assert_eq!(f.code, -52);
        assert!(f.message().starts_with("PIN 锁定: "), "{}", f.message());
        let f = Failure::from(Error::WrongPin { tries_left: 2 });
        assert_eq!(f.code, -51);
        assert!(f.message().starts_with("PIN 校验失败，剩余次数 2 次"));
        assert!(
            f.message().ends_with("(wrong PIN: 2 tries left)"),
            "{}",
            f.message()
        );
        let f = Failure::from(Error::WrongPin { tries_left: 1 });
        assert!(
            f.message().ends_with("(wrong PIN: 1 try left)"),
            "{}",
            f.message()
        );
        let f = Failure::from(Error::AuthenticationFailed {
            role: KeyRole::Puk,
            tries_left: 1,
        });
        assert_eq!(f.code, -25537);
        assert!(f.message().starts_with("外部认证失败: "));
        let f = Failure::from(Error::ApplicationBlocked);
        assert_eq!(f.code, -37635);
        assert_eq!(
            Failure::from(Error::Transport(TransportError::NoCard)).code,
            -2
        );
    }
}

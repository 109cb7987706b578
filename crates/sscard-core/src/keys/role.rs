//! Key roles (密钥用途) and their identifiers.

use std::fmt;

use crate::Algorithm;

/// Where a key belongs on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScope {
    /// The social security environment SSSE (社会保障系统环境) itself.
    Ssse,
    /// The medical insurance application DF04 (社会保险 2), its account keys and its data
    /// area keys (RK1DF04, UK1DF04, UK2DF04, STKDF04, LKDF04).
    Df04,
    /// Another data area (V2.0 notice §5.3-5.7, appendix B): the DF's file identifier
    /// (`DF01`, `DF02`, `DF03`, `DF05`, `DF06`, `DF07`).
    Area(u16),
}

/// The role of a key, as the specification names it (part 6 table 3, part 9 appendix B,
/// reader interface appendix B).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyRole {
    /// IRK, the internal authentication key (内部认证密钥): the card proves it is genuine
    /// (part 7 §5.4).
    Irk,
    /// RKSSSE, the read key of the SSSE files on 3.0 cards (EF06, EF07, EF08).
    Rkssse,
    /// UKSSSE (UKMF), the update key of the SSSE files (EF05 … EF08): personalization.
    Ukssse,
    /// PUK, the PIN unblock key (个人密码解锁密钥): unblock and reload the PIN.
    Puk,
    /// STKSSSE, the issuer's maintenance key (应用维护密钥): MAC and encipherment of PIN
    /// RELOAD/UNBLOCK and of the blocking commands.
    Stkssse,
    /// BK, the blocking key (卡片锁定控制密钥): application and card block.
    Bk,
    /// DLK, the account credit key (帐户划入): the process key SESLK.
    Dlk,
    /// DPK, the purchase key (医疗消费): the process key SESPK.
    Dpk,
    /// DTK, the TAC key (交易验证码).
    Dtk,
    /// DSK, the key of UPDATE STARTING DAY (年度起始日期).
    Dsk,
    /// RK1DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df01,
    /// UK1DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df01,
    /// UK2DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df01,
    /// UK3DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk3Df01,
    /// UK4DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk4Df01,
    /// UK5DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk5Df01,
    /// UK6DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk6Df01,
    /// UK7DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk7Df01,
    /// UK8DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk8Df01,
    /// UK9DF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk9Df01,
    /// UKADF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    UkaDf01,
    /// UKBDF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    UkbDf01,
    /// STKDF01: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf01,
    /// RK1DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df02,
    /// UK1DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df02,
    /// UK2DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df02,
    /// UK3DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk3Df02,
    /// UK4DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk4Df02,
    /// UK5DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk5Df02,
    /// UK6DF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk6Df02,
    /// STKDF02: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf02,
    /// RK1DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df03,
    /// RK2DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk2Df03,
    /// UK1DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df03,
    /// UK2DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df03,
    /// UK3DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk3Df03,
    /// UK4DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk4Df03,
    /// UK5DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk5Df03,
    /// UK6DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk6Df03,
    /// UK7DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk7Df03,
    /// UK8DF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk8Df03,
    /// STKDF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf03,
    /// LKDF03: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    LkDf03,
    /// RK1DF04: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df04,
    /// UK1DF04: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df04,
    /// UK2DF04: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df04,
    /// STKDF04: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf04,
    /// LKDF04: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    LkDf04,
    /// RK1DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df07,
    /// RK2DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk2Df07,
    /// RK3DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk3Df07,
    /// UK1DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df07,
    /// UK2DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df07,
    /// UK3DF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk3Df07,
    /// STKDF07: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf07,
    /// UK1DF05: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df05,
    /// STKDF05: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf05,
    /// RK1DF06: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Rk1Df06,
    /// UK1DF06: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk1Df06,
    /// UK2DF06: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    Uk2Df06,
    /// STKDF06: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    StkDf06,
    /// LKDF06: a data area key ([`KeyRole::area_key`] has its identifiers and use).
    LkDf06,
}

impl KeyRole {
    /// The keys of SSSE itself (part 6 table 3; V2.0 notice §5.2 table 3): the roles of scope
    /// [`KeyScope::Ssse`], in the order of the key file.
    pub const SSSE: [KeyRole; 6] = [
        KeyRole::Irk,
        KeyRole::Rkssse,
        KeyRole::Ukssse,
        KeyRole::Puk,
        KeyRole::Stkssse,
        KeyRole::Bk,
    ];

    /// Every role, in the order of the key file.
    pub const ALL: [KeyRole; 62] = [
        KeyRole::Irk,
        KeyRole::Rkssse,
        KeyRole::Ukssse,
        KeyRole::Puk,
        KeyRole::Stkssse,
        KeyRole::Bk,
        KeyRole::Dlk,
        KeyRole::Dpk,
        KeyRole::Dtk,
        KeyRole::Dsk,
        KeyRole::Rk1Df01,
        KeyRole::Uk1Df01,
        KeyRole::Uk2Df01,
        KeyRole::Uk3Df01,
        KeyRole::Uk4Df01,
        KeyRole::Uk5Df01,
        KeyRole::Uk6Df01,
        KeyRole::Uk7Df01,
        KeyRole::Uk8Df01,
        KeyRole::Uk9Df01,
        KeyRole::UkaDf01,
        KeyRole::UkbDf01,
        KeyRole::StkDf01,
        KeyRole::Rk1Df02,
        KeyRole::Uk1Df02,
        KeyRole::Uk2Df02,
        KeyRole::Uk3Df02,
        KeyRole::Uk4Df02,
        KeyRole::Uk5Df02,
        KeyRole::Uk6Df02,
        KeyRole::StkDf02,
        KeyRole::Rk1Df03,
        KeyRole::Rk2Df03,
        KeyRole::Uk1Df03,
        KeyRole::Uk2Df03,
        KeyRole::Uk3Df03,
        KeyRole::Uk4Df03,
        KeyRole::Uk5Df03,
        KeyRole::Uk6Df03,
        KeyRole::Uk7Df03,
        KeyRole::Uk8Df03,
        KeyRole::StkDf03,
        KeyRole::LkDf03,
        KeyRole::Rk1Df04,
        KeyRole::Uk1Df04,
        KeyRole::Uk2Df04,
        KeyRole::StkDf04,
        KeyRole::LkDf04,
        KeyRole::Rk1Df07,
        KeyRole::Rk2Df07,
        KeyRole::Rk3Df07,
        KeyRole::Uk1Df07,
        KeyRole::Uk2Df07,
        KeyRole::Uk3Df07,
        KeyRole::StkDf07,
        KeyRole::Uk1Df05,
        KeyRole::StkDf05,
        KeyRole::Rk1Df06,
        KeyRole::Uk1Df06,
        KeyRole::Uk2Df06,
        KeyRole::StkDf06,
        KeyRole::LkDf06,
    ];

    /// The role's name as the specification writes it: `IRK`, `RKSSSE`, ….
    pub fn name(self) -> &'static str {
        match self {
            KeyRole::Irk => "IRK",
            KeyRole::Rkssse => "RKSSSE",
            KeyRole::Ukssse => "UKSSSE",
            KeyRole::Puk => "PUK",
            KeyRole::Stkssse => "STKSSSE",
            KeyRole::Bk => "BK",
            KeyRole::Dlk => "DLK",
            KeyRole::Dpk => "DPK",
            KeyRole::Dtk => "DTK",
            KeyRole::Dsk => "DSK",
            other => other.area_key().map_or("", |k| k.name),
        }
    }

    /// What the key is for, in Chinese as the specification says it.
    pub fn name_zh(self) -> &'static str {
        match self {
            KeyRole::Irk => "内部认证密钥",
            KeyRole::Rkssse => "指纹和相片信息读取密钥",
            KeyRole::Ukssse => "发卡方和个人基本信息更新密钥",
            KeyRole::Puk => "个人密码解锁密钥",
            KeyRole::Stkssse => "发卡方应用维护密钥",
            KeyRole::Bk => "卡片锁定控制密钥",
            KeyRole::Dlk => "帐户划入密钥",
            KeyRole::Dpk => "医疗消费密钥",
            KeyRole::Dtk => "交易验证码密钥",
            KeyRole::Dsk => "年度起始日期更新密钥",
            other => other.area_key().map_or("", |k| k.name_zh),
        }
    }

    /// The role named `name` (case-insensitive; `UKMF` is UKSSSE, `STK` is STKSSSE).
    pub fn from_name(name: &str) -> Option<KeyRole> {
        let upper = name.trim().to_ascii_uppercase();
        match upper.as_str() {
            "UKMF" => return Some(KeyRole::Ukssse),
            "STK" => return Some(KeyRole::Stkssse),
            _ => {}
        }
        KeyRole::ALL.into_iter().find(|r| r.name() == upper)
    }

    /// Where the key belongs.
    pub fn scope(self) -> KeyScope {
        match self {
            KeyRole::Dlk | KeyRole::Dpk | KeyRole::Dtk | KeyRole::Dsk => KeyScope::Df04,
            other => match other.area_key() {
                Some(k) if k.df == 0xDF04 => KeyScope::Df04,
                Some(k) => KeyScope::Area(k.df),
                None => KeyScope::Ssse,
            },
        }
    }

    /// The key identifier inside the card: the P2 of EXTERNAL AUTHENTICATION (part 5 table 14),
    /// `00` for IRK (the P2 of INTERNAL AUTHENTICATION). Part 9 appendix B: IRK `00`, STK `02`,
    /// UKMF `04`, BK `05`, PUK `06`; RKSSSE `0A` is the value of the field trace
    /// (\[design\] D2 of `docs/interop-profile.md`). The account keys are chosen by the key index
    /// of the INITIALIZE commands instead: `None`.
    pub fn card_key_id(self) -> Option<u8> {
        match self {
            KeyRole::Irk => Some(0x00),
            KeyRole::Stkssse => Some(0x02),
            KeyRole::Ukssse => Some(0x04),
            KeyRole::Bk => Some(0x05),
            KeyRole::Puk => Some(0x06),
            KeyRole::Rkssse => Some(0x0A),
            KeyRole::Dlk | KeyRole::Dpk | KeyRole::Dtk | KeyRole::Dsk => None,
            other => other.area_key().map(|k| k.card_key_id),
        }
    }

    /// The key identifier in a PSAM (the "标识" of the reader interface's appendix B; for DPK
    /// the key version).
    pub fn psam_key_id(self) -> u8 {
        match self {
            KeyRole::Irk => 0x08,
            KeyRole::Stkssse => 0x09,
            KeyRole::Rkssse => 0x0A,
            KeyRole::Puk => 0x10,
            KeyRole::Bk => 0x11,
            KeyRole::Ukssse => 0x12,
            KeyRole::Dsk => 0x4A,
            KeyRole::Dlk => 0x4B,
            KeyRole::Dtk => 0x4C,
            KeyRole::Dpk => 0x01,
            other => other.area_key().map_or(0, |k| k.psam_key_id),
        }
    }

    /// The PSAM key type (part 9 §6.3; the "类别" of the reader interface's appendix B): `07`
    /// encipherment, `08` MAC and encipherment, `02` purchase.
    pub fn psam_key_type(self) -> u8 {
        match self {
            KeyRole::Irk | KeyRole::Rkssse => 0x07,
            KeyRole::Dpk => 0x02,
            other => other.area_key().map_or(0x08, |k| k.psam_key_type),
        }
    }

    /// The HSM logical address (密钥逻辑地址) of group `group` (1-3) of this key, from the
    /// reader interface's tables B.1 and B.2. PUK, BK and STKSSSE have one group.
    pub fn hsm_address(self, group: u8) -> Option<u16> {
        let g = u16::from(group);
        let (base, groups) = match self {
            KeyRole::Irk => (0x0170, 3),
            KeyRole::Rkssse => (0x004C, 3),
            KeyRole::Ukssse => (0x0094, 3),
            KeyRole::Puk => (0x0090, 1),
            KeyRole::Bk => (0x0091, 1),
            KeyRole::Stkssse => (0x0173, 1),
            KeyRole::Dsk => (0x00AF, 3),
            KeyRole::Dlk => (0x00B2, 3),
            KeyRole::Dtk => (0x00B5, 3),
            KeyRole::Dpk => (0x017F, 3),
            other => match other.area_key() {
                Some(k) => (k.hsm_address, k.groups),
                None => return None,
            },
        };
        (1..=groups).contains(&g).then(|| base + g - 1)
    }

    /// The key length for algorithm `alg`: 8 bytes (single DES) for STKSSSE on 3DES cards
    /// (part 9 appendix B, `8***`; reader interface table B.1 `0173`, length 08), 16 otherwise.
    pub fn key_len(self, alg: Algorithm) -> usize {
        match (self, alg) {
            (KeyRole::Stkssse, Algorithm::Tdes) => 8,
            (other, Algorithm::Tdes)
                if other.area_key().is_some_and(|k| k.kind == AreaKeyKind::Stk) =>
            {
                8
            }
            _ => 16,
        }
    }

    /// Whether a failed EXTERNAL AUTHENTICATION with this key counts against its tries: not
    /// for BK and STKSSSE (part 7 §13.1-13.2, \[design\] D4).
    pub fn failures_count(self) -> bool {
        !matches!(self, KeyRole::Bk | KeyRole::Stkssse)
            && !self
                .area_key()
                .is_some_and(|k| matches!(k.kind, AreaKeyKind::Stk | AreaKeyKind::Lk))
    }

    /// The identifiers and use of a data area key (`None` for the SSSE and account keys).
    pub fn area_key(self) -> Option<&'static AreaKey> {
        AREA_KEYS.iter().find(|k| k.role == self)
    }

    /// The DF a data area key lives in (`0xDF01` …), `None` for the SSSE and account keys.
    pub fn area_df(self) -> Option<u16> {
        self.area_key().map(|k| k.df)
    }
}

/// What a data area key does (part 6 table 3, V2.0 notice §5.3-5.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AreaKeyKind {
    /// RKn: reading (应用数据读取密钥).
    Rk,
    /// UKn: updating (应用数据更新密钥).
    Uk,
    /// STK: the MAC of the area's maintenance commands (应用维护密钥); 8 bytes on 3DES cards.
    Stk,
    /// LK: locking the application (应用锁定控制密钥).
    Lk,
}

/// A key of a data area DF and where it lives: its identifier in the card's DF (the P2 of
/// EXTERNAL AUTHENTICATION), its PSAM identifier and type and its HSM logical address (reader
/// interface appendix B tables B.1 and B.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaKey {
    /// The role.
    pub role: KeyRole,
    /// The specification's name (`RK1DF01` …).
    pub name: &'static str,
    /// What the key protects, as the reader interface's appendix B says it.
    pub name_zh: &'static str,
    /// The DF holding the key.
    pub df: u16,
    /// Read, update, maintenance or lock key.
    pub kind: AreaKeyKind,
    /// The key identifier in the card's DF.
    pub card_key_id: u8,
    /// Whether part 9 appendix B table B1 gives [`AreaKey::card_key_id`]; otherwise it is
    /// sscard's choice (\[design\] D20 of `docs/interop-profile.md`).
    pub card_key_id_from_spec: bool,
    /// The PSAM key identifier (reader interface appendix B "标识").
    pub psam_key_id: u8,
    /// The PSAM key type (reader interface appendix B "类别": `07` encipherment, `08` MAC and
    /// encipherment).
    pub psam_key_type: u8,
    /// The HSM logical address of group 1 (reader interface appendix B "地址"); `0` for the
    /// keys the reader interface lists no address for (DF06, \[design\] D38).
    pub hsm_address: u16,
    /// How many groups the reader interface lists (1 or 3; `0` when it lists the key nowhere,
    /// so that [`KeyRole::hsm_address`] is `None` and the HSM steps refuse).
    pub groups: u16,
}

#[allow(clippy::too_many_arguments)]
const fn ak(
    role: KeyRole,
    name: &'static str,
    name_zh: &'static str,
    df: u16,
    kind: AreaKeyKind,
    card_key_id: u8,
    card_key_id_from_spec: bool,
    psam: (u8, u8),
    hsm_address: u16,
    groups: u16,
) -> AreaKey {
    AreaKey {
        role,
        name,
        name_zh,
        df,
        kind,
        card_key_id,
        card_key_id_from_spec,
        psam_key_id: psam.1,
        psam_key_type: psam.0,
        hsm_address,
        groups,
    }
}

use AreaKeyKind::{Lk, Rk, Stk, Uk};

/// Every data area key: reader interface appendix B (PSAM identifier and type, HSM address),
/// part 9 appendix B table B1 (card key identifiers where it gives them; the others are
/// \[design\] D20). DF05 (生命与健康) and DF06 (社会救助与优待抚恤) are V2.0 notice appendix B
/// (informative, table B2); the reader interface's appendix B lists DF06 nowhere, so its card
/// key ids, PSAM ids and types are sscard's and it has no HSM address (\[design\] D38).
#[rustfmt::skip]
pub static AREA_KEYS: [AreaKey; 52] = [
    ak(KeyRole::Rk1Df01, "RK1DF01", "公共应用信息读取", 0xDF01, Rk, 0x8E, false, (0x07, 0x2E), 0x004F, 3),
    ak(KeyRole::Uk1Df01, "UK1DF01", "户籍信息更新", 0xDF01, Uk, 0x83, true, (0x08, 0x42), 0x0097, 3),
    ak(KeyRole::Uk2Df01, "UK2DF01", "个人状况信息更新", 0xDF01, Uk, 0x84, true, (0x08, 0x43), 0x009A, 3),
    ak(KeyRole::Uk3Df01, "UK3DF01", "婚姻状况信息更新", 0xDF01, Uk, 0x85, true, (0x07, 0x24), 0x0176, 3),
    ak(KeyRole::Uk4Df01, "UK4DF01", "通讯信息更新", 0xDF01, Uk, 0x86, true, (0x07, 0x25), 0x0179, 3),
    ak(KeyRole::Uk5Df01, "UK5DF01", "国家/地区及政治面貌信息更新", 0xDF01, Uk, 0x87, true, (0x08, 0x44), 0x009D, 3),
    ak(KeyRole::Uk6Df01, "UK6DF01", "学历信息更新", 0xDF01, Uk, 0x88, false, (0x07, 0x2F), 0x0052, 3),
    ak(KeyRole::Uk7Df01, "UK7DF01", "预留信息1更新", 0xDF01, Uk, 0x89, false, (0x07, 0x30), 0x0055, 3),
    ak(KeyRole::Uk8Df01, "UK8DF01", "预留信息2更新", 0xDF01, Uk, 0x8A, false, (0x07, 0x31), 0x0058, 3),
    ak(KeyRole::Uk9Df01, "UK9DF01", "预留信息3更新", 0xDF01, Uk, 0x8B, false, (0x07, 0x32), 0x005B, 3),
    ak(KeyRole::UkaDf01, "UKADF01", "预留信息4更新", 0xDF01, Uk, 0x8C, false, (0x07, 0x33), 0x005E, 3),
    ak(KeyRole::UkbDf01, "UKBDF01", "预留信息5更新", 0xDF01, Uk, 0x8D, false, (0x07, 0x34), 0x0061, 3),
    ak(KeyRole::StkDf01, "STKDF01", "公共应用维护", 0xDF01, Stk, 0x82, true, (0x08, 0x20), 0x0174, 1),
    ak(KeyRole::Rk1Df02, "RK1DF02", "就业与失业信息读取", 0xDF02, Rk, 0x89, false, (0x07, 0x35), 0x0064, 3),
    ak(KeyRole::Uk1Df02, "UK1DF02", "职业和专业技能信息更新", 0xDF02, Uk, 0x83, true, (0x07, 0x26), 0x0187, 3),
    ak(KeyRole::Uk2Df02, "UK2DF02", "就业状况信息更新", 0xDF02, Uk, 0x84, true, (0x08, 0x45), 0x00A0, 3),
    ak(KeyRole::Uk3Df02, "UK3DF02", "就业记录更新", 0xDF02, Uk, 0x85, true, (0x08, 0x46), 0x00A3, 3),
    ak(KeyRole::Uk4Df02, "UK4DF02", "就业创业证信息更新", 0xDF02, Uk, 0x86, true, (0x07, 0x27), 0x018A, 3),
    ak(KeyRole::Uk5Df02, "UK5DF02", "就业援助对象认定信息更新", 0xDF02, Uk, 0x87, true, (0x07, 0x28), 0x018D, 3),
    ak(KeyRole::Uk6Df02, "UK6DF02", "就业扶持政策享受信息更新", 0xDF02, Uk, 0x88, false, (0x07, 0x36), 0x0067, 3),
    ak(KeyRole::StkDf02, "STKDF02", "就业与失业应用维护", 0xDF02, Stk, 0x82, true, (0x08, 0x21), 0x0185, 1),
    ak(KeyRole::Rk1Df03, "RK1DF03", "养老、工伤、生育保险信息读取", 0xDF03, Rk, 0x84, true, (0x07, 0x2B), 0x0193, 3),
    ak(KeyRole::Rk2Df03, "RK2DF03", "失业保险信息读取", 0xDF03, Rk, 0x85, true, (0x07, 0x2C), 0x0196, 3),
    ak(KeyRole::Uk1Df03, "UK1DF03", "失业保险信息更新", 0xDF03, Uk, 0x86, true, (0x08, 0x47), 0x00A6, 3),
    ak(KeyRole::Uk2Df03, "UK2DF03", "劳动能力鉴定信息更新", 0xDF03, Uk, 0x87, true, (0x07, 0x29), 0x0190, 3),
    ak(KeyRole::Uk3Df03, "UK3DF03", "养老保险信息更新", 0xDF03, Uk, 0x88, true, (0x08, 0x48), 0x00A9, 3),
    ak(KeyRole::Uk4Df03, "UK4DF03", "工伤保险信息更新", 0xDF03, Uk, 0x89, false, (0x07, 0x37), 0x006A, 3),
    ak(KeyRole::Uk5Df03, "UK5DF03", "生育保险信息更新", 0xDF03, Uk, 0x8A, false, (0x07, 0x38), 0x006D, 3),
    ak(KeyRole::Uk6Df03, "UK6DF03", "工伤认定信息更新", 0xDF03, Uk, 0x8B, false, (0x07, 0x39), 0x0070, 3),
    ak(KeyRole::Uk7Df03, "UK7DF03", "供养亲属信息更新", 0xDF03, Uk, 0x8C, false, (0x07, 0x3A), 0x0073, 3),
    ak(KeyRole::Uk8Df03, "UK8DF03", "参保凭证信息更新", 0xDF03, Uk, 0x8D, false, (0x07, 0x3B), 0x0076, 3),
    ak(KeyRole::StkDf03, "STKDF03", "社会保险1应用维护", 0xDF03, Stk, 0x82, true, (0x08, 0x22), 0x0186, 1),
    ak(KeyRole::LkDf03, "LKDF03", "社会保险1应用（应用锁定）", 0xDF03, Lk, 0x83, true, (0x08, 0x40), 0x0092, 1),
    ak(KeyRole::Rk1Df04, "RK1DF04", "医疗保险和医疗费用结算信息读取", 0xDF04, Rk, 0x84, true, (0x07, 0x2D), 0x0182, 3),
    ak(KeyRole::Uk1Df04, "UK1DF04", "医疗、工伤、生育保险基本信息更新", 0xDF04, Uk, 0x85, true, (0x08, 0x49), 0x00AC, 3),
    ak(KeyRole::Uk2Df04, "UK2DF04", "医疗保险临时脱网结算信息更新", 0xDF04, Uk, 0x86, true, (0x07, 0x2A), 0x017C, 3),
    ak(KeyRole::StkDf04, "STKDF04", "社会保险2应用维护", 0xDF04, Stk, 0x82, true, (0x08, 0x23), 0x0175, 1),
    ak(KeyRole::LkDf04, "LKDF04", "社会保险2应用（应用锁定）", 0xDF04, Lk, 0x83, true, (0x08, 0x41), 0x0093, 1),
    ak(KeyRole::Rk1Df07, "RK1DF07", "荣誉信息读取", 0xDF07, Rk, 0x84, false, (0x07, 0x3D), 0x007A, 3),
    ak(KeyRole::Rk2Df07, "RK2DF07", "专家信息读取", 0xDF07, Rk, 0x85, false, (0x07, 0x3F), 0x0080, 3),
    ak(KeyRole::Rk3Df07, "RK3DF07", "军队转业干部信息读取", 0xDF07, Rk, 0x86, false, (0x07, 0xB1), 0x0086, 3),
    ak(KeyRole::Uk1Df07, "UK1DF07", "荣誉信息更新", 0xDF07, Uk, 0x87, false, (0x07, 0x3E), 0x007D, 3),
    ak(KeyRole::Uk2Df07, "UK2DF07", "专家信息更新", 0xDF07, Uk, 0x88, false, (0x07, 0xB0), 0x0083, 3),
    ak(KeyRole::Uk3Df07, "UK3DF07", "军队转业干部信息更新", 0xDF07, Uk, 0x89, false, (0x07, 0xB2), 0x0089, 3),
    ak(KeyRole::StkDf07, "STKDF07", "人事与人才应用维护", 0xDF07, Stk, 0x82, false, (0x08, 0x3C), 0x0079, 1),
    ak(KeyRole::Uk1Df05, "UK1DF05", "生命与健康信息更新", 0xDF05, Uk, 0x83, false, (0x07, 0xB4), 0x008D, 3),
    ak(KeyRole::StkDf05, "STKDF05", "生命与健康应用维护", 0xDF05, Stk, 0x82, false, (0x08, 0xB3), 0x008C, 1),
    ak(KeyRole::StkDf06, "STKDF06", "社会救助与优待抚恤应用维护", 0xDF06, Stk, 0x82, false, (0x08, 0xB5), 0, 0),
    ak(KeyRole::LkDf06, "LKDF06", "社会救助与优待抚恤应用（应用锁定）", 0xDF06, Lk, 0x83, false, (0x08, 0xB6), 0, 0),
    ak(KeyRole::Rk1Df06, "RK1DF06", "社会救助与优待抚恤信息读取", 0xDF06, Rk, 0x84, false, (0x07, 0xB7), 0, 0),
    ak(KeyRole::Uk1Df06, "UK1DF06", "社会救助信息更新", 0xDF06, Uk, 0x85, false, (0x07, 0xB8), 0, 0),
    ak(KeyRole::Uk2Df06, "UK2DF06", "优待抚恤信息更新", 0xDF06, Uk, 0x86, false, (0x07, 0xB9), 0, 0),
];

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_ssse_keys_are_the_roles_of_its_scope() {
        let of_scope: Vec<KeyRole> = KeyRole::ALL
            .into_iter()
            .filter(|r| r.scope() == KeyScope::Ssse)
            .collect();
        assert_eq!(of_scope, KeyRole::SSSE);
    }

    #[test]
    fn names_round_trip() {
        for role in KeyRole::ALL {
            assert_eq!(KeyRole::from_name(role.name()), Some(role));
            assert_eq!(KeyRole::from_name(&role.name().to_lowercase()), Some(role));
        }
        assert_eq!(KeyRole::from_name("UKMF"), Some(KeyRole::Ukssse));
        assert_eq!(KeyRole::from_name("nope"), None);
    }

    /// The identifiers seen in the field trace: EXTERNAL AUTHENTICATION `0082000A` with
    /// RKSSSE, `00820006` with PUK; HSM addresses `0090` (PUK) and `0173` (STKSSSE).
    #[test]
    fn field_trace_identifiers() {
        assert_eq!(KeyRole::Rkssse.card_key_id(), Some(0x0A));
        assert_eq!(KeyRole::Puk.card_key_id(), Some(0x06));
        assert_eq!(KeyRole::Puk.hsm_address(1), Some(0x0090));
        assert_eq!(KeyRole::Stkssse.hsm_address(1), Some(0x0173));
        assert_eq!(KeyRole::Stkssse.hsm_address(2), None);
        assert_eq!(KeyRole::Irk.hsm_address(3), Some(0x0172));
        assert_eq!(KeyRole::Rkssse.hsm_address(1), Some(0x004C));
        assert_eq!(KeyRole::Irk.hsm_address(0), None);
    }

    #[test]
    fn key_ids_are_distinct_and_lengths() {
        // card key identifiers are unique within the DF holding the keys
        let mut scopes: Vec<Option<u16>> = KeyRole::ALL.iter().map(|r| r.area_df()).collect();
        scopes.sort_unstable();
        scopes.dedup();
        for scope in scopes {
            let mut card: Vec<u8> = KeyRole::ALL
                .iter()
                .filter(|r| r.area_df() == scope)
                .filter_map(|r| r.card_key_id())
                .collect();
            let n = card.len();
            card.sort_unstable();
            card.dedup();
            assert_eq!(card.len(), n, "card key ids of {scope:04X?}");
        }
        let mut psam: Vec<u8> = KeyRole::ALL.iter().map(|r| r.psam_key_id()).collect();
        psam.sort_unstable();
        psam.dedup();
        assert_eq!(psam.len(), KeyRole::ALL.len());
        let mut hsm: Vec<u16> = KeyRole::ALL
            .iter()
            .flat_map(|r| (1..=3).filter_map(|g| r.hsm_address(g)))
            .collect();
        let n = hsm.len();
        hsm.sort_unstable();
        hsm.dedup();
        assert_eq!(hsm.len(), n, "HSM addresses overlap");
        assert_eq!(KeyRole::Stkssse.key_len(Algorithm::Tdes), 8);
        assert_eq!(KeyRole::Stkssse.key_len(Algorithm::Sm4), 16);
        assert!(!KeyRole::Bk.failures_count());
        assert!(KeyRole::Puk.failures_count());
    }

    /// Reader interface appendix B rows and part 9 appendix B table B1 identifiers.
    #[test]
    fn area_keys_follow_the_tables() {
        let row = |r: KeyRole| {
            (
                r.psam_key_type(),
                r.psam_key_id(),
                r.hsm_address(1),
                r.hsm_address(3),
            )
        };
        assert_eq!(
            row(KeyRole::Rk1Df01),
            (0x07, 0x2E, Some(0x004F), Some(0x0051))
        );
        assert_eq!(
            row(KeyRole::Uk3Df02),
            (0x08, 0x46, Some(0x00A3), Some(0x00A5))
        );
        assert_eq!(
            row(KeyRole::Uk2Df07),
            (0x07, 0xB0, Some(0x0083), Some(0x0085))
        );
        assert_eq!(
            row(KeyRole::Rk1Df04),
            (0x07, 0x2D, Some(0x0182), Some(0x0184))
        );
        assert_eq!(row(KeyRole::LkDf03), (0x08, 0x40, Some(0x0092), None));
        assert_eq!(row(KeyRole::StkDf07), (0x08, 0x3C, Some(0x0079), None));
        // part 9 table B1
        assert_eq!(KeyRole::Uk1Df01.card_key_id(), Some(0x83));
        assert_eq!(KeyRole::Uk3Df02.card_key_id(), Some(0x85));
        assert_eq!(KeyRole::Uk1Df03.card_key_id(), Some(0x86));
        assert_eq!(KeyRole::Rk2Df03.card_key_id(), Some(0x85));
        assert_eq!(KeyRole::Uk2Df04.card_key_id(), Some(0x86));
        assert_eq!(KeyRole::StkDf02.card_key_id(), Some(0x82));
        assert_eq!(KeyRole::StkDf04.key_len(Algorithm::Tdes), 8);
        assert_eq!(KeyRole::StkDf04.key_len(Algorithm::Sm4), 16);
        assert_eq!(KeyRole::LkDf04.key_len(Algorithm::Tdes), 16);
        assert!(!KeyRole::LkDf04.failures_count());
        assert!(KeyRole::Uk3Df02.failures_count());
        assert_eq!(KeyRole::Uk3Df02.scope(), KeyScope::Area(0xDF02));
        assert_eq!(KeyRole::Rk1Df04.scope(), KeyScope::Df04);
        assert_eq!(KeyRole::Irk.area_df(), None);
        assert_eq!(KeyRole::from_name("ukadf01"), Some(KeyRole::UkaDf01));
        for k in &AREA_KEYS {
            assert_eq!(k.role.name(), k.name);
            assert_eq!(k.role.area_df(), Some(k.df));
            assert!(!k.name_zh.is_empty());
        }
        assert_eq!(
            AREA_KEYS.iter().filter(|k| k.card_key_id_from_spec).count(),
            24
        );
    }

    /// V2.0 notice appendix B table B2: DF06's five keys; the reader interface lists none of
    /// them, so no HSM address (\[design\] D38) and sscard's PSAM ids after DF05's `B3`/`B4`.
    #[test]
    fn df06_keys_of_table_b2() {
        let df06: Vec<KeyRole> = AREA_KEYS
            .iter()
            .filter(|k| k.df == 0xDF06)
            .map(|k| k.role)
            .collect();
        assert_eq!(
            df06.iter().map(|r| r.name()).collect::<Vec<_>>(),
            ["STKDF06", "LKDF06", "RK1DF06", "UK1DF06", "UK2DF06"]
        );
        for role in &df06 {
            assert_eq!(role.scope(), KeyScope::Area(0xDF06));
            assert_eq!(role.hsm_address(1), None, "{role}");
            assert!(!role.area_key().unwrap().card_key_id_from_spec);
        }
        assert_eq!(KeyRole::Rk1Df06.card_key_id(), Some(0x84));
        assert_eq!(KeyRole::Uk1Df06.card_key_id(), Some(0x85));
        assert_eq!(KeyRole::Uk2Df06.card_key_id(), Some(0x86));
        assert_eq!(
            (
                KeyRole::Uk2Df06.psam_key_type(),
                KeyRole::Uk2Df06.psam_key_id()
            ),
            (0x07, 0xB9)
        );
        assert_eq!(KeyRole::StkDf06.key_len(Algorithm::Tdes), 8);
        assert_eq!(KeyRole::LkDf06.key_len(Algorithm::Tdes), 16);
        assert!(!KeyRole::LkDf06.failures_count());
        assert!(KeyRole::Uk1Df06.failures_count());
        assert_eq!(KeyRole::from_name("rk1df06"), Some(KeyRole::Rk1Df06));
    }
}

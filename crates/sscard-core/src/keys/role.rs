//! Key roles (密钥用途) and their identifiers.

use std::fmt;

use crate::Algorithm;

/// Where a key belongs on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScope {
    /// The social security environment SSSE (社会保障系统环境) itself.
    Ssse,
    /// The medical insurance application DF04 (社会保险 2), its account keys.
    Df04,
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
}

impl KeyRole {
    /// Every role, in the order of the key file.
    pub const ALL: [KeyRole; 10] = [
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
            _ => KeyScope::Ssse,
        }
    }

    /// The key identifier inside the card: the P2 of EXTERNAL AUTHENTICATION (part 5 table 14),
    /// `00` for IRK (the P2 of INTERNAL AUTHENTICATION). Part 9 appendix B: IRK `00`, STK `02`,
    /// UKMF `04`, BK `05`, PUK `06`; RKSSSE `0A` is the value of the field trace
    /// ([design] D2 of `docs/interop-profile.md`). The account keys are chosen by the key index
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
        }
    }

    /// The PSAM key type (part 9 §6.3; the "类别" of the reader interface's appendix B): `07`
    /// encipherment, `08` MAC and encipherment, `02` purchase.
    pub fn psam_key_type(self) -> u8 {
        match self {
            KeyRole::Irk | KeyRole::Rkssse => 0x07,
            KeyRole::Dpk => 0x02,
            _ => 0x08,
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
        };
        (1..=groups).contains(&g).then(|| base + g - 1)
    }

    /// The key length for algorithm `alg`: 8 bytes (single DES) for STKSSSE on 3DES cards
    /// (part 9 appendix B, `8***`; reader interface table B.1 `0173`, length 08), 16 otherwise.
    pub fn key_len(self, alg: Algorithm) -> usize {
        match (self, alg) {
            (KeyRole::Stkssse, Algorithm::Tdes) => 8,
            _ => 16,
        }
    }

    /// Whether a failed EXTERNAL AUTHENTICATION with this key counts against its tries: not
    /// for BK and STKSSSE (part 7 §13.1-13.2, [design] D4).
    pub fn failures_count(self) -> bool {
        !matches!(self, KeyRole::Bk | KeyRole::Stkssse)
    }
}

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
        let mut card: Vec<u8> = KeyRole::ALL
            .iter()
            .filter_map(|r| r.card_key_id())
            .collect();
        card.sort_unstable();
        card.dedup();
        assert_eq!(card.len(), 6);
        let mut psam: Vec<u8> = KeyRole::ALL.iter().map(|r| r.psam_key_id()).collect();
        psam.sort_unstable();
        psam.dedup();
        assert_eq!(psam.len(), KeyRole::ALL.len());
        assert_eq!(KeyRole::Stkssse.key_len(Algorithm::Tdes), 8);
        assert_eq!(KeyRole::Stkssse.key_len(Algorithm::Sm4), 16);
        assert!(!KeyRole::Bk.failures_count());
        assert!(KeyRole::Puk.failures_count());
    }
}

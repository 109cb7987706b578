//! The transaction detail records of DF04 EF08 (医疗交易明细, V2.0 notice table 9 and
//! §8.5.3; part 7 §11.8, §12.6): serial b2 ‖ type an1 ‖ terminal number cn6 ‖ time cn7 ‖
//! account amount b4 [‖ self-pay b4 ‖ pooled b4] — 28 bytes, or 20 on a card that keeps the
//! personal account only (part 7 §12).

use serde::{Deserialize, Serialize};

use super::{Fen, ProcessingMode, PurchaseAmounts, TerminalNumber, TransactionKind};

/// One record of the transaction detail file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct DetailRecord {
    /// 交易序号: the card's serial of the transaction (credit or purchase counter).
    pub serial: u16,
    /// 交易类型 as stored (an): `'1'` credit, `'2'` purchase (V2.0 notice table 51).
    pub type_code: char,
    /// 终端机编号, 12 digits (the raw hex when the card stored something else).
    pub terminal: String,
    /// 交易时间 `YYYYMMDDHHMMSS` (the raw hex when not BCD).
    pub time: String,
    /// 个人账户交易金额: credited or debited from the account.
    pub account: Fen,
    /// 个人自付金额 (0 on a 20-byte record).
    pub self_pay: Fen,
    /// 统筹基金支付金额 (0 on a 20-byte record).
    pub pooled: Fen,
    /// The record's length: 20 or 28.
    pub mode: ProcessingMode,
}

impl DetailRecord {
    /// Parses a record of 20 or 28 bytes; `None` for any other length.
    pub fn parse(bytes: &[u8]) -> Option<DetailRecord> {
        let mode = ProcessingMode::from_record_len(bytes.len())?;
        let fen = |i: usize| -> Option<Fen> {
            Some(Fen::from_bytes(bytes.get(i..i + 4)?.try_into().ok()?))
        };
        let terminal: [u8; 6] = bytes.get(3..9)?.try_into().ok()?;
        let time = bytes.get(9..16)?;
        let (self_pay, pooled) = match mode {
            ProcessingMode::ThreeAmounts => (fen(20)?, fen(24)?),
            ProcessingMode::AccountOnly => (Fen::ZERO, Fen::ZERO),
        };
        Some(DetailRecord {
            serial: u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]),
            type_code: char::from(*bytes.get(2)?),
            terminal: hex::encode_upper(terminal),
            time: hex::encode_upper(time),
            account: fen(16)?,
            self_pay,
            pooled,
            mode,
        })
    }

    /// The record as the card OS writes it.
    pub fn encode(
        mode: ProcessingMode,
        serial: u16,
        kind: TransactionKind,
        terminal: TerminalNumber,
        time: [u8; 7],
        amounts: PurchaseAmounts,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(mode.record_len());
        out.extend_from_slice(&serial.to_be_bytes());
        out.push(kind.record_code());
        out.extend_from_slice(&terminal.0);
        out.extend_from_slice(&time);
        out.extend_from_slice(&amounts.account.to_bytes());
        if mode == ProcessingMode::ThreeAmounts {
            out.extend_from_slice(&amounts.self_pay.to_bytes());
            out.extend_from_slice(&amounts.pooled.to_bytes());
        }
        out
    }

    /// The kind of transaction the record's type names, if it is one of table 51's.
    pub fn kind(&self) -> Option<TransactionKind> {
        u8::try_from(self.type_code)
            .ok()
            .and_then(TransactionKind::from_record_code)
    }
}

/// The answer of the reader interface's `iReadDebitRecord` (§9.1.2) for the card's purchase
/// records (type `'2'`), newest first: each record `交易序号^终端机编号^交易时间^本次消费总金额^
/// 个人账户交易金额和统筹基金支付金额相加的总金额^`, records separated and ended by `|`. The
/// serial is decimal, the time `YYYYMMDDHHMMSS`, the two amounts in yuan with two decimals: the
/// record's self-pay and pooled fields, which `iDoDebit` fills with those two amounts
/// **\[design D36\]**. Empty when the card has no purchase.
pub fn ri_debit_records(records: &[DetailRecord]) -> String {
    let mut out = String::new();
    for r in records
        .iter()
        .filter(|r| r.kind() == Some(TransactionKind::Purchase))
    {
        out.push_str(&format!(
            "{}^{}^{}^{}^{}^|",
            r.serial,
            r.terminal,
            r.time,
            r.self_pay.yuan(),
            r.pooled.yuan()
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::account::TransactionTime;

    #[test]
    fn records_of_both_lengths() {
        let t = TerminalNumber::parse("639900000042").unwrap();
        let time = TransactionTime::parse("20240615093000").unwrap();
        let amounts = PurchaseAmounts {
            account: Fen(1250),
            self_pay: Fen(300),
            pooled: Fen(4000),
        };
        let long = DetailRecord::encode(
            ProcessingMode::ThreeAmounts,
            7,
            TransactionKind::Purchase,
            t,
            time.to_bcd(),
            amounts,
        );
        assert_eq!(
            hex::encode_upper(&long),
            [
                "0007",
                "32",
                "639900000042",
                "20240615093000",
                "000004E2",
                "0000012C",
                "00000FA0"
            ]
            .concat()
        );
        let r = DetailRecord::parse(&long).unwrap();
        assert_eq!(r.serial, 7);
        assert_eq!(r.kind(), Some(TransactionKind::Purchase));
        assert_eq!(r.terminal, "639900000042");
        assert_eq!(r.time, "20240615093000");
        assert_eq!(
            (r.account, r.self_pay, r.pooled),
            (Fen(1250), Fen(300), Fen(4000))
        );
        let short = DetailRecord::encode(
            ProcessingMode::AccountOnly,
            1,
            TransactionKind::Credit,
            t,
            time.to_bcd(),
            amounts,
        );
        assert_eq!(short.len(), 20);
        let r2 = DetailRecord::parse(&short).unwrap();
        assert_eq!((r2.self_pay, r2.pooled), (Fen(0), Fen(0)));
        assert_eq!(r2.kind(), Some(TransactionKind::Credit));
        assert_eq!(DetailRecord::parse(&long[..27]), None);
        assert_eq!(
            ri_debit_records(&[r.clone(), r2, r]),
            "7^639900000042^20240615093000^3.00^40.00^|7^639900000042^20240615093000^3.00^40.00^|"
        );
        assert_eq!(ri_debit_records(&[]), "");
    }
}

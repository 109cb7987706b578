//! The account commands of part 5 §7 (CLA `B0`) and the PSAM's purchase commands of part 9
//! §9.9-9.10, one pure constructor each. Their cryptograms are redacted in traces as
//! [`crate::apdu::sensitivity`] says — the MAC at the end of CREDIT FOR LOAD and DEBIT FOR
//! PURCHASE, MAC2 to the PSAM, and the answers carrying MAC1, MAC2 or TAC — and the
//! constructors mark the same.

use zeroize::Zeroizing;

use super::{BalanceKind, Fen, PurchaseAmounts, TerminalNumber, TransactionKind, TransactionTime};
use crate::apdu::commands::{CLA_ACCOUNT, CLA_PROPRIETARY};
use crate::apdu::{instruction as ins, Command};

/// INITIALIZE FOR LOAD `B028 0001 0B <key index> <amount 4> <terminal 6> 10` (part 5 §7.5):
/// the answer carries MAC1, so it is redacted in traces.
pub fn initialize_for_load(key_index: u8, amount: Fen, terminal: TerminalNumber) -> Command {
    let mut data = vec![key_index];
    data.extend_from_slice(&amount.to_bytes());
    data.extend_from_slice(&terminal.0);
    Command::new(CLA_ACCOUNT, ins::INITIALIZE, 0x00, 0x01)
        .with_data(data)
        .with_le(0x10)
        .with_sensitive_response()
}

/// CREDIT FOR LOAD `B02A 0000 0B <host time 7> <MAC2 4> 04` (part 5 §7.1): answers the TAC.
pub fn credit_for_load(host_time: TransactionTime, mac2: [u8; 4]) -> Command {
    let mut data = host_time.to_bcd().to_vec();
    data.extend_from_slice(&mac2);
    Command::new(CLA_ACCOUNT, ins::CREDIT_FOR_LOAD, 0x00, 0x00)
        .with_data(data)
        .with_le(0x04)
        .with_sensitive_response()
}

/// INITIALIZE FOR PURCHASE `B028 0101 13 <key index> <account 4> <self-pay 4> <pooled 4>
/// <terminal 6> 16` (part 5 §7.6).
pub fn initialize_for_purchase(
    key_index: u8,
    amounts: PurchaseAmounts,
    terminal: TerminalNumber,
) -> Command {
    let mut data = vec![key_index];
    data.extend_from_slice(&amounts.to_bytes());
    data.extend_from_slice(&terminal.0);
    Command::new(CLA_ACCOUNT, ins::INITIALIZE, 0x01, 0x01)
        .with_data(data)
        .with_le(0x16)
}

/// DEBIT FOR PURCHASE `B02C 0100 0F <terminal serial 4> <time 7> <MAC1 4> 08` (part 5 §7.2):
/// answers TAC ‖ MAC2.
pub fn debit_for_purchase(terminal_serial: u32, time: TransactionTime, mac1: [u8; 4]) -> Command {
    let mut data = terminal_serial.to_be_bytes().to_vec();
    data.extend_from_slice(&time.to_bcd());
    data.extend_from_slice(&mac1);
    Command::new(CLA_ACCOUNT, ins::DEBIT_FOR_PURCHASE, 0x01, 0x00)
        .with_data(data)
        .with_le(0x08)
        .with_sensitive_response()
}

/// GET BALANCE `B026 00 <01|02|03> <04|06>` (part 5 §7.3).
pub fn get_balance(kind: BalanceKind) -> Command {
    Command::new(CLA_ACCOUNT, ins::GET_BALANCE, 0x00, kind.p2()).with_le(kind.le())
}

/// GET TRANSACTION PROOF `B02E 00 <type> 02 <serial 2> 08` (part 5 §7.4): answers MAC ‖ TAC.
pub fn get_transaction_proof(kind: TransactionKind, serial: u16) -> Command {
    Command::new(
        CLA_ACCOUNT,
        ins::GET_TRANSACTION_PROOF,
        0x00,
        kind.type_byte(),
    )
    .with_data(serial.to_be_bytes().to_vec())
    .with_le(0x08)
    .with_sensitive_response()
}

/// UPDATE STARTING DAY `B056 0000 02 <mmdd>` (part 5 §7.7), after EXTERNAL AUTHENTICATION with
/// DSK.
pub fn update_starting_day(mmdd: [u8; 2]) -> Command {
    Command::new(CLA_ACCOUNT, ins::STARTING_DAY, 0x00, 0x00).with_data(mmdd.to_vec())
}

/// GET STARTING DAY `B056 0100 02` (part 5 §7.8).
pub fn get_starting_day() -> Command {
    Command::new(CLA_ACCOUNT, ins::STARTING_DAY, 0x01, 0x00).with_le(0x02)
}

/// The data of INIT SAM FOR PURCHASE without the factors (part 9 §9.9.3, `1C` bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mac1Request {
    /// The card's random (用户卡随机数).
    pub card_random: [u8; 4],
    /// The card's purchase serial (用户卡交易序号).
    pub card_serial: u16,
    /// The three amounts (个人帐户交易金额, 统筹项目个人帐户支付金额 = the self-pay amount,
    /// 统筹基金支付金额).
    pub amounts: PurchaseAmounts,
    /// The transaction type byte (`02`).
    pub type_byte: u8,
    /// The terminal's date and time (4 + 3 bytes).
    pub time: TransactionTime,
    /// The card's DPK version (医疗消费密钥版本号).
    pub key_version: u8,
    /// The card's algorithm identifier (医疗消费密钥算法标识).
    pub algorithm: u8,
    /// The terminal number MAC1 covers (a PSAM uses its own EF 0016, which must be the same).
    pub terminal: TerminalNumber,
}

impl Mac1Request {
    /// The `1C` bytes of INIT SAM FOR PURCHASE before the factors.
    pub fn to_bytes(&self) -> [u8; 0x1C] {
        let mut out = [0u8; 0x1C];
        out[..4].copy_from_slice(&self.card_random);
        out[4..6].copy_from_slice(&self.card_serial.to_be_bytes());
        out[6..18].copy_from_slice(&self.amounts.to_bytes());
        out[18] = self.type_byte;
        out[19..26].copy_from_slice(&self.time.to_bcd());
        out[26] = self.key_version;
        out[27] = self.algorithm;
        out
    }
}

/// INIT SAM FOR PURCHASE `8070 0100 <1C + 8N> <data> <factors, last level first> 08` (part 9
/// §9.9): answers terminal serial ‖ MAC1.
pub fn init_sam_for_purchase(request: &Mac1Request, factors: &[[u8; 8]]) -> Command {
    let mut data = request.to_bytes().to_vec();
    for f in factors {
        data.extend_from_slice(f);
    }
    Command::new(CLA_PROPRIETARY, ins::INIT_SAM_FOR_PURCHASE, 0x01, 0x00)
        .with_data(data)
        .with_le(0x08)
        .with_sensitive_response()
}

/// CREDIT SAM FOR PURCHASE `8072 0000 04 <MAC2>` (part 9 §9.10).
pub fn credit_sam_for_purchase(mac2: [u8; 4]) -> Command {
    Command::new(CLA_PROPRIETARY, ins::CREDIT_SAM_FOR_PURCHASE, 0x00, 0x00)
        .with_sensitive_data(Zeroizing::new(mac2.to_vec()))
        .without_le()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn bytes(c: &Command) -> String {
        hex::encode_upper(c.to_bytes().unwrap())
    }

    /// The layouts of part 5 tables 50-78 and part 9 tables 27, 30, byte for byte.
    #[test]
    fn command_layouts() {
        let t = TerminalNumber::parse("639900000042").unwrap();
        let time = TransactionTime::parse("20240615093000").unwrap();
        assert_eq!(
            bytes(&initialize_for_load(1, Fen(10_000), t)),
            "B02800010B010000271063990000004210"
        );
        assert_eq!(
            bytes(&credit_for_load(time, [1, 2, 3, 4])),
            "B02A00000B2024061509300001020304".to_owned() + "04"
        );
        let amounts = PurchaseAmounts {
            account: Fen(0x10),
            self_pay: Fen(0x20),
            pooled: Fen(0x30),
        };
        assert_eq!(
            bytes(&initialize_for_purchase(1, amounts, t)),
            "B0280101130100000010000000200000003063990000004216"
        );
        assert_eq!(
            bytes(&debit_for_purchase(0x0102_0304, time, [9, 9, 9, 9])),
            "B02C01000F010203042024061509300009090909".to_owned() + "08"
        );
        assert_eq!(bytes(&get_balance(BalanceKind::Account)), "B026000104");
        assert_eq!(bytes(&get_balance(BalanceKind::PooledTotal)), "B026000306");
        assert_eq!(
            bytes(&get_transaction_proof(TransactionKind::Purchase, 7)),
            "B02E0002020007".to_owned() + "08"
        );
        assert_eq!(bytes(&update_starting_day([0x07, 0x01])), "B0560000020701");
        assert_eq!(bytes(&get_starting_day()), "B056010002");
        let req = Mac1Request {
            card_random: [0xA1, 0xA2, 0xA3, 0xA4],
            card_serial: 5,
            amounts,
            type_byte: 2,
            time,
            key_version: 1,
            algorithm: 3,
            terminal: t,
        };
        let c = init_sam_for_purchase(&req, &[[0x11; 8], [0x22; 8]]);
        assert_eq!(c.data().len(), 0x1C + 16);
        assert_eq!(&bytes(&c)[..10], "807001002C");
        assert_eq!(
            bytes(&credit_sam_for_purchase([1, 2, 3, 4])),
            "807200000401020304"
        );
        // the cryptograms are redacted in traces: the constructors agree with the policy
        use crate::apdu::sensitivity::{classify, DataSecret};
        for c in [
            initialize_for_load(1, Fen(1), t),
            credit_for_load(time, [0; 4]),
            initialize_for_purchase(1, amounts, t),
            debit_for_purchase(1, time, [0; 4]),
            get_transaction_proof(TransactionKind::Credit, 1),
            init_sam_for_purchase(&req, &[[0; 8]]),
            credit_sam_for_purchase([0; 4]),
        ] {
            let policy = classify(c.cla, c.ins, c.p1);
            assert_eq!(c.has_sensitive_response(), policy.response, "{c:?}");
            let secret = match policy.data {
                DataSecret::All => c.data().len(),
                DataSecret::Tail(n) => n,
                _ => 0,
            };
            assert_eq!(
                c.is_sensitive(),
                secret == c.data().len() && secret > 0,
                "{c:?}"
            );
        }
    }
}

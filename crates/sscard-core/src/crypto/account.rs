//! The cryptograms of the medical account (part 7 §11-12, §15; part 4 §8.2.4, §8.4; part 9
//! §9.9): the process keys SESLK and SESPK, MAC1, MAC2 and TAC.
//!
//! Every MAC is part 4 §8.2.4's algorithm over the transaction data alone ("医疗保险交易 MAC 的
//! 计算不含有 CLA，INS，P1，P2，Lc 数据块"): zero initial value, `80` padding always, 4 bytes
//! (folded for 16-byte blocks). Process keys are part 4 §8.4's: the 8-byte input enciphered
//! with the card key (padded with `00` to 16 bytes on SM4 cards). The TAC uses no process key:
//! DTK directly, its halves XORed on 8-byte-block cards (part 7 §15, [`super::tac_key`]).

use zeroize::Zeroizing;

use super::{mac, process_key, tac_key, CryptoError, SecretKey, MAC_LEN};
use crate::account::{Fen, PurchaseAmounts, TerminalNumber, TransactionKind, TransactionTime};
use crate::Algorithm;

/// SESLK, the process key of a credit (part 7 §11.2): DLK over `random(ICC) ‖ credit serial ‖
/// 8000`.
pub fn seslk(
    alg: Algorithm,
    dlk: &SecretKey,
    random: [u8; 4],
    serial: u16,
) -> Result<SecretKey, CryptoError> {
    let mut input = Zeroizing::new(random.to_vec());
    input.extend_from_slice(&serial.to_be_bytes());
    input.extend_from_slice(&[0x80, 0x00]);
    process_key(alg, dlk, &input)
}

/// SESPK, the process key of a purchase (part 7 §12.2; part 9 §9.9.1): DPK over `random(ICC)
/// ‖ purchase serial ‖ the rightmost 2 bytes of the terminal serial`.
pub fn sespk(
    alg: Algorithm,
    dpk: &SecretKey,
    random: [u8; 4],
    serial: u16,
    terminal_serial: u32,
) -> Result<SecretKey, CryptoError> {
    let mut input = Zeroizing::new(random.to_vec());
    input.extend_from_slice(&serial.to_be_bytes());
    input.extend_from_slice(&terminal_serial.to_be_bytes()[2..]);
    process_key(alg, dpk, &input)
}

/// The data of a credit's MAC1 (part 7 §11.2): balance ‖ amount ‖ type ‖ terminal number.
pub fn credit_mac1_input(
    balance: Fen,
    amount: Fen,
    kind: TransactionKind,
    terminal: TerminalNumber,
) -> Vec<u8> {
    let mut m = balance.to_bytes().to_vec();
    m.extend_from_slice(&amount.to_bytes());
    m.push(kind.type_byte());
    m.extend_from_slice(&terminal.0);
    m
}

/// A credit's MAC1 under SESLK: the card proves itself to the host.
pub fn credit_mac1(
    alg: Algorithm,
    seslk: &SecretKey,
    balance: Fen,
    amount: Fen,
    terminal: TerminalNumber,
) -> Result<[u8; MAC_LEN], CryptoError> {
    mac(
        alg,
        seslk,
        &credit_mac1_input(balance, amount, TransactionKind::Credit, terminal),
    )
}

/// The data of a credit's MAC2 (part 7 §11.5): amount ‖ type ‖ terminal number ‖ host time.
pub fn credit_mac2_input(amount: Fen, terminal: TerminalNumber, host_time: [u8; 7]) -> Vec<u8> {
    let mut m = amount.to_bytes().to_vec();
    m.push(TransactionKind::Credit.type_byte());
    m.extend_from_slice(&terminal.0);
    m.extend_from_slice(&host_time);
    m
}

/// A credit's MAC2 under SESLK: the host proves itself to the card.
pub fn credit_mac2(
    alg: Algorithm,
    seslk: &SecretKey,
    amount: Fen,
    terminal: TerminalNumber,
    host_time: [u8; 7],
) -> Result<[u8; MAC_LEN], CryptoError> {
    mac(alg, seslk, &credit_mac2_input(amount, terminal, host_time))
}

/// A credit's TAC with DTK (part 7 §11.8, §15): balance **after** the credit **\[design D31\]** ‖
/// credit serial before its increment ‖ amount ‖ type ‖ terminal number ‖ host time.
pub fn credit_tac(
    alg: Algorithm,
    dtk: &SecretKey,
    new_balance: Fen,
    serial: u16,
    amount: Fen,
    terminal: TerminalNumber,
    host_time: [u8; 7],
) -> Result<[u8; MAC_LEN], CryptoError> {
    let mut m = new_balance.to_bytes().to_vec();
    m.extend_from_slice(&serial.to_be_bytes());
    m.extend_from_slice(&amount.to_bytes());
    m.push(TransactionKind::Credit.type_byte());
    m.extend_from_slice(&terminal.0);
    m.extend_from_slice(&host_time);
    mac(alg, &tac_key(alg, dtk)?, &m)
}

/// The data of a purchase's MAC1 (part 7 §12.3): account ‖ self-pay ‖ pooled ‖ type ‖
/// terminal number ‖ terminal time (date 4 ‖ time 3, part 9 §9.9.1).
pub fn purchase_mac1_input(
    amounts: PurchaseAmounts,
    type_byte: u8,
    terminal: TerminalNumber,
    time: [u8; 7],
) -> Vec<u8> {
    let mut m = amounts.to_bytes().to_vec();
    m.push(type_byte);
    m.extend_from_slice(&terminal.0);
    m.extend_from_slice(&time);
    m
}

/// A purchase's MAC1 under SESPK: the PSAM proves itself to the card.
pub fn purchase_mac1(
    alg: Algorithm,
    sespk: &SecretKey,
    amounts: PurchaseAmounts,
    type_byte: u8,
    terminal: TerminalNumber,
    time: [u8; 7],
) -> Result<[u8; MAC_LEN], CryptoError> {
    mac(
        alg,
        sespk,
        &purchase_mac1_input(amounts, type_byte, terminal, time),
    )
}

/// A purchase's MAC2 under SESPK (part 7 §12.6): over the three amounts; the card proves
/// itself to the PSAM.
pub fn purchase_mac2(
    alg: Algorithm,
    sespk: &SecretKey,
    amounts: PurchaseAmounts,
) -> Result<[u8; MAC_LEN], CryptoError> {
    mac(alg, sespk, &amounts.to_bytes())
}

/// A purchase's TAC with DTK (part 7 §12.6, §15): account ‖ self-pay ‖ pooled ‖ type ‖
/// terminal number ‖ terminal serial ‖ terminal time.
pub fn purchase_tac(
    alg: Algorithm,
    dtk: &SecretKey,
    amounts: PurchaseAmounts,
    terminal: TerminalNumber,
    terminal_serial: u32,
    time: TransactionTime,
) -> Result<[u8; MAC_LEN], CryptoError> {
    purchase_tac_raw(alg, dtk, amounts, terminal, terminal_serial, time.to_bcd())
}

/// [`purchase_tac`] over the time bytes as the command carried them.
pub fn purchase_tac_raw(
    alg: Algorithm,
    dtk: &SecretKey,
    amounts: PurchaseAmounts,
    terminal: TerminalNumber,
    terminal_serial: u32,
    time: [u8; 7],
) -> Result<[u8; MAC_LEN], CryptoError> {
    let mut m = amounts.to_bytes().to_vec();
    m.push(TransactionKind::Purchase.type_byte());
    m.extend_from_slice(&terminal.0);
    m.extend_from_slice(&terminal_serial.to_be_bytes());
    m.extend_from_slice(&time);
    mac(alg, &tac_key(alg, dtk)?, &m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::{encipher, pad_80};

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    /// The process keys from their raw ciphers: 3DES of the 8-byte input, SM4 of it padded to
    /// 16 with `00` (part 4 §8.4.1 figure 8, §8.4.2 figure 9).
    #[test]
    fn process_keys_from_the_raw_ciphers() {
        let k = key("404142434445464748494A4B4C4D4E4F");
        let r = [0xA1, 0xB2, 0xC3, 0xD4];
        let l = seslk(Algorithm::Tdes, &k, r, 0x0005).unwrap();
        assert_eq!(
            l.expose_bytes(),
            encipher(
                Algorithm::Tdes,
                &k,
                &[0xA1, 0xB2, 0xC3, 0xD4, 0x00, 0x05, 0x80, 0x00]
            )
            .unwrap()
            .as_slice()
        );
        let p = sespk(Algorithm::Sm4, &k, r, 0x0102, 0xAABB_CCDD).unwrap();
        let mut input = vec![0xA1, 0xB2, 0xC3, 0xD4, 0x01, 0x02, 0xCC, 0xDD];
        input.resize(16, 0);
        assert_eq!(
            p.expose_bytes(),
            encipher(Algorithm::Sm4, &k, &input).unwrap().as_slice()
        );
        assert_eq!(p.len(), 16);
    }

    /// A purchase's MAC1 on a 3DES card: 26 bytes of data, 4 DES blocks with the padding, CBC
    /// from zero with the single-length SESPK, the left 4 bytes; no command header.
    #[test]
    fn purchase_mac1_is_over_the_data_alone() {
        let sespk = key("0123456789ABCDEF");
        let amounts = PurchaseAmounts {
            account: Fen(1250),
            self_pay: Fen(300),
            pooled: Fen(4000),
        };
        let t = TerminalNumber::parse("639900000042").unwrap();
        let time = [0x20, 0x24, 0x06, 0x15, 0x09, 0x30, 0x00];
        let data = purchase_mac1_input(amounts, 2, t, time);
        assert_eq!(data.len(), 26);
        let padded = pad_80(&data, 8);
        let mut state = [0u8; 8];
        for block in padded.chunks(8) {
            for (s, b) in state.iter_mut().zip(block) {
                *s ^= b;
            }
            let next = encipher(Algorithm::Tdes, &sespk, &state).unwrap();
            state.copy_from_slice(&next);
        }
        assert_eq!(
            purchase_mac1(Algorithm::Tdes, &sespk, amounts, 2, t, time).unwrap(),
            state[..4]
        );
    }

    /// The TAC is a MAC with DTK itself (SM4) or DTK's halves XORed (3DES), part 7 §15.
    #[test]
    fn tac_uses_dtk_without_process_key() {
        let dtk = key("0102030405060708F0F0F0F0F0F0F0F0");
        let t = TerminalNumber::parse("639900000042").unwrap();
        let time = [0x20, 0x24, 0x06, 0x15, 0x09, 0x30, 0x00];
        let amounts = PurchaseAmounts::account_only(Fen(99));
        let mut m = amounts.to_bytes().to_vec();
        m.push(2);
        m.extend_from_slice(&t.0);
        m.extend_from_slice(&7u32.to_be_bytes());
        m.extend_from_slice(&time);
        assert_eq!(m.len(), 30);
        let folded = key("F1F2F3F4F5F6F7F8");
        assert_eq!(
            purchase_tac_raw(Algorithm::Tdes, &dtk, amounts, t, 7, time).unwrap(),
            mac(Algorithm::Tdes, &folded, &m).unwrap()
        );
        assert_eq!(
            purchase_tac_raw(Algorithm::Sm4, &dtk, amounts, t, 7, time).unwrap(),
            mac(Algorithm::Sm4, &dtk, &m).unwrap()
        );
        // credit TAC: balance ‖ serial ‖ amount ‖ type ‖ terminal ‖ host time = 24 bytes
        let mut c = Fen(500).to_bytes().to_vec();
        c.extend_from_slice(&[0x00, 0x03]);
        c.extend_from_slice(&Fen(200).to_bytes());
        c.push(1);
        c.extend_from_slice(&t.0);
        c.extend_from_slice(&time);
        assert_eq!(c.len(), 24);
        assert_eq!(
            credit_tac(Algorithm::Sm4, &dtk, Fen(500), 3, Fen(200), t, time).unwrap(),
            mac(Algorithm::Sm4, &dtk, &c).unwrap()
        );
        assert_eq!(
            credit_mac1_input(Fen(1), Fen(2), TransactionKind::Credit, t).len(),
            15
        );
        assert_eq!(credit_mac2_input(Fen(2), t, time).len(), 18);
    }
}

//! The MAC of secure messaging (报文鉴别代码), part 4 §8.2.4, and the TAC key of part 7 §15.

use zeroize::Zeroizing;

use super::block::CardCipher;
use super::{CryptoError, SecretKey};
use crate::Algorithm;

/// Length of a MAC (part 4 §8.2.2), a TAC and the MAC1/MAC2 of the account transactions.
pub const MAC_LEN: usize = 4;

/// Padding of part 4 §8.2.4 step four: `80` then `00` up to a whole number of blocks, always
/// at least one byte (a message that fills its last block gets a whole block of padding).
pub fn pad_80(message: &[u8], block: usize) -> Zeroizing<Vec<u8>> {
    let padded_len = (message.len() / block + 1) * block;
    let mut out = Zeroizing::new(Vec::with_capacity(padded_len));
    out.extend_from_slice(message);
    out.push(0x80);
    out.resize(padded_len, 0x00);
    out
}

/// The last CBC block of `padded` (whole blocks) under `key`, initial value zero.
fn cbc_last(
    alg: Algorithm,
    key: &SecretKey,
    padded: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let block = alg.block_len();
    super::block::check_whole_blocks(padded, block)?;
    let cipher = CardCipher::new(alg, key)?;
    let mut state = Zeroizing::new(vec![0u8; block]);
    for chunk in padded.chunks(block) {
        for (s, d) in state.iter_mut().zip(chunk) {
            *s ^= d;
        }
        cipher.encrypt(&mut state)?;
    }
    Ok(state)
}

/// Reduces the last CBC block to the 4-byte MAC: the left 4 bytes for 8-byte blocks (part 4
/// §8.2.4.1 step six), the XOR of the four 4-byte groups for 16-byte blocks (§8.2.4.2 step six).
pub fn reduce_mac(alg: Algorithm, last_block: &[u8]) -> [u8; MAC_LEN] {
    let mut out = [0u8; MAC_LEN];
    if alg.block_len() == 8 {
        for (o, b) in out.iter_mut().zip(last_block) {
            *o = *b;
        }
    } else {
        for (i, b) in last_block.iter().enumerate() {
            out[i % MAC_LEN] ^= b;
        }
    }
    out
}

/// The MAC of `message` under the process key `session` (part 4 §8.2.4): the message is padded
/// with [`pad_80`], enciphered in CBC mode from an all-zero initial value with the cipher of the
/// key (single DES for the single-length process keys of 3DES cards, SM4 for SM4 cards), and
/// the last block reduced with [`reduce_mac`].
///
/// For a command, `message` is `CLA INS P1 P2 Lc ‖ data` with Lc counting the MAC; for the
/// account transactions (MAC1, MAC2, TAC) it is the transaction data alone.
pub fn mac(
    alg: Algorithm,
    session: &SecretKey,
    message: &[u8],
) -> Result<[u8; MAC_LEN], CryptoError> {
    let padded = pad_80(message, alg.block_len());
    let last = cbc_last(alg, session, &padded)?;
    Ok(reduce_mac(alg, &last))
}

/// The key a TAC is computed with (part 7 §15): with 8-byte blocks the XOR of the left and right
/// halves of the card's DTK (a single-length key), with 16-byte blocks DTK itself.
pub fn tac_key(alg: Algorithm, dtk: &SecretKey) -> Result<SecretKey, CryptoError> {
    let bytes = dtk.expose_bytes();
    if alg.block_len() == 8 && bytes.len() == 16 {
        let folded: Zeroizing<Vec<u8>> = Zeroizing::new(
            bytes[..8]
                .iter()
                .zip(&bytes[8..])
                .map(|(a, b)| a ^ b)
                .collect(),
        );
        SecretKey::from_bytes(&folded)
    } else {
        Ok(dtk.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::crypto::encipher;

    fn key(text: &str) -> SecretKey {
        SecretKey::from_hex(text).unwrap()
    }

    #[test]
    fn padding_always_adds() {
        assert_eq!(pad_80(&[], 8).as_slice(), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pad_80(&[1; 7], 8).as_slice(), [1, 1, 1, 1, 1, 1, 1, 0x80]);
        assert_eq!(pad_80(&[1; 8], 8).len(), 16);
        assert_eq!(pad_80(&[1; 8], 8)[8], 0x80);
        assert_eq!(pad_80(&[1; 5], 16).len(), 16);
        assert_eq!(pad_80(&[1; 16], 16).len(), 32);
    }

    /// APPLICATION BLOCK `84 1E 00 01 04`: one padded block, so the MAC is the left 4 bytes of
    /// `DES_SK(841E000104800000)` (part 4 §8.2.4.1, footnote 1: Lc counts the MAC).
    #[test]
    fn one_block_des_mac() {
        let sk = key("0123456789ABCDEF");
        let header = [0x84, 0x1E, 0x00, 0x01, 0x04];
        let block = encipher(
            Algorithm::Tdes,
            &sk,
            &[0x84, 0x1E, 0x00, 0x01, 0x04, 0x80, 0x00, 0x00],
        )
        .unwrap();
        assert_eq!(
            mac(Algorithm::Tdes, &sk, &header).unwrap().as_slice(),
            &block[..4]
        );
    }

    /// Two blocks: CBC from a zero initial value.
    #[test]
    fn cbc_chaining_des_and_sm4_fold() {
        let sk = key("0123456789ABCDEF");
        let msg: Vec<u8> = (1..=12).collect();
        let p = pad_80(&msg, 8);
        let o1 = encipher(Algorithm::Tdes, &sk, &p[..8]).unwrap();
        let x: Vec<u8> = o1.iter().zip(&p[8..]).map(|(a, b)| a ^ b).collect();
        let o2 = encipher(Algorithm::Tdes, &sk, &x).unwrap();
        assert_eq!(
            mac(Algorithm::Tdes, &sk, &msg).unwrap().as_slice(),
            &o2[..4]
        );

        let sk16 = key("00112233445566778899AABBCCDDEEFF");
        let msg = hex::decode("8424000114").unwrap();
        let p = pad_80(&msg, 16);
        let o = encipher(Algorithm::Sm4, &sk16, &p).unwrap();
        let mut folded = [0u8; 4];
        for (i, b) in o.iter().enumerate() {
            folded[i % 4] ^= b;
        }
        assert_eq!(mac(Algorithm::Sm4, &sk16, &msg).unwrap(), folded);
    }

    #[test]
    fn tac_key_halves() {
        let dtk = key("0102030405060708F0F0F0F0F0F0F0F0");
        let k = tac_key(Algorithm::Tdes, &dtk).unwrap();
        assert_eq!(
            k.expose_bytes(),
            [0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8]
        );
        assert_eq!(tac_key(Algorithm::Sm4, &dtk).unwrap(), dtk);
    }
}

//! One pure constructor per command of the specification: part 5 (the card), part 9 (the PSAM),
//! and GET PROCESSING OPTIONS of the financial application. Nothing here talks to a card; send
//! the result with [`crate::channel::Channel`].
//!
//! Commands carrying a MAC are built from their data and the MAC; the MAC is computed over
//! [`mac_input`] (part 4 §8.2.4: `CLA INS P1 P2 Lc ‖ data`, Lc counting the MAC).

use zeroize::Zeroizing;

use super::instruction as ins;
use super::Command;

/// CLA of ISO commands.
pub const CLA_ISO: u8 = 0x00;
/// CLA of proprietary commands (CHANGE PIN, the PSAM's CIPHER DATA).
pub const CLA_PROPRIETARY: u8 = 0x80;
/// CLA of commands with secure messaging (part 4 §8.1: second nibble `4`).
pub const CLA_SECURE: u8 = 0x84;
/// CLA of the medical account commands (part 5 §7).
pub const CLA_ACCOUNT: u8 = 0xB0;
/// CLA of the PSAM's DELIVERY SESSION KEY and INITIALIZE ENVIRONMENT (part 9 §9.3, §9.7).
pub const CLA_PSAM_KEY: u8 = 0xBF;

/// P2 of PIN CHANGE/UNBLOCK: unblock, the try counter reset only (part 5 table 25).
pub const PIN_UNBLOCK_P2: u8 = 0x00;
/// P2 of PIN CHANGE/UNBLOCK: reload, a new PIN and the try counter reset (part 5 table 25).
pub const PIN_RELOAD_P2: u8 = 0x01;

/// P1 of CIPHER DATA (part 9 table 25): encipher, no block follows.
pub const CIPHER_ENCIPHER: u8 = 0x00;
/// P1 of CIPHER DATA: MAC of the only block (the first block is the initial value).
pub const CIPHER_MAC_ONLY: u8 = 0x05;

/// How READ RECORD and UPDATE RECORD address a record (P1 and the low 3 bits of P2, part 5
/// tables 32 and 44).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRef {
    /// By record number (P1, from 1), mode `100`.
    Number(u8),
    /// By record identifier (the SIMPLE-TLV tag), its first occurrence, mode `000`.
    Tag(u8),
    /// By record identifier, its next occurrence after the current record, mode `010`.
    NextTag(u8),
    /// By record identifier, its previous occurrence, mode `011`: UPDATE RECORD with it adds a
    /// record to a cyclic file (part 5 §6.13.1), the way a cyclic data area file is appended
    /// to.
    PreviousTag(u8),
}

impl RecordRef {
    /// P1 and P2 for this reference in the EF with short identifier `sfi` (`None`: the
    /// current EF). The SFI keeps its 5 low bits (valid SFIs are 1 to 30).
    pub fn p1_p2(self, sfi: Option<u8>) -> (u8, u8) {
        let (p1, mode) = match self {
            RecordRef::Number(n) => (n, 0b100),
            RecordRef::Tag(t) => (t, 0b000),
            RecordRef::NextTag(t) => (t, 0b010),
            RecordRef::PreviousTag(t) => (t, 0b011),
        };
        let sfi = sfi.unwrap_or(0) & 0x1F;
        (p1, (sfi << 3) | mode)
    }
}

fn with_mac(data: &[u8], mac: [u8; 4]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() + 4));
    out.extend_from_slice(data);
    out.extend_from_slice(&mac);
    out
}

/// The MAC input of a secured command: `CLA INS P1 P2 Lc ‖ data before the MAC`, where Lc
/// counts the 4 MAC bytes (part 4 §8.2.4, footnote 1). Lc is one byte (short APDUs only).
pub fn mac_input(cla: u8, ins: u8, p1: u8, p2: u8, data_before_mac: &[u8]) -> Vec<u8> {
    let lc = u8::try_from(data_before_mac.len() + 4).unwrap_or(u8::MAX);
    let mut out = Vec::with_capacity(5 + data_before_mac.len());
    out.extend_from_slice(&[cla, ins, p1, p2, lc]);
    out.extend_from_slice(data_before_mac);
    out
}

/// SELECT by name with the FCI asked for: `00A4 0400 Lc <AID> 00` (part 5 table 34: Le `00`).
pub fn select_aid(aid: &[u8]) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x04, 0x00)
        .with_data(aid.to_vec())
        .with_le(256)
}

/// SELECT by name without Le: `00A4 0400 Lc <AID>`, as the field trace sends it (a T=0 card
/// then offers its FCI with `61xx`).
pub fn select_aid_no_le(aid: &[u8]) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x04, 0x00).with_data(aid.to_vec())
}

/// SELECT the MF or a DF by file identifier: `00A4 0000 02 <FID>` (part 5 table 35).
pub fn select_df(fid: u16) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x00, 0x00).with_data(fid.to_be_bytes().to_vec())
}

/// SELECT an EF of the current DF by file identifier: `00A4 0200 02 <FID>` (part 5 table 35;
/// the field trace's `00A4020002EF05`).
pub fn select_ef(fid: u16) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x02, 0x00).with_data(fid.to_be_bytes().to_vec())
}

/// READ RECORD `00B2 P1 P2 Le` of a record of the EF `sfi` (`None`: the current EF); `le` is
/// the expected record length, the TLV included (1 to 256).
pub fn read_record(sfi: Option<u8>, record: RecordRef, le: usize) -> Command {
    let (p1, p2) = record.p1_p2(sfi);
    Command::new(CLA_ISO, ins::READ_RECORD, p1, p2).with_le(le)
}

/// UPDATE RECORD `00DC P1 P2 Lc <record>` (part 5 §6.13).
pub fn update_record(sfi: Option<u8>, record: RecordRef, tlv: Vec<u8>) -> Command {
    let (p1, p2) = record.p1_p2(sfi);
    Command::new(CLA_ISO, ins::UPDATE_RECORD, p1, p2).with_data(tlv)
}

/// P1 P2 of READ/UPDATE BINARY (part 5 tables 29 and 41): with an SFI, `100xxxxx` and a one-byte
/// offset; without, a 15-bit offset into the current EF. `None` when the offset does not fit.
pub fn binary_p1_p2(sfi: Option<u8>, offset: u16) -> Option<(u8, u8)> {
    match sfi {
        Some(sfi) => {
            let offset = u8::try_from(offset).ok()?;
            Some((0x80 | (sfi & 0x1F), offset))
        }
        None if offset <= 0x7FFF => {
            let [hi, lo] = offset.to_be_bytes();
            Some((hi, lo))
        }
        None => None,
    }
}

/// READ BINARY `00B0 P1 P2 Le` (part 5 §6.9); see [`binary_p1_p2`] for P1 P2.
pub fn read_binary(p1: u8, p2: u8, le: usize) -> Command {
    Command::new(CLA_ISO, ins::READ_BINARY, p1, p2).with_le(le)
}

/// UPDATE BINARY `00D6 P1 P2 Lc <data>` (part 5 §6.12).
pub fn update_binary(p1: u8, p2: u8, data: Vec<u8>) -> Command {
    Command::new(CLA_ISO, ins::UPDATE_BINARY, p1, p2).with_data(data)
}

/// GET CHALLENGE `0084 0000 Le`, Le 4, 8 or 16 (part 5 §6.5).
pub fn get_challenge(len: usize) -> Command {
    Command::new(CLA_ISO, ins::GET_CHALLENGE, 0x00, 0x00).with_le(len)
}

/// EXTERNAL AUTHENTICATION `0082 00 <key id> 10 <auth data> <original data> [<key version>]`
/// (part 5 §6.4).
pub fn external_authenticate(
    key_id: u8,
    auth: [u8; 8],
    original: [u8; 8],
    key_version: Option<u8>,
) -> Command {
    let mut data = Zeroizing::new(Vec::with_capacity(17));
    data.extend_from_slice(&auth);
    data.extend_from_slice(&original);
    data.extend(key_version);
    Command::new(CLA_ISO, ins::EXTERNAL_AUTHENTICATE, 0x00, key_id).with_sensitive_data(data)
}

/// INTERNAL AUTHENTICATION `0088 0000 10 <process factor> <original data> [<key version>]`
/// without Le, as the field trace sends it (part 5 §6.7; the answer is 8 bytes of
/// authentication data, offered with `61 08` by a T=0 card).
pub fn internal_authenticate(
    process_factor: [u8; 8],
    original: [u8; 8],
    key_version: Option<u8>,
) -> Command {
    let mut data = Vec::with_capacity(17);
    data.extend_from_slice(&process_factor);
    data.extend_from_slice(&original);
    data.extend(key_version);
    Command::new(CLA_ISO, ins::INTERNAL_AUTHENTICATE, 0x00, 0x00).with_data(data)
}

/// VERIFY `0020 0000 Lc <PIN as cn>` (part 5 §6.14).
pub fn verify(pin_cn: Zeroizing<Vec<u8>>) -> Command {
    Command::new(CLA_ISO, ins::VERIFY, 0x00, 0x00).with_sensitive_data(pin_cn)
}

/// VERIFY without data (Lc = `00`, part 5 §6.14.5; part 7 §5.6): asks whether a PIN is needed
/// (`63Cx`) or not (`9000`), without counting a try.
pub fn verify_probe() -> Command {
    Command::new(CLA_ISO, ins::VERIFY, 0x00, 0x00)
}

/// CHANGE PIN `805E 0100 Lc <old PIN> FF <new PIN>` (part 5 §6.3), PINs as cn.
pub fn change_pin(old_cn: &[u8], new_cn: &[u8]) -> Command {
    let mut data = Zeroizing::new(Vec::with_capacity(old_cn.len() + 1 + new_cn.len()));
    data.extend_from_slice(old_cn);
    data.push(0xFF);
    data.extend_from_slice(new_cn);
    Command::new(CLA_PROPRIETARY, ins::CHANGE_PIN, 0x01, 0x00).with_sensitive_data(data)
}

/// PIN CHANGE/UNBLOCK with P2 `01`, reload: `8424 0001 Lc <enciphered PIN> <MAC>` (part 5 §6.8).
pub fn pin_reload(enciphered_pin: &[u8], mac: [u8; 4]) -> Command {
    Command::new(CLA_SECURE, ins::PIN_CHANGE_UNBLOCK, 0x00, PIN_RELOAD_P2)
        .with_sensitive_data(with_mac(enciphered_pin, mac))
}

/// PIN CHANGE/UNBLOCK with P2 `00`, unblock: `8424 0000 04 <MAC>` (part 5 §6.8).
pub fn pin_unblock(mac: [u8; 4]) -> Command {
    Command::new(CLA_SECURE, ins::PIN_CHANGE_UNBLOCK, 0x00, PIN_UNBLOCK_P2)
        .with_sensitive_data(with_mac(&[], mac))
}

/// APPLICATION BLOCK `841E 0001 04 <MAC>` (part 5 §6.1): permanent.
pub fn application_block(mac: [u8; 4]) -> Command {
    Command::new(CLA_SECURE, ins::APPLICATION_BLOCK, 0x00, 0x01)
        .with_sensitive_data(with_mac(&[], mac))
}

/// CARD BLOCK `8416 0000 04 <MAC>` (part 5 §6.2).
pub fn card_block(mac: [u8; 4]) -> Command {
    Command::new(CLA_SECURE, ins::CARD_BLOCK, 0x00, 0x00).with_sensitive_data(with_mac(&[], mac))
}

/// GET RESPONSE `00C0 0000 Le` (part 5 §6.6).
pub fn get_response(le: usize) -> Command {
    Command::new(CLA_ISO, ins::GET_RESPONSE, 0x00, 0x00).with_le(le)
}

/// PSAM DELIVERY SESSION KEY `BFDE <usage> <key id> Lc <factors> <process factor>` (part 9
/// §9.7; factor order per `docs/interop-profile.md` D6: the last level applied first).
pub fn delivery_session_key(
    usage: u8,
    key_id: u8,
    factors: &[[u8; 8]],
    process_factor: &[u8],
) -> Command {
    let mut data = Zeroizing::new(Vec::with_capacity(8 * factors.len() + process_factor.len()));
    for f in factors {
        data.extend_from_slice(f);
    }
    data.extend_from_slice(process_factor);
    Command::new(CLA_PSAM_KEY, ins::DELIVERY_SESSION_KEY, usage, key_id).with_sensitive_data(data)
}

/// PSAM CIPHER DATA `80FA <P1> 00 Lc <data> Le` (part 9 §9.8). The data and the answer are
/// secret (they may be a PIN or authentication data).
pub fn cipher_data(p1: u8, data: &[u8], le: usize) -> Command {
    Command::new(CLA_PROPRIETARY, ins::CIPHER_DATA, p1, 0x00)
        .with_sensitive_data(Zeroizing::new(data.to_vec()))
        .with_le(le)
        .with_sensitive_response()
}

/// GET PROCESSING OPTIONS `80A8 0000 Lc 83 <len> <PDOL data> 00` of the financial application.
pub fn get_processing_options(pdol_data: &[u8]) -> Command {
    let mut data = Vec::with_capacity(2 + pdol_data.len());
    data.push(0x83);
    data.push(u8::try_from(pdol_data.len()).unwrap_or(u8::MAX));
    data.extend_from_slice(pdol_data);
    Command::new(CLA_PROPRIETARY, ins::GET_PROCESSING_OPTIONS, 0x00, 0x00)
        .with_data(data)
        .with_le(256)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn enc(c: &Command) -> String {
        hex::encode_upper(&*c.to_bytes().unwrap())
    }

    const SSSE: [u8; 15] = [
        0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
    ];

    /// P2's reference modes of part 5 tables 32 and 44, with the SFI in its high five bits.
    #[test]
    fn record_reference_modes() {
        assert_eq!(RecordRef::Number(3).p1_p2(Some(8)), (3, 0x44));
        assert_eq!(RecordRef::Tag(0x21).p1_p2(Some(0x15)), (0x21, 0xA8));
        assert_eq!(RecordRef::NextTag(0x21).p1_p2(Some(0x15)), (0x21, 0xAA));
        assert_eq!(RecordRef::PreviousTag(0x00).p1_p2(Some(0x15)), (0x00, 0xAB));
        assert_eq!(RecordRef::Tag(0x07).p1_p2(None), (0x07, 0x00));
        assert_eq!(
            enc(&update_record(
                Some(0x15),
                RecordRef::PreviousTag(0),
                vec![0x21, 0x01, 0x33]
            )),
            "00DC00AB03210133"
        );
    }

    /// The commands of the field trace (`加密机方式指令流.txt`), byte for byte.
    #[test]
    fn field_trace_commands() {
        assert_eq!(
            enc(&select_aid_no_le(&SSSE)),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
        );
        assert_eq!(enc(&select_ef(0xEF05)), "00A4020002EF05");
        assert_eq!(
            enc(&read_record(None, RecordRef::Tag(0x01), 0x12)),
            "00B2010012"
        );
        assert_eq!(
            enc(&read_record(None, RecordRef::Tag(0x4E), 0x16)),
            "00B24E0016"
        );
        assert_eq!(enc(&get_challenge(8)), "0084000008");
        let pf = hex::decode("32D9E876ADB31BBF").unwrap();
        let orig = hex::decode("DBF7A936D0D18C9E").unwrap();
        assert_eq!(
            enc(&internal_authenticate(
                pf.try_into().unwrap(),
                orig.try_into().unwrap(),
                None
            )),
            "008800001032D9E876ADB31BBFDBF7A936D0D18C9E"
        );
        let auth = hex::decode("774A08EDF447A1DE").unwrap();
        let orig = hex::decode("E603E2CAADAF02B6").unwrap();
        assert_eq!(
            enc(&external_authenticate(
                0x0A,
                auth.try_into().unwrap(),
                orig.try_into().unwrap(),
                None
            )),
            "0082000A10774A08EDF447A1DEE603E2CAADAF02B6"
        );
        let data = hex::decode("2bc19c17ae974cd2427039c301cff79f").unwrap();
        let mac = [0xfd, 0x93, 0x7a, 0xa7];
        assert_eq!(
            enc(&pin_reload(&data, mac)),
            "84240001142BC19C17AE974CD2427039C301CFF79FFD937AA7"
        );
    }

    #[test]
    fn select_and_records() {
        assert_eq!(
            enc(&select_aid(&SSSE)),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"
        );
        assert_eq!(enc(&select_df(0x3F00)), "00A40000023F00");
        assert_eq!(
            enc(&read_record(Some(5), RecordRef::Tag(3), 6)),
            "00B2032806"
        );
        assert_eq!(
            enc(&read_record(Some(6), RecordRef::Number(1), 0x14)),
            "00B2013414"
        );
        assert_eq!(
            enc(&update_record(Some(5), RecordRef::Tag(7), vec![7, 1, 0x41])),
            "00DC07280307 0141".replace(' ', "")
        );
        assert_eq!(binary_p1_p2(Some(8), 0x10), Some((0x88, 0x10)));
        assert_eq!(binary_p1_p2(Some(8), 0x100), None);
        assert_eq!(binary_p1_p2(None, 0x0F00), Some((0x0F, 0x00)));
        assert_eq!(binary_p1_p2(None, 0x8000), None);
        assert_eq!(enc(&read_binary(0x88, 0, 256)), "00B0880000");
    }

    #[test]
    fn pins_and_maintenance() {
        let c = verify(Zeroizing::new(vec![0x12, 0x34, 0x56]));
        assert_eq!(enc(&c), "0020000003123456");
        assert!(c.is_sensitive());
        assert_eq!(enc(&verify_probe()), "00200000");
        assert_eq!(
            enc(&change_pin(&[0x12, 0x34, 0x56], &[0x65, 0x43, 0x21])),
            "805E010007123456FF654321"
        );
        assert_eq!(enc(&pin_unblock([1, 2, 3, 4])), "842400000401020304");
        assert_eq!(enc(&application_block([1, 2, 3, 4])), "841E00010401020304");
        assert_eq!(enc(&card_block([1, 2, 3, 4])), "841600000401020304");
        assert_eq!(
            hex::encode_upper(mac_input(0x84, 0x1E, 0x00, 0x01, &[])),
            "841E000104"
        );
        assert_eq!(
            hex::encode_upper(mac_input(0x84, 0x24, 0x00, 0x01, &[0; 16])),
            format!("8424000114{}", "00".repeat(16))
        );
    }

    #[test]
    fn psam_and_financial() {
        let c = delivery_session_key(0x67, 0x08, &[[1; 8], [2; 8], [3; 8]], &[9; 8]);
        let bytes = enc(&c);
        assert!(bytes.starts_with("BFDE670820"));
        assert!(c.is_sensitive());
        assert_eq!(
            enc(&cipher_data(CIPHER_ENCIPHER, &[0; 8], 8)),
            "80FA0000080000000000000000 08".replace(' ', "")
        );
        assert_eq!(
            enc(&get_processing_options(&[])),
            "80A80000028300 00".replace(' ', "")
        );
    }
}

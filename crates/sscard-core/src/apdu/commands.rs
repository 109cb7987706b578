//! One pure constructor per command of `docs/card-os.md` (section 3: the card; section 5: the
//! PSAM). Nothing here talks to a card; send the result with [`crate::channel::Channel`].
//!
//! Every `le: u8` argument is the Le byte as sent: `0` means 256.
//!
//! Commands carrying a MAC take the header they will be sent with; the MAC is computed over
//! [`mac_input`] of that header (see the `*_HEADER` constants and [`application_block_header`]).

use zeroize::Zeroizing;

use super::instruction as ins;
use super::Command;

/// CLA of ISO commands.
pub const CLA_ISO: u8 = 0x00;
/// CLA of proprietary commands.
pub const CLA_PROPRIETARY: u8 = 0x80;
/// CLA of proprietary commands carrying a MAC.
pub const CLA_MAC: u8 = 0x84;
/// CLA of the PSAM DIVERSIFY command.
pub const CLA_PSAM_DIVERSIFY: u8 = 0xBF;

/// Header of PIN RELOAD with a new PIN (`8424 0001`).
pub const PIN_RELOAD_HEADER: [u8; 4] = [CLA_MAC, ins::PIN_RELOAD, 0x00, 0x01];
/// Header of PIN UNBLOCK, the counter reset only (`8424 0000`).
pub const PIN_UNBLOCK_HEADER: [u8; 4] = [CLA_MAC, ins::PIN_RELOAD, 0x00, 0x00];
/// Header of temporary APPLICATION BLOCK (`841E 0000`).
pub const APPLICATION_BLOCK_HEADER: [u8; 4] = [CLA_MAC, ins::APPLICATION_BLOCK, 0x00, 0x00];
/// Header of permanent APPLICATION BLOCK (`841E 0001`).
pub const APPLICATION_BLOCK_PERMANENT_HEADER: [u8; 4] =
    [CLA_MAC, ins::APPLICATION_BLOCK, 0x00, 0x01];
/// Header of APPLICATION UNBLOCK (`8418 0000`).
pub const APPLICATION_UNBLOCK_HEADER: [u8; 4] = [CLA_MAC, ins::APPLICATION_UNBLOCK, 0x00, 0x00];
/// Header of CARD BLOCK (`8416 0000`).
pub const CARD_BLOCK_HEADER: [u8; 4] = [CLA_MAC, ins::CARD_BLOCK, 0x00, 0x00];

/// P1 of PSAM CIPHER: encipher (ECB).
pub const PSAM_CIPHER_ENCIPHER: u8 = 0x00;
/// P1 of PSAM CIPHER: MAC.
pub const PSAM_CIPHER_MAC: u8 = 0x05;
/// P1 of PSAM DIVERSIFY.
pub const PSAM_DIVERSIFY_P1: u8 = 0x48;

/// How READ RECORD and UPDATE RECORD address a record (P1 and the low 3 bits of P2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRef {
    /// By record number (P1, from 1), mode `100`.
    Number(u8),
    /// By record identifier (the SIMPLE-TLV tag), first occurrence, mode `000`.
    Tag(u8),
    /// READ RECORD only: all records from number P1 to the last, mode `101`.
    AllFrom(u8),
}

impl RecordRef {
    /// P1 and P2 for this reference in the EF with short identifier `sfi` (`None`: the
    /// current EF). The SFI keeps its 5 low bits (valid SFIs are 1 to 30).
    pub fn p1_p2(self, sfi: Option<u8>) -> (u8, u8) {
        let (p1, mode) = match self {
            RecordRef::Number(n) => (n, 0b100),
            RecordRef::Tag(t) => (t, 0b000),
            RecordRef::AllFrom(n) => (n, 0b101),
        };
        let sfi = sfi.unwrap_or(0) & 0x1F;
        (p1, (sfi << 3) | mode)
    }
}

fn short_le(le: u8) -> usize {
    if le == 0 {
        256
    } else {
        usize::from(le)
    }
}

fn with_mac(data: &[u8], mac: [u8; 4]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() + 4));
    out.extend_from_slice(data);
    out.extend_from_slice(&mac);
    out
}

/// The MAC input of a secured command: `CLA INS P1 P2 Lc ‖ data before the MAC`, where Lc
/// counts the 4 MAC bytes (`docs/card-os.md` section 4). Lc is one byte, or `00` and two
/// bytes when it exceeds 255 (as [`Command::to_bytes`] would send it).
pub fn mac_input(cla: u8, ins: u8, p1: u8, p2: u8, data_before_mac: &[u8]) -> Vec<u8> {
    let lc = data_before_mac.len() + 4;
    let mut out = Vec::with_capacity(4 + 3 + data_before_mac.len());
    out.extend_from_slice(&[cla, ins, p1, p2]);
    if lc <= 255 {
        out.push(lc as u8);
    } else {
        out.push(0);
        out.push((lc >> 8) as u8);
        out.push(lc as u8);
    }
    out.extend_from_slice(data_before_mac);
    out
}

/// SELECT by AID with the FCI returned (`00A4 0400 Lc <AID> 00`).
pub fn select_aid(aid: &[u8]) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x04, 0x00)
        .with_data(aid.to_vec())
        .with_le(256)
}

/// SELECT by AID without response data (`00A4 0400 Lc <AID>`, case 3, as field terminals send it).
pub fn select_aid_no_response(aid: &[u8]) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x04, 0x00).with_data(aid.to_vec())
}

/// SELECT by file identifier (`00A4 0000 02 <FID>`); `3F00` selects the MF.
pub fn select_fid(fid: u16) -> Command {
    Command::new(CLA_ISO, ins::SELECT, 0x00, 0x00).with_data(fid.to_be_bytes().to_vec())
}

/// READ RECORD (`00B2 P1 P2 00`) of a record of the EF `sfi` (`None`: the current EF).
pub fn read_record(sfi: Option<u8>, record: RecordRef) -> Command {
    let (p1, p2) = record.p1_p2(sfi);
    Command::new(CLA_ISO, ins::READ_RECORD, p1, p2).with_le(256)
}

/// UPDATE RECORD (`00DC P1 P2 Lc <TLV>`): `tlv` is the whole SIMPLE-TLV record. Only
/// [`RecordRef::Number`] and [`RecordRef::Tag`] are valid here.
pub fn update_record(sfi: Option<u8>, record: RecordRef, tlv: Vec<u8>) -> Command {
    let (p1, p2) = record.p1_p2(sfi);
    Command::new(CLA_ISO, ins::UPDATE_RECORD, p1, p2).with_data(tlv)
}

/// GET CHALLENGE (`0084 0000 Le`): `len` random bytes (4, 8 or 16 on this card).
pub fn get_challenge(len: u8) -> Command {
    Command::new(CLA_ISO, ins::GET_CHALLENGE, 0x00, 0x00).with_le(short_le(len))
}

/// EXTERNAL AUTHENTICATE (`0082 00 <key id> Lc <cryptogram>`); the cryptogram is sensitive.
pub fn external_authenticate(key_id: u8, cryptogram: Zeroizing<Vec<u8>>) -> Command {
    Command::new(CLA_ISO, ins::EXTERNAL_AUTHENTICATE, 0x00, key_id).with_sensitive_data(cryptogram)
}

/// INTERNAL AUTHENTICATE (`0088 0000 Lc <process factor> <data> 00`); the response (the
/// card's cryptogram) is marked sensitive.
pub fn internal_authenticate(process_factor: [u8; 8], data: &[u8]) -> Command {
    let mut body = Vec::with_capacity(8 + data.len());
    body.extend_from_slice(&process_factor);
    body.extend_from_slice(data);
    Command::new(CLA_ISO, ins::INTERNAL_AUTHENTICATE, 0x00, 0x00)
        .with_data(body)
        .with_le(256)
        .with_sensitive_response()
}

/// VERIFY (`0020 0000 Lc <PIN BCD>`); the PIN is sensitive.
pub fn verify(pin_bcd: Zeroizing<Vec<u8>>) -> Command {
    Command::new(CLA_ISO, ins::VERIFY, 0x00, 0x00).with_sensitive_data(pin_bcd)
}

/// VERIFY without data (`0020 0000`, case 1): asks for the PIN try counter (`63Cx`).
pub fn verify_status() -> Command {
    Command::new(CLA_ISO, ins::VERIFY, 0x00, 0x00)
}

/// CHANGE PIN (`805E 0100 Lc <old BCD> FF <new BCD>`); sensitive.
pub fn change_pin(old_bcd: Zeroizing<Vec<u8>>, new_bcd: Zeroizing<Vec<u8>>) -> Command {
    let mut data = Zeroizing::new(Vec::with_capacity(old_bcd.len() + 1 + new_bcd.len()));
    data.extend_from_slice(&old_bcd);
    data.push(0xFF);
    data.extend_from_slice(&new_bcd);
    Command::new(CLA_PROPRIETARY, ins::CHANGE_PIN, 0x01, 0x00).with_sensitive_data(data)
}

/// PIN RELOAD (`8424 0001 Lc <PIN block> <MAC>`, header [`PIN_RELOAD_HEADER`]) with a PIN block,
/// or PIN UNBLOCK (`8424 0000 04 <MAC>`, header [`PIN_UNBLOCK_HEADER`]) without; sensitive.
pub fn pin_reload(pin_block: Option<Zeroizing<Vec<u8>>>, mac: [u8; 4]) -> Command {
    let (header, block) = match &pin_block {
        Some(block) => (PIN_RELOAD_HEADER, block.as_slice()),
        None => (PIN_UNBLOCK_HEADER, &[][..]),
    };
    let [cla, ins, p1, p2] = header;
    Command::new(cla, ins, p1, p2).with_sensitive_data(with_mac(block, mac))
}

/// PIN UNBLOCK (`8424 0000 04 <MAC>`, header [`PIN_UNBLOCK_HEADER`]): resets the try counter.
pub fn pin_unblock(mac: [u8; 4]) -> Command {
    pin_reload(None, mac)
}

/// The header of APPLICATION BLOCK: `841E 0000` (temporary) or `841E 0001` (permanent).
pub fn application_block_header(permanent: bool) -> [u8; 4] {
    if permanent {
        APPLICATION_BLOCK_PERMANENT_HEADER
    } else {
        APPLICATION_BLOCK_HEADER
    }
}

fn mac_only(header: [u8; 4], mac: [u8; 4]) -> Command {
    let [cla, ins, p1, p2] = header;
    Command::new(cla, ins, p1, p2).with_sensitive_data(with_mac(&[], mac))
}

/// APPLICATION BLOCK (`841E 000x 04 <MAC>`): temporary, or permanent when `permanent`.
pub fn application_block(permanent: bool, mac: [u8; 4]) -> Command {
    mac_only(application_block_header(permanent), mac)
}

/// APPLICATION UNBLOCK (`8418 0000 04 <MAC>`, header [`APPLICATION_UNBLOCK_HEADER`]).
pub fn application_unblock(mac: [u8; 4]) -> Command {
    mac_only(APPLICATION_UNBLOCK_HEADER, mac)
}

/// CARD BLOCK (`8416 0000 04 <MAC>`, header [`CARD_BLOCK_HEADER`]).
pub fn card_block(mac: [u8; 4]) -> Command {
    mac_only(CARD_BLOCK_HEADER, mac)
}

/// ACTIVATE FILE (`0044 0000`): finishes personalization.
pub fn activate_file() -> Command {
    Command::new(CLA_ISO, ins::ACTIVATE_FILE, 0x00, 0x00)
}

/// DEACTIVATE FILE (`0004 0000`): starts re-personalization.
pub fn deactivate_file() -> Command {
    Command::new(CLA_ISO, ins::DEACTIVATE_FILE, 0x00, 0x00)
}

/// GET RESPONSE (`00C0 0000 Le`): fetches data announced by `61xx`.
pub fn get_response(le: u8) -> Command {
    Command::new(CLA_ISO, ins::GET_RESPONSE, 0x00, 0x00).with_le(short_le(le))
}

/// READ BINARY by short file identifier (`00B0 <80|SFI> <offset> Le`), e.g. the PSAM terminal
/// number `00B0 9600 06`.
pub fn read_binary_sfi(sfi: u8, offset: u8, le: u8) -> Command {
    Command::new(CLA_ISO, ins::READ_BINARY, 0x80 | (sfi & 0x1F), offset).with_le(short_le(le))
}

/// PSAM DIVERSIFY (`BFDE 48 <key id> Lc <factor 1> [<factor 2> ..]`): the working key becomes
/// master key `key_id` diversified by each factor in order.
pub fn psam_diversify(key_id: u8, factors: &[[u8; 8]]) -> Command {
    let data: Vec<u8> = factors.iter().flatten().copied().collect();
    Command::new(
        CLA_PSAM_DIVERSIFY,
        ins::PSAM_DIVERSIFY,
        PSAM_DIVERSIFY_P1,
        key_id,
    )
    .with_data(data)
}

/// PSAM CIPHER, encipher (`80FA 0000 Lc <data> 00`): ECB with the working key. Both the data
/// and the response are sensitive.
pub fn psam_encipher(data: &[u8]) -> Command {
    Command::new(
        CLA_PROPRIETARY,
        ins::PSAM_CIPHER,
        PSAM_CIPHER_ENCIPHER,
        0x00,
    )
    .with_sensitive_data(Zeroizing::new(data.to_vec()))
    .with_le(256)
    .with_sensitive_response()
}

/// PSAM CIPHER, MAC (`80FA 0500 Lc <IV> <message> 00`): the 4-byte MAC with the working key.
/// The response is sensitive.
pub fn psam_mac(iv: &[u8], message: &[u8]) -> Command {
    let mut data = Vec::with_capacity(iv.len() + message.len());
    data.extend_from_slice(iv);
    data.extend_from_slice(message);
    Command::new(CLA_PROPRIETARY, ins::PSAM_CIPHER, PSAM_CIPHER_MAC, 0x00)
        .with_data(data)
        .with_le(256)
        .with_sensitive_response()
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

    #[test]
    fn select() {
        assert_eq!(
            enc(&select_aid(&SSSE)),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00"
        );
        assert_eq!(
            enc(&select_aid_no_response(&SSSE)),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
        );
        assert_eq!(enc(&select_fid(0x3F00)), "00A40000023F00");
        assert_eq!(enc(&select_fid(0xEF05)), "00A4000002EF05");
    }

    #[test]
    fn records() {
        assert_eq!(
            enc(&read_record(Some(5), RecordRef::Tag(0x07))),
            "00B2072800"
        );
        assert_eq!(
            enc(&read_record(Some(6), RecordRef::Number(2))),
            "00B2023400"
        );
        assert_eq!(
            enc(&read_record(Some(0x0D), RecordRef::AllFrom(1))),
            "00B2016D00"
        );
        assert_eq!(enc(&read_record(None, RecordRef::Number(1))), "00B2010400");
        assert_eq!(
            enc(&update_record(
                Some(5),
                RecordRef::Tag(2),
                vec![0x02, 0x01, 0x33]
            )),
            "00DC022803020133"
        );
    }

    #[test]
    fn authentication() {
        assert_eq!(enc(&get_challenge(8)), "0084000008");
        assert_eq!(enc(&get_challenge(0)), "0084000000");
        let c = external_authenticate(0x0A, Zeroizing::new(vec![0xAA; 8]));
        assert!(c.is_sensitive());
        assert_eq!(enc(&c), "0082000A08AAAAAAAAAAAAAAAA");
        let c = internal_authenticate([1; 8], &[2; 8]);
        assert!(!c.is_sensitive());
        assert!(c.has_sensitive_response());
        assert_eq!(
            enc(&c),
            format!("0088000010{}{}00", "01".repeat(8), "02".repeat(8))
        );
    }

    #[test]
    fn pins() {
        let c = verify(Zeroizing::new(vec![0x12, 0x34, 0x56]));
        assert!(c.is_sensitive());
        assert_eq!(enc(&c), "0020000003123456");
        assert_eq!(enc(&verify_status()), "00200000");
        let c = change_pin(
            Zeroizing::new(vec![0x12, 0x34, 0x56]),
            Zeroizing::new(vec![0x97, 0x53, 0x1F]),
        );
        assert!(c.is_sensitive());
        assert_eq!(enc(&c), "805E010007123456FF97531F");
        let c = pin_reload(Some(Zeroizing::new(vec![0x55; 8])), [1, 2, 3, 4]);
        assert!(c.is_sensitive());
        assert_eq!(c.header(), PIN_RELOAD_HEADER);
        assert_eq!(enc(&c), "842400010C555555555555555501020304");
        let c = pin_unblock([1, 2, 3, 4]);
        assert!(c.is_sensitive());
        assert_eq!(enc(&c), "842400000401020304");
    }

    #[test]
    fn blocking() {
        assert_eq!(enc(&application_block(false, [9; 4])), "841E00000409090909");
        assert_eq!(enc(&application_block(true, [9; 4])), "841E00010409090909");
        assert_eq!(enc(&application_unblock([9; 4])), "841800000409090909");
        assert_eq!(enc(&card_block([9; 4])), "841600000409090909");
        for c in [
            application_block(true, [9; 4]),
            application_unblock([9; 4]),
            card_block([9; 4]),
        ] {
            assert!(c.is_sensitive());
        }
        assert_eq!(
            application_block(true, [0; 4]).header(),
            application_block_header(true)
        );
        assert_eq!(
            application_unblock([0; 4]).header(),
            APPLICATION_UNBLOCK_HEADER
        );
        assert_eq!(card_block([0; 4]).header(), CARD_BLOCK_HEADER);
    }

    #[test]
    fn lifecycle_and_misc() {
        assert_eq!(enc(&activate_file()), "00440000");
        assert_eq!(enc(&deactivate_file()), "00040000");
        assert_eq!(enc(&get_response(0x10)), "00C0000010");
        assert_eq!(enc(&get_response(0)), "00C0000000");
        assert_eq!(enc(&read_binary_sfi(0x16, 0, 6)), "00B0960006");
    }

    #[test]
    fn psam() {
        let c = psam_diversify(0x04, &[[0x11; 8], [0x22; 8]]);
        assert_eq!(
            enc(&c),
            format!("BFDE480410{}{}", "11".repeat(8), "22".repeat(8))
        );
        let c = psam_encipher(&[0x33; 8]);
        assert!(c.is_sensitive() && c.has_sensitive_response());
        assert_eq!(enc(&c), format!("80FA000008{}00", "33".repeat(8)));
        let c = psam_mac(&[0; 8], &[0x44; 5]);
        assert!(c.has_sensitive_response());
        assert_eq!(
            enc(&c),
            format!("80FA05000D{}{}00", "00".repeat(8), "44".repeat(5))
        );
    }

    #[test]
    fn mac_input_counts_the_mac() {
        assert_eq!(mac_input(0x84, 0x1E, 0, 1, &[]), vec![0x84, 0x1E, 0, 1, 4]);
        assert_eq!(
            mac_input(0x84, 0x24, 0, 1, &[0xAB; 8]),
            [&[0x84, 0x24, 0, 1, 12][..], &[0xAB; 8]].concat()
        );
        // agrees with the encoding of the command it protects
        let block = Zeroizing::new(vec![0x5A; 16]);
        let [a, b, c, d] = PIN_RELOAD_HEADER;
        let input = mac_input(a, b, c, d, &block);
        let command = pin_reload(Some(block), [7; 4]);
        let bytes = command.to_bytes().unwrap();
        assert_eq!(&bytes[..bytes.len() - 4], &input[..]);
        let long = mac_input(0x84, 0x24, 0, 1, &[0; 300]);
        assert_eq!(&long[4..7], &[0, 0x01, 0x30]);
    }
}

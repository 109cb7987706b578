//! Command flows against a tiny card: the command bytes the terminal sends, and that the
//! card accepts what it computes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use cleanroom_terminal::crypto::Algorithm;
use cleanroom_terminal::{
    data, KeyRole, PinStatus, RandomSource, Reader, ReaderError, Terminal, TerminalError,
};
use common::{h, up, MiniCard, AID, TRACE_ATR};

fn des_card() -> MiniCard {
    MiniCard::new(
        Algorithm::Des,
        &common::test_roots("3des"),
        "519900",
        TRACE_ATR,
    )
}

fn sm4_card() -> MiniCard {
    MiniCard::new(
        Algorithm::Sm4,
        &common::test_roots("sm4"),
        "519900",
        TRACE_ATR,
    )
}

fn terminal(card: MiniCard, set: &str) -> Terminal<MiniCard> {
    Terminal::new(card, common::test_roots(set))
}

fn log(t: &Terminal<MiniCard>) -> Vec<String> {
    t.reader().log.iter().map(|c| up(c)).collect()
}

const SELECT_SSSE: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00";

#[test]
fn select_ssse_reads_the_algorithm() {
    let mut t = terminal(sm4_card(), "sm4");
    let fci = t.select_ssse().unwrap();
    assert_eq!(fci.algorithm, Algorithm::Sm4);
    assert_eq!(fci.algorithm_code, Some(3));
    assert_eq!(fci.df_name, h(AID));
    assert_eq!(fci.dir_sfi, Some(0x1E));
    assert_eq!(log(&t), [SELECT_SSSE]);
}

/// RI §10.1: without `9F0C`/`86`, region `51…` means DES (and the terminal reads EF05 01).
#[test]
fn default_algorithm_from_region() {
    let mut card = des_card();
    card.announce_alg = false;
    let mut t = terminal(card, "3des");
    let fci = t.select_ssse().unwrap();
    assert_eq!(fci.algorithm_code, None);
    assert_eq!(fci.algorithm, Algorithm::Des);
    assert_eq!(log(&t), [SELECT_SSSE, "00A4020002EF0500", "00B2010012"]);

    let mut card = MiniCard::new(
        Algorithm::Des,
        &common::test_roots("3des"),
        "110100",
        TRACE_ATR,
    );
    card.announce_alg = false;
    let mut t = terminal(card, "3des");
    assert_eq!(t.select_ssse().unwrap().algorithm, Algorithm::Ssf33);
    // SSF33 cannot be computed: a clean error, not a panic.
    assert_eq!(
        t.internal_authenticate(),
        Err(TerminalError::UnsupportedAlgorithm(2))
    );
}

fn check_basic(t: &mut Terminal<MiniCard>) {
    let line = t.basic_line().unwrap();
    assert_eq!(
        line,
        "519900|510122201610225130|HA1046924|519900D15600000510000B26FFFFFFFF|白哲宇|\
         00814A444686605199000001AC|3.00|20180611|20280611|||"
    );
}

#[test]
fn basic_line_des_3_0_card() {
    let mut t = terminal(des_card().personalized("3.00"), "3des");
    check_basic(&mut t);
    let l = log(&t);
    assert_eq!(l[0], SELECT_SSSE);
    assert_eq!(
        l[1..5],
        ["00A4020002EF0500", "00B2010012", "00B2030006", "00B207000B"]
    );
    // INTERNAL AUTHENTICATION with terminal randoms: 00 88 00 00 10 <16 bytes> 00.
    assert!(l[5].starts_with("0088000010") && l[5].ends_with("00") && l[5].len() == 44);
    // EXTERNAL AUTHENTICATION with RKSSSE (key id 0A): one GET CHALLENGE, the original is the
    // terminal's.
    assert_eq!(l[6], "0084000008");
    assert!(l[7].starts_with("0082000A10") && l[7].len() == 42);
    // Every EF05 and EF06 item, Le = length + 2.
    assert_eq!(
        l[8..],
        [
            "00B2010012",
            "00B2020003",
            "00B2030006",
            "00B204000E",
            "00B2050006",
            "00B2060006",
            "00B207000B",
            "00A4020002EF0600",
            "00B2080014",
            "00B2090020",
            "00B24E0016",
            "00B20A0003",
            "00B20B0003",
            "00B20C0005",
            "00B20D0006",
        ]
    );
}

#[test]
fn basic_line_sm4_card_with_card_randoms() {
    let mut t = terminal(sm4_card().personalized("3.00"), "sm4");
    t.set_random_source(RandomSource::Card);
    check_basic(&mut t);
    let l = log(&t);
    // IA: GET CHALLENGE (original), GET CHALLENGE (process factor), then pf ‖ original.
    assert_eq!(l[5], "0084000008");
    assert_eq!(l[6], "0084000008");
    assert!(l[7].starts_with("0088000010"));
    assert_eq!(l[8], "0084000008");
    assert_eq!(l[9], "0084000008");
    assert!(l[10].starts_with("0082000A10"));
}

/// 2.0 cards: no RKSSSE authentication, name extension read; 1.0 cards: no name extension.
#[test]
fn older_versions() {
    let mut t = terminal(des_card().personalized("2.00"), "3des");
    let info = t.read_basic().unwrap();
    assert_eq!(info.version, "2.00");
    let l = log(&t);
    assert!(!l.iter().any(|c| c.starts_with("0082")));
    assert!(l.contains(&"00B24E0016".to_string()));

    let mut t = terminal(des_card().personalized("1.00"), "3des");
    let info = t.read_basic().unwrap();
    assert_eq!(info.name, "白哲宇");
    assert!(!log(&t).contains(&"00B24E0016".to_string()));

    let mut t = terminal(des_card().personalized("X.YZ"), "3des");
    assert!(matches!(
        t.read_basic(),
        Err(TerminalError::UnsupportedVersion(_))
    ));
}

#[test]
fn read_basic_fields() {
    let mut t = terminal(sm4_card().personalized("3.00"), "sm4");
    let info = t.read_basic().unwrap();
    assert_eq!(info.card_type, "3");
    assert_eq!(info.init_org, "915600000251990051990001");
    assert_eq!(info.issue_date, "20180611");
    assert_eq!(info.sex, "1");
    assert_eq!(info.nation, "01");
    assert_eq!(info.birthplace, "510122");
    assert_eq!(info.birth_date, "20161022");
    assert_eq!(info.name_raw, h("B0D7D5DCD3EE"));
    assert_eq!(info.region(), "519900");
    assert_eq!(info.records.len(), 14);
}

#[test]
fn internal_authentication_detects_a_wrong_key() {
    let mut card = sm4_card().personalized("3.00");
    card.keys.insert(KeyRole::Irk, vec![0x55; 16]);
    let mut t = terminal(card, "sm4");
    assert_eq!(
        t.internal_authenticate(),
        Err(TerminalError::InternalAuthenticationFailed)
    );
}

#[test]
fn validity_check() {
    let mut t = terminal(des_card().personalized("3.00"), "3des");
    t.check_validity("20240101").unwrap();
    assert_eq!(
        t.check_validity("20280612"),
        Err(TerminalError::Expired {
            expiry: "20280611".into(),
            today: "20280612".into()
        })
    );
    t.check_validity("20280611").unwrap();
    assert!(matches!(
        t.check_validity("20180610"),
        Err(TerminalError::NotYetValid { .. })
    ));
    assert!(matches!(
        t.check_validity("2024-01-01"),
        Err(TerminalError::InvalidInput(_))
    ));
    // A blank card (EF05 01 only) is not valid.
    let mut t = terminal(des_card(), "3des");
    assert!(t.check_validity("20240101").is_err());
}

fn personalization_items() -> Vec<(u8, Vec<u8>)> {
    vec![
        (0x02, b"3".to_vec()),
        (0x03, b"3.00".to_vec()),
        (
            0x04,
            data::encode_text(0x04, "915600000251990051990001").unwrap(),
        ),
        (0x05, data::encode_text(0x05, "20180611").unwrap()),
        (0x06, data::encode_text(0x06, "20280611").unwrap()),
        (0x07, b"HA1046924".to_vec()),
        (0x08, b"510122201610225130".to_vec()),
        (0x09, data::encode_text(0x09, "白哲宇").unwrap()),
        (0x0A, b"1".to_vec()),
        (0x0B, vec![0x01]),
        (0x0C, data::pack_cn("510122").unwrap()),
        (0x0D, data::pack_cn("20161022").unwrap()),
    ]
}

fn personalize_and_check(alg: Algorithm, set: &str, reload_lc: &str) {
    let card = MiniCard::new(alg, &common::test_roots(set), "519900", TRACE_ATR);
    let mut t = terminal(card, set);
    assert_eq!(
        t.pin_status().unwrap(),
        PinStatus::Accepted,
        "blank card: no PIN"
    );
    t.personalize(&personalization_items()).unwrap();
    let l = log(&t);
    assert_eq!(l[..2], [SELECT_SSSE, "0020000000"]);
    // EA with UKSSSE (key id 04).
    let ea = l.iter().position(|c| c.starts_with("0082000410")).unwrap();
    assert_eq!(l[ea - 1], "0084000008");
    // UPDATE RECORD addressing the identifier, P2 = 00, SIMPLE-TLV record, padded values.
    let has = |c: &str| l.iter().any(|x| x == c);
    assert!(has("00DC020003020133"));
    assert!(has("00DC050006050420180611"));
    assert!(has(&format!(
        "00DC090020091EB0D7D5DCD3EE{}",
        "00".repeat(24)
    )));
    assert!(has("00DC0C00050C03510122"));
    assert!(has("00DC0D00060D0420161022"));
    assert!(has("00A4020002EF0600"));
    // PIN reload: EA with PUK (06), GET CHALLENGE, 84 24 00 01 Lc.
    let n = l.len();
    assert!(l[n - 4].starts_with("0084000008"));
    assert!(l[n - 3].starts_with("0082000610"));
    assert_eq!(l[n - 2], "0084000008");
    assert!(l[n - 1].starts_with(&format!("84240001{reload_lc}")));
    assert_eq!(t.reader().pin.as_deref(), Some(h("123456").as_slice()));
    // The written card reads back.
    let mut t2 = Terminal::new(t.into_reader(), common::test_roots(set));
    let info = t2.read_basic().unwrap();
    assert_eq!(info.name, "白哲宇");
    assert_eq!(info.expiry_date, "20280611");
    assert_eq!(t2.verify_pin("123456").unwrap(), PinStatus::Accepted);
}

#[test]
fn personalization_des() {
    personalize_and_check(Algorithm::Des, "3des", "0C");
}

#[test]
fn personalization_sm4() {
    personalize_and_check(Algorithm::Sm4, "sm4", "14");
}

#[test]
fn personalization_refuses_bad_items() {
    let mut t = terminal(des_card(), "3des");
    for items in [
        vec![(0x20u8, b"x".to_vec())],
        vec![(0x07, b"0123456789".to_vec())],
    ] {
        assert!(matches!(
            t.personalize(&items),
            Err(TerminalError::InvalidInput(_))
        ));
    }
    // Nothing was sent.
    assert!(t.reader().log.is_empty());
}

#[test]
fn pin_commands() {
    for (alg, set) in [(Algorithm::Des, "3des"), (Algorithm::Sm4, "sm4")] {
        let card =
            MiniCard::new(alg, &common::test_roots(set), "519900", TRACE_ATR).personalized("3.00");
        let mut t = terminal(card, set);
        assert_eq!(
            t.pin_status().unwrap(),
            PinStatus::Rejected { tries_left: 3 }
        );
        assert_eq!(t.verify_pin("123456").unwrap(), PinStatus::Accepted);
        assert_eq!(log(&t)[1..], ["0020000000", "0020000003123456"]);
        t.change_pin("123456", "8888888").unwrap();
        assert_eq!(log(&t).last().unwrap(), "805E010008123456FF8888888F");
        assert_eq!(
            t.verify_pin("123456").unwrap(),
            PinStatus::Rejected { tries_left: 2 }
        );
        assert_eq!(
            t.verify_pin("000000").unwrap(),
            PinStatus::Rejected { tries_left: 1 }
        );
        assert_eq!(
            t.verify_pin("000000").unwrap(),
            PinStatus::Rejected { tries_left: 0 }
        );
        assert_eq!(t.verify_pin("8888888").unwrap(), PinStatus::Blocked);
        t.unblock_pin().unwrap();
        let l = log(&t);
        assert!(l[l.len() - 1].starts_with("8424000004") && l[l.len() - 1].len() == 18);
        assert_eq!(l[l.len() - 2], "0084000008");
        assert!(l[l.len() - 3].starts_with("0082000610"));
        assert_eq!(t.verify_pin("8888888").unwrap(), PinStatus::Accepted);
        t.reload_pin("24681357").unwrap();
        assert_eq!(t.verify_pin("24681357").unwrap(), PinStatus::Accepted);
        // PIN syntax is checked before anything is sent.
        let before = t.reader().log.len();
        for bad in ["123", "12345678901234567", "12a456", ""] {
            assert!(matches!(
                t.verify_pin(bad),
                Err(TerminalError::InvalidInput(_))
            ));
            assert!(matches!(
                t.reload_pin(bad),
                Err(TerminalError::InvalidInput(_))
            ));
        }
        assert!(matches!(
            t.change_pin("", "12"),
            Err(TerminalError::InvalidInput(_))
        ));
        assert_eq!(t.reader().log.len(), before);
        // Without PUK the card refuses: the status word is carried.
        t.reader_mut().keys.insert(KeyRole::Puk, vec![0x11; 16]);
        let e = t.reload_pin("123456").unwrap_err();
        assert_eq!(e.status_word(), Some(0x63C2));
    }
}

#[test]
fn blocking() {
    let mut t = terminal(sm4_card().personalized("3.00"), "sm4");
    t.block_application().unwrap();
    let l = log(&t);
    assert!(l[l.len() - 3].starts_with("0082000510"), "EA with BK (05)");
    assert_eq!(l[l.len() - 2], "0084000008");
    assert!(l[l.len() - 1].starts_with("841E000104") && l[l.len() - 1].len() == 18);
    assert_eq!(t.select_ssse().unwrap_err().status_word(), Some(0x9303));

    let mut t = terminal(des_card().personalized("3.00"), "3des");
    t.block_card().unwrap();
    assert!(log(&t).last().unwrap().starts_with("8416000004"));
    assert_eq!(t.select_ssse().unwrap_err().status_word(), Some(0x6A81));
}

#[test]
fn binary_files() {
    let mut card = sm4_card().personalized("3.00");
    let photo: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    card.binaries.insert(0x08, photo.clone());
    card.binaries.insert(0x07, vec![0xAB; 0x300]);
    let mut t = terminal(card, "sm4");
    assert_eq!(t.read_binary_file(0x08, 4096).unwrap(), photo);
    let l = log(&t);
    let reads: Vec<&String> = l.iter().filter(|c| c.starts_with("00B0")).collect();
    assert_eq!(reads.len(), 16);
    assert_eq!(reads[0], "00B0000000");
    assert_eq!(reads[15], "00B00F0000");
    assert!(l.contains(&"00A4020002EF0800".to_string()));
    assert!(l.iter().any(|c| c.starts_with("0082000A10")));
    let fp = t.read_binary_file(0x07, 0x300).unwrap();
    assert_eq!(fp, vec![0xAB; 0x300]);
    // Shorter file than asked: stops at the end.
    assert_eq!(t.read_binary_file(0x07, 0x310).unwrap().len(), 0x300);
}

/// A reader answering arbitrary bytes: every operation ends in an error or a result, never a
/// panic.
struct Garbage {
    state: u64,
    atr: Vec<u8>,
}

impl Garbage {
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

impl Reader for Garbage {
    fn transmit(&mut self, _apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let r = self.next();
        let len = (r % 40) as usize;
        let mut out: Vec<u8> = (0..len).map(|_| self.next() as u8).collect();
        // Often end in 9000, to get past status checks.
        if r % 3 == 0 && out.len() >= 2 {
            let n = out.len();
            out[n - 2] = 0x90;
            out[n - 1] = 0x00;
        }
        Ok(out)
    }
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        Ok(self.atr.clone())
    }
}

#[test]
fn garbage_answers_never_panic() {
    for seed in 1..400u64 {
        let atr: Vec<u8> = if seed % 2 == 0 {
            h(TRACE_ATR)
        } else {
            vec![0x3B, seed as u8]
        };
        let reader = Garbage {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            atr,
        };
        let mut t = Terminal::new(reader, common::test_roots("sm4"));
        if seed % 5 == 0 {
            t.set_random_source(RandomSource::Card);
        }
        let _ = t.select_ssse();
        let _ = t.read_card_summary();
        let _ = t.internal_authenticate();
        let _ = t.check_validity("20240101");
        let _ = t.read_basic();
        let _ = t.basic_line();
        let _ = t.personalize(&personalization_items());
        let _ = t.verify_pin("123456");
        let _ = t.pin_status();
        let _ = t.change_pin("123456", "654321");
        let _ = t.reload_pin("123456");
        let _ = t.unblock_pin();
        let _ = t.block_application();
        let _ = t.block_card();
        let _ = t.read_binary_file(0x08, 1000);
    }
}

/// Short answers, empty FCI, wrong lengths: errors carrying what went wrong.
#[test]
fn malformed_answers() {
    struct Fixed(Vec<u8>);
    impl Reader for Fixed {
        fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, ReaderError> {
            Ok(self.0.clone())
        }
        fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
            Err(ReaderError::NoCard)
        }
    }
    let roots = BTreeMap::new();
    for (answer, want_sw) in [
        (vec![], None),
        (vec![0x90], None),
        (vec![0x6A, 0x82], Some(0x6A82)),
        (vec![0x90, 0x00], None),
        (h("6F0284009000"), None),
        (h("6F03840100 9000"), None),
    ] {
        let mut t = Terminal::new(Fixed(answer.clone()), roots.clone());
        let e = t.select_ssse().unwrap_err();
        assert_eq!(e.status_word(), want_sw, "{}", up(&answer));
    }
    let mut t = Terminal::new(Fixed(h("01029000")), roots);
    assert!(matches!(
        t.get_challenge(),
        Err(TerminalError::Malformed(_))
    ));
}

/// A genuine card whose answers are damaged now and then (truncated, bytes flipped, status
/// word replaced): deep paths of every flow meet bad answers, and must not panic.
struct Damaged {
    card: MiniCard,
    rng: Garbage,
}

impl Reader for Damaged {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let mut answer = self.card.transmit(apdu)?;
        let r = self.rng.next();
        match r % 40 {
            0 => answer.truncate((r >> 8) as usize % (answer.len() + 1)),
            1 if !answer.is_empty() => {
                let i = (r >> 8) as usize % answer.len();
                answer[i] ^= (r >> 16) as u8 | 1;
            }
            2 if answer.len() >= 2 => {
                let n = answer.len();
                answer[n - 2] = (r >> 8) as u8;
                answer[n - 1] = (r >> 16) as u8;
            }
            3 => answer.extend_from_slice(&(r as u32).to_be_bytes()),
            _ => {}
        }
        Ok(answer)
    }
    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        self.card.atr()
    }
}

#[test]
fn damaged_answers_never_panic() {
    let mut successes = 0;
    for seed in 1..300u64 {
        let (alg, set) = if seed % 2 == 0 {
            (Algorithm::Sm4, "sm4")
        } else {
            (Algorithm::Des, "3des")
        };
        let mut card =
            MiniCard::new(alg, &common::test_roots(set), "519900", TRACE_ATR).personalized("3.00");
        card.binaries.insert(0x08, vec![0x5A; 600]);
        let reader = Damaged {
            card,
            rng: Garbage {
                state: seed.wrapping_mul(0x2545_F491_4F6C_DD1D),
                atr: Vec::new(),
            },
        };
        let mut t = Terminal::new(reader, common::test_roots(set));
        if seed % 3 == 0 {
            t.set_random_source(RandomSource::Card);
        }
        successes += usize::from(t.basic_line().is_ok());
        let _ = t.check_validity("20240101");
        let _ = t.verify_pin("123456");
        let _ = t.change_pin("123456", "654321");
        let _ = t.reload_pin("123456");
        let _ = t.unblock_pin();
        let _ = t.read_binary_file(0x08, 600);
        let _ = t.personalize(&personalization_items());
        let _ = t.block_application();
        let _ = t.block_card();
    }
    // Some sessions get through undamaged.
    assert!(successes > 0);
}

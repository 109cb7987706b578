//! Replays the field trace "加密机方式指令流" (a 3.0 SM4 card read with an encryption
//! machine, then a PIN reload): the card's answers come from the trace, the encryption
//! machine's answers too (the trace's keys are unknown), and the terminal must send the
//! trace's command bytes where the trace shows them.
//!
//! The trace is logged at the T=0 level: case-4 commands (SELECT, INTERNAL AUTHENTICATION)
//! appear without their Le (part 2 §9.3.1.4), so commands are compared in that form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use cleanroom_terminal::apdu::to_t0_tpdu;
use cleanroom_terminal::{
    data, hsm, Algorithm, CardContext, KeyRole, KeyService, RandomSource, Reader, ReaderError,
    Terminal, TerminalError,
};
use common::{h, up};

/// One exchange of the trace: command (T=0 form) and answer. `synthetic` marks answers the
/// trace leaves blank, filled here with consistent values.
struct Step {
    command: &'static str,
    answer: &'static str,
    synthetic: bool,
}

const fn t(command: &'static str, answer: &'static str) -> Step {
    Step {
        command,
        answer,
        synthetic: false,
    }
}

const fn s(command: &'static str, answer: &'static str) -> Step {
    Step {
        command,
        answer,
        synthetic: true,
    }
}

const SELECT: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF";
const FCI: &str = "6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C038601039000";
const REC01: &str = "0110519900D15600000510000B26FFFFFFFF9000";
const REC03: &str = "0304332E30309000";
const REC07: &str = "07094841313034363932349000";

fn trace() -> Vec<Step> {
    vec![
        // Part 1: selection and the first EF05 items.
        t(SELECT, FCI),
        t("00A4020002EF05", "9000"),
        t("00B2010012", REC01),
        t("00B2030006", REC03),
        t("00B207000B", REC07),
        // Part 2: internal then external (RKSSSE) authentication, basic data.
        t(SELECT, FCI),
        t("0084000008", "DBF7A936D0D18C9E9000"),
        t("0084000008", "32D9E876ADB31BBF9000"),
        t(
            "008800001032D9E876ADB31BBFDBF7A936D0D18C9E",
            "F4A0CF965BDCEA309000",
        ),
        t("0084000008", "E603E2CAADAF02B69000"),
        t("0084000008", "98B4D293D091C3319000"),
        t("0082000A10774A08EDF447A1DEE603E2CAADAF02B6", "9000"),
        s("00A4020002EF05", "9000"),
        s("00B2030006", REC03),
        s("00B2050006", "0504201806119000"),
        s("00B2060006", "0604202806119000"),
        s("00A4020002EF06", "9000"),
        t("00B2080014", "08123531303132323230313631303232353133309000"),
        t(
            "00B2090020",
            "091EB0D7D5DCD3EE0000000000000000000000000000000000000000000000009000",
        ),
        t(
            "00B24E0016",
            "4E1400000000000000000000000000000000000000009000",
        ),
        // Part 3: PIN reload ("UNBLOCK PIN" section; GET CHALLENGE answers without their 9000
        // in the trace).
        t("0084000008", "1B0D7286F2DC77AF9000"),
        t("0084000008", "E4A30F837E2CAFEC9000"),
        t("008200061050C45431554CBADC1B0D7286F2DC77AF", "9000"),
        t("0084000008", "2AFD6A015D2D9BAC9000"),
        t("84240001142BC19C17AE974CD2427039C301CFF79FFD937AA7", "9000"),
    ]
}

/// The encryption machine lines of the trace.
const HSM_BASIC_REQUEST: &str = "519900|3B6D000000814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|32D9E876ADB31BBF|DBF7A936D0D18C9E|98B4D293D091C331|E603E2CAADAF02B6|00000000000000000000000000000000|";
const HSM_BASIC_ANSWER: &str = "F4A0CF965BDCEA30DBF7A936D0D18C9E|774A08EDF447A1DEE603E2CAADAF02B6|";
const HSM_PUK_REQUEST: &str = "03|0090|E4A30F837E2CAFEC|1B0D7286F2DC77AF|";
const HSM_PUK_ANSWER: &str = "50C45431554CBADC1B0D7286F2DC77AF";
/// The trace writes this request without the final `|` RI §6.3.2 asks for.
const HSM_RELOAD_REQUEST: &str = "03|0173|2AFD6A015D2D9BAC|8424000114|123456";
const HSM_RELOAD_ANSWER: &str = "2bc19c17ae974cd2427039c301cff79ffd937aa7";

/// Plays the trace's card: each command must be the trace's next one, except READ RECORDs of
/// items the trace does not show (answered from part 1 when known, else "record absent").
struct TraceCard {
    steps: VecDeque<Step>,
    extra: Vec<String>,
    synthetic_used: usize,
}

impl Reader for TraceCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, ReaderError> {
        let sent = up(&to_t0_tpdu(apdu));
        if let Some(step) = self.steps.front() {
            if step.command.eq_ignore_ascii_case(&sent) {
                let step = self.steps.pop_front().unwrap();
                self.synthetic_used += usize::from(step.synthetic);
                return Ok(h(step.answer));
            }
        }
        assert!(
            sent.starts_with("00B2") && sent.len() == 10,
            "sent {sent}, the trace expects {:?}",
            self.steps.front().map(|s| s.command)
        );
        self.extra.push(sent.clone());
        Ok(match &sent[4..6] {
            "01" => h(REC01),
            "07" => h(REC07),
            _ => h("6A83"),
        })
    }

    fn atr(&mut self) -> Result<Vec<u8>, ReaderError> {
        Ok(h(common::TRACE_ATR))
    }
}

#[derive(Default)]
struct Seen {
    ia: Option<([u8; 8], [u8; 8])>,
    ea: Option<([u8; 8], [u8; 8])>,
    requests: Vec<String>,
}

/// Answers as the trace's encryption machine did, after checking the request.
struct TraceHsm {
    seen: Rc<RefCell<Seen>>,
}

impl KeyService for TraceHsm {
    fn auth_data(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        original: &[u8; 8],
    ) -> Result<[u8; 8], TerminalError> {
        let pf: [u8; 8] = process_factor.try_into().unwrap();
        let ((ia_auth, ia_orig), ea) = hsm::parse_basic_read_answer(HSM_BASIC_ANSWER).unwrap();
        let mut seen = self.seen.borrow_mut();
        match role {
            KeyRole::Irk => {
                assert_eq!(original, &ia_orig);
                seen.ia = Some((pf, *original));
                Ok(ia_auth)
            }
            KeyRole::RkSsse => {
                let (ea_auth, ea_orig) = ea.unwrap();
                assert_eq!(original, &ea_orig);
                seen.ea = Some((pf, *original));
                Ok(ea_auth)
            }
            KeyRole::Puk => {
                let request = hsm::auth_request(card.algorithm, role, process_factor, original);
                seen.requests.push(request);
                let (auth, orig) = hsm::parse_auth_answer(HSM_PUK_ANSWER).unwrap();
                assert_eq!(original, &orig);
                Ok(auth)
            }
            other => panic!("the trace uses no {other}"),
        }
    }

    fn secure_message(
        &mut self,
        role: KeyRole,
        card: &CardContext,
        process_factor: &[u8],
        header: &[u8; 5],
        plain: Option<&[u8]>,
    ) -> Result<Vec<u8>, TerminalError> {
        let digits = data::decode_cn(plain.unwrap());
        let request =
            hsm::secure_message_request(card.algorithm, role, process_factor, header, &digits);
        self.seen.borrow_mut().requests.push(request);
        Ok(hex::decode(HSM_RELOAD_ANSWER).unwrap())
    }
}

#[test]
fn field_trace_is_reproduced() {
    let card = TraceCard {
        steps: trace().into(),
        extra: Vec::new(),
        synthetic_used: 0,
    };
    let seen = Rc::new(RefCell::new(Seen::default()));
    let mut term = Terminal::with_key_service(card, Box::new(TraceHsm { seen: seen.clone() }));
    term.set_random_source(RandomSource::Card);

    // Part 1.
    let fci = term.select_ssse().unwrap();
    assert_eq!(fci.algorithm, Algorithm::Sm4);
    let summary = term.read_card_summary().unwrap();
    assert_eq!(summary.version.as_deref(), Some("3.00"));
    assert_eq!(summary.card_number.as_deref(), Some("HA1046924"));
    // Part 2: a new session step (RI iReadCardBas_HSM_Step1) selects the SSSE again.
    term.select_ssse().unwrap();
    term.internal_authenticate().unwrap();
    let info = term.read_basic().unwrap();
    assert_eq!(info.ssn, "510122201610225130");
    assert_eq!(info.name, "白哲宇");
    assert_eq!(info.name_raw, h("B0D7D5DCD3EE"));
    assert_eq!(info.version, "3.00");
    assert_eq!(info.card_number, "HA1046924");
    // Part 3.
    term.reload_pin("123456").unwrap();

    // Every trace command was sent, in order.
    let card = term.reader();
    assert!(
        card.steps.is_empty(),
        "not sent: {:?}",
        card.steps.front().map(|s| s.command)
    );
    assert_eq!(card.synthetic_used, 5);
    // The other commands are READ RECORDs of the items the trace does not show, Le = length + 2.
    assert_eq!(
        card.extra,
        [
            "00B2010012",
            "00B2020003",
            "00B204000E",
            "00B207000B",
            "00B20A0003",
            "00B20B0003",
            "00B20C0005",
            "00B20D0006",
        ]
    );

    // The encryption machine requests are the trace's.
    let ctx = term.card_context().unwrap();
    let seen = seen.borrow();
    let (ia_pf, ia_orig) = seen.ia.unwrap();
    let (ea_pf, ea_orig) = seen.ea.unwrap();
    assert_eq!(
        hsm::basic_read_request(&ctx, &ia_pf, &ia_orig, Some((&ea_pf, &ea_orig)), None),
        HSM_BASIC_REQUEST
    );
    assert_eq!(seen.requests[0], HSM_PUK_REQUEST);
    assert_eq!(seen.requests[1], format!("{HSM_RELOAD_REQUEST}|"));
}

/// The trace's commands have the part 5 layouts: Lc counts the data; INTERNAL AUTHENTICATION
/// is logged in its T=0 form (no Le).
#[test]
fn command_layouts_of_the_trace() {
    let items = [
        (
            "INTERNAL AUTHENTICATION",
            "008800001032D9E876ADB31BBFDBF7A936D0D18C9E",
        ),
        (
            "EXTERNAL AUTHENTICATION RKSSSE",
            "0082000A10774A08EDF447A1DEE603E2CAADAF02B6",
        ),
        (
            "EXTERNAL AUTHENTICATION PUK",
            "008200061050C45431554CBADC1B0D7286F2DC77AF",
        ),
        (
            "PIN RELOAD",
            "84240001142BC19C17AE974CD2427039C301CFF79FFD937AA7",
        ),
    ];
    for (name, hex_cmd) in items {
        let b = h(hex_cmd);
        assert_eq!(usize::from(b[4]) + 5, b.len(), "{name}: Lc counts the data");
    }
    // The trace's INTERNAL AUTHENTICATION is the T=0 form of the part 5 APDU with Le = 00.
    let apdu = h("008800001032D9E876ADB31BBFDBF7A936D0D18C9E00");
    assert_eq!(up(&to_t0_tpdu(&apdu)), items[0].1);
}

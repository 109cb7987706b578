//! The field trace of the specification's repository (`docs/加密机方式指令流.txt`: a 3.0 SM4 card
//! read and its PIN reloaded through an HSM) replayed: the card's answers are fed to the
//! library, which must send exactly the trace's commands and produce exactly the trace's HSM
//! requests. The HSM's answers are the trace's too (its keys are unknown, so the cryptograms
//! cannot be recomputed; their structure can).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;

use sscard_core::crypto::Pin;
use sscard_core::lifecycle::hsm::{self, PinMaintenance};
use sscard_core::lifecycle::Card;
use sscard_core::transport::{Transport, TransportError};

const SELECT_SSSE: &str = "00A404000F7378312E73682EC9E7BBE1B1A3D5CF";
const FCI: &str = "6F1C840F7378312E73682EC9E7BBE1B1A3D5CFA50988011E9F0C038601039000";
const ATR: &str = "3B6D000000814A444686605199000001AC";

/// A card that answers from a script and fails the test on any command the script does not
/// expect at that point.
struct Replay {
    steps: VecDeque<(String, String)>,
    sent: Vec<String>,
}

impl Replay {
    fn new(steps: &[(&str, &str)]) -> Replay {
        Replay {
            steps: steps
                .iter()
                .map(|(c, r)| (c.to_uppercase(), r.to_uppercase()))
                .collect(),
            sent: Vec::new(),
        }
    }
}

impl Transport for Replay {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let got = hex::encode_upper(command);
        let (expected, response) = self
            .steps
            .pop_front()
            .unwrap_or_else(|| panic!("command {got} after the end of the trace"));
        assert_eq!(got, expected, "the library deviates from the trace");
        self.sent.push(got);
        Ok(hex::decode(response).unwrap())
    }
    fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
        Ok(hex::decode(ATR).unwrap())
    }
    fn reset_epoch(&self) -> u64 {
        0
    }
}

/// The trace's basic read. Responses in brackets are not in the trace (it prints only the
/// commands there); they are filled in with values consistent with the rest of it.
fn basic_read_steps() -> Vec<(&'static str, &'static str)> {
    vec![
        (SELECT_SSSE, FCI),
        ("00A4020002EF05", "9000"),
        ("00B2010012", "0110519900D15600000510000B26FFFFFFFF9000"),
        ("00B2030006", "0304332E30309000"),
        ("00B207000B", "07094841313034363932349000"),
        (SELECT_SSSE, FCI),
        ("0084000008", "DBF7A936D0D18C9E9000"),
        ("0084000008", "32D9E876ADB31BBF9000"),
        (
            "008800001032D9E876ADB31BBFDBF7A936D0D18C9E",
            "F4A0CF965BDCEA309000",
        ),
        ("0084000008", "E603E2CAADAF02B69000"),
        ("0084000008", "98B4D293D091C3319000"),
        // step two
        ("0082000A10774A08EDF447A1DEE603E2CAADAF02B6", "9000"),
        ("00A4020002EF05", "9000"),
        ("00B2030006", "0304332E30309000"), // [not in the trace]
        ("00B2050006", "0504201702289000"), // [not in the trace]
        ("00B2060006", "0604202702289000"), // [not in the trace]
        ("00A4020002EF06", "9000"),         // [not in the trace]
        ("00B2080014", "08123531303132323230313631303232353133309000"),
        (
            "00B2090020",
            "091EB0D7D5DCD3EE0000000000000000000000000000000000000000000000009000",
        ),
        (
            "00B24E0016",
            "4E1400000000000000000000000000000000000000009000",
        ),
    ]
}

const HSM_READ_REQUEST: &str = "519900|3B6D000000814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|32D9E876ADB31BBF|DBF7A936D0D18C9E|98B4D293D091C331|E603E2CAADAF02B6|00000000000000000000000000000000|";
const HSM_READ_ANSWER: &str = "F4A0CF965BDCEA30DBF7A936D0D18C9E|774A08EDF447A1DEE603E2CAADAF02B6|";

#[test]
fn basic_read_through_an_hsm_is_the_trace() {
    let steps = basic_read_steps();
    let mut card = Card::open(Replay::new(&steps)).unwrap();
    let step = hsm::read_basic_step1(&mut card).unwrap();
    assert_eq!(step.request.to_line(), HSM_READ_REQUEST);
    // the reader interface's own output of iReadCardBas_HSM_Step1 (§1.2.2)
    assert_eq!(
        step.request.to_interface_line().unwrap(),
        "519900|00814A444686605199000001AC|03|519900D15600000510000B26FFFFFFFF|32D9E876ADB31BBF|DBF7A936D0D18C9E|98B4D293D091C331|E603E2CAADAF02B6|"
    );
    let info = hsm::read_basic_step2(&mut card, &step, HSM_READ_ANSWER).unwrap();
    assert_eq!(info.card_number.as_str(), "HA1046924");
    assert_eq!(info.ssn.to_string(), "510122201610225130");
    assert_eq!(
        info.line("000000000000", ""),
        format!(
            "519900|510122201610225130|HA1046924|519900D15600000510000B26FFFFFFFF|{}|00814A444686605199000001AC|3.00|20170228|20270228|000000000000||",
            info.name
        )
    );
    let replay = card.into_transport();
    assert!(replay.steps.is_empty(), "commands of the trace not sent");
    assert_eq!(replay.sent.len(), steps.len());
}

#[test]
fn a_wrong_internal_authentication_answer_is_not_genuine() {
    let steps = basic_read_steps();
    let mut card = Card::open(Replay::new(&steps[..11])).unwrap();
    let step = hsm::read_basic_step1(&mut card).unwrap();
    let forged = "F4A0CF965BDCEA31DBF7A936D0D18C9E|774A08EDF447A1DEE603E2CAADAF02B6|";
    let err = hsm::read_basic_step2(&mut card, &step, forged).unwrap_err();
    assert!(err.to_string().contains("not genuine"), "{err}");
}

#[test]
fn pin_reload_through_an_hsm_is_the_trace() {
    let mut steps = basic_read_steps();
    steps.extend([
        ("0084000008", "1B0D7286F2DC77AF9000"),
        ("0084000008", "E4A30F837E2CAFEC9000"),
        ("008200061050C45431554CBADC1B0D7286F2DC77AF", "9000"),
        ("0084000008", "2AFD6A015D2D9BAC9000"),
        ("84240001142bc19c17ae974cd2427039c301cff79ffd937aa7", "9000"),
    ]);
    let mut card = Card::open(Replay::new(&steps)).unwrap();
    let step = hsm::read_basic_step1(&mut card).unwrap();
    hsm::read_basic_step2(&mut card, &step, HSM_READ_ANSWER).unwrap();

    let one = hsm::pin_step1(&mut card, PinMaintenance::Reload, None).unwrap();
    assert_eq!(
        one.request.to_line(),
        "03|0090|E4A30F837E2CAFEC|1B0D7286F2DC77AF|"
    );
    let pin = Pin::new("123456").unwrap();
    let two = hsm::pin_step2(
        &mut card,
        &one,
        "50C45431554CBADC1B0D7286F2DC77AF",
        Some(&pin),
    )
    .unwrap();
    // the trace writes this request without the final separator the reader interface asks for
    assert_eq!(
        two.request.to_line(),
        "03|0173|2AFD6A015D2D9BAC|8424000114|123456|"
    );
    hsm::pin_step3(&mut card, &two, "2bc19c17ae974cd2427039c301cff79ffd937aa7").unwrap();
    let replay = card.into_transport();
    assert!(replay.steps.is_empty(), "commands of the trace not sent");
}

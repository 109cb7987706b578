//! Helpers of the medical account tests (included with `#[path]` by `tests/account.rs`,
//! `tests/tearing_account.rs`, `tests/bad_input_account.rs`): cards with the account, PSAMs
//! with the purchase key, a host that checks TACs, an HSM that answers the reader interface's
//! step-one line.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard::account::{Fen, PurchaseAmounts, TerminalNumber, TransactionTime};
use sscard::crypto::{account as ac, KeyLevel};
use sscard::keyholder::account::check_tac;
use sscard::keyholder::{CardContext, KeyFile, PsamKeyHolder};
use sscard::keys::KeyRole;
use sscard::lifecycle::account::Receipt;
use sscard::lifecycle::Card;
use sscard::profile::Generation;
use sscard::sim::{
    AccountSpec, CardSpec, DataAreas, PinRecord, PsamSpec, SimCard, SimPsam, SimTransport,
};
use sscard::Algorithm;

use super::common::{
    card_spec, personalized_sim_of, region, root_keys, test_keys, SERIAL, TERMINAL_NUMBER,
};

/// An in-process card.
pub type SimCardT = Card<SimTransport<SimCard>>;
/// An in-process PSAM.
pub type SimPsamT = PsamKeyHolder<SimTransport<SimPsam>>;

/// The terminal number of the test PSAMs.
pub fn terminal() -> TerminalNumber {
    TerminalNumber::parse(TERMINAL_NUMBER).unwrap()
}

/// A time.
pub fn time(text: &str) -> TransactionTime {
    TransactionTime::parse(text).unwrap()
}

/// Amounts in fen.
pub fn amounts(account: u32, self_pay: u32, pooled: u32) -> PurchaseAmounts {
    PurchaseAmounts {
        account: Fen(account),
        self_pay: Fen(self_pay),
        pooled: Fen(pooled),
    }
}

/// The spec of a 3.0 card with the data areas and the account.
pub fn account_spec(alg: Algorithm, account: AccountSpec) -> CardSpec {
    card_spec(Generation::V3, alg, SERIAL)
        .with_data_areas(DataAreas::national().with_account(account))
}

/// A personalized 3.0 card (PIN 123456) with the account.
pub fn account_sim(alg: Algorithm, account: AccountSpec) -> SimCard {
    personalized_sim_of(account_spec(alg, account))
}

/// The same card without a PIN (a holder who set none).
pub fn without_pin(sim: SimCard) -> SimCard {
    let mut image = sim.into_image();
    image.pin = PinRecord::empty();
    SimCard::from_image(image).unwrap()
}

/// The card opened in process.
pub fn open(sim: SimCard) -> SimCardT {
    Card::open(SimTransport::new(sim)).unwrap()
}

/// The card image of an open card.
pub fn account_of(card: &SimCardT) -> sscard::sim::AccountImage {
    card.channel().transport().card().image().areas["DF04"]
        .account
        .clone()
        .unwrap()
}

/// A PSAM of `alg` with the SSSE keys and the account keys at `level`.
pub fn account_psam(alg: Algorithm, level: KeyLevel) -> SimPsam {
    let spec = PsamSpec::new(alg, TERMINAL_NUMBER)
        .with_region(region())
        .with_account_keys()
        .with_all_levels(level);
    SimPsam::from_root_keys(&root_keys(), &spec).unwrap()
}

/// A PSAM key holder over [`account_psam`].
pub fn psam_holder(alg: Algorithm, level: KeyLevel) -> SimPsamT {
    PsamKeyHolder::open(SimTransport::new(account_psam(alg, level))).unwrap()
}

/// The PSAM's terminal transaction serial (EF 0019).
pub fn psam_serial(psam: &SimPsamT) -> u32 {
    psam.channel().transport().card().image().transaction_serial
}

/// The host's check of a receipt's TAC with DTK.
pub fn tac_ok(card: &mut SimCardT, receipt: &Receipt) -> bool {
    let ctx = card.context().unwrap();
    check_tac(&mut test_keys(), &ctx, &receipt.transaction, receipt.tac).unwrap()
}

/// An HSM with the test keys answering `iDoDebit_HSM_Step1`'s line with `pKey`
/// (`终端交易序号|交易时间|MAC1|`): it takes the DPK of the card `ctx` names, the next serial
/// from `serial`.
pub fn hsm_answer(ctx: &CardContext, line: &str, serial: &mut u32) -> String {
    let f: Vec<&str> = line.split('|').collect();
    assert_eq!(f.len(), 9, "{line}");
    let random: [u8; 4] = hex::decode(f[2]).unwrap().try_into().unwrap();
    let card_serial = u16::from_str_radix(f[3], 16).unwrap();
    let last_two = hex::decode(f[4]).unwrap();
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&last_two);
    let amounts = PurchaseAmounts::from_bytes(&bytes);
    let terminal = TerminalNumber::parse(f[6]).unwrap();
    let t = time(f[7]);
    let dpk = test_keys().card_key(ctx, KeyRole::Dpk).unwrap();
    let sespk = ac::sespk(ctx.algorithm, &dpk, random, card_serial, *serial).unwrap();
    let mac1 = ac::purchase_mac1(ctx.algorithm, &sespk, amounts, 2, terminal, t.to_bcd()).unwrap();
    let answer = format!("{:08X}|{}|{}|", *serial, t, hex::encode_upper(mac1));
    *serial += 1;
    answer
}

/// The test key file as the host.
pub fn host() -> KeyFile {
    test_keys()
}

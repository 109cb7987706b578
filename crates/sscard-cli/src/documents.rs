//! The JSON documents of `sscard --output-format json`: one typed structure per document, built
//! from the library's own types where the library returns one (the card data of `read`, the
//! validity verdict, the PIN status, the medical account's balance, records and receipts, the
//! bank account, the personalization report), printed by the CLI and described by the JSON
//! Schema generated from the same structure (`docs/schema/`, [`all_schemas`]).
//!
//! Every document carries its schema name first, `"schema": "sscard.<command>/<version>"`
//! ([`Document::SCHEMA`]); the number changes when a field is removed or changes meaning.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value as Json;

use sscard_core::account::{
    DetailRecord, PendingTransaction, ProcessingMode, Proof, TransactionKind,
};
use sscard_core::data::{BcdDate, CardIdentificationCode};
use sscard_core::lifecycle::account::{Balance, Receipt};
use sscard_core::lifecycle::{BankAccount, CardData, PersonalizeReport, PinStatus, Verdict};
use sscard_core::profile::areas::{Area, Compat};
use sscard_core::Algorithm;

/// A JSON document of the command line.
pub trait Document: Serialize + JsonSchema {
    /// The schema name, `sscard.<command>/<version>`: the `"schema"` member of the document and
    /// the title of its JSON Schema.
    const SCHEMA: &'static str;
}

/// A document as printed: its schema name, then its members.
#[derive(Serialize)]
struct Printed<'a, D> {
    schema: &'static str,
    #[serde(flatten)]
    document: &'a D,
}

/// The document as one line of JSON, its schema name first.
pub fn to_json<D: Document>(document: &D) -> serde_json::Result<String> {
    serde_json::to_string(&Printed {
        schema: D::SCHEMA,
        document,
    })
}

/// The document as indented JSON, its schema name first.
pub fn to_json_pretty<D: Document>(document: &D) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Printed {
        schema: D::SCHEMA,
        document,
    })
}

/// The file of `docs/schema/` that holds the schema named `schema`: `sscard.read/3` is
/// `sscard.read.3.schema.json`.
pub fn schema_file_name(schema: &str) -> String {
    format!("{}.schema.json", schema.replace('/', "."))
}

/// The JSON Schema of a document, generated from its structure: the `schema` member required
/// and fixed to [`Document::SCHEMA`], which is also the title.
pub fn schema_of<D: Document>() -> Json {
    let mut schema = schemars::schema_for!(D).to_value();
    if let Some(object) = schema.as_object_mut() {
        object.insert("title".into(), Json::String(D::SCHEMA.into()));
        if let Some(Json::Object(properties)) = object.get_mut("properties") {
            properties.insert(
                "schema".into(),
                serde_json::json!({
                    "description": "The schema name of this document.",
                    "const": D::SCHEMA,
                }),
            );
        }
        match object.get_mut("required") {
            Some(Json::Array(required)) => required.insert(0, Json::String("schema".into())),
            _ => {
                object.insert("required".into(), serde_json::json!(["schema"]));
            }
        }
    }
    schema
}

/// Every document's schema name and JSON Schema, in the order of docs/cli.md's table.
pub fn all_schemas() -> Vec<(&'static str, Json)> {
    fn entry<D: Document>() -> (&'static str, Json) {
        (D::SCHEMA, schema_of::<D>())
    }
    vec![
        entry::<ReadDocument>(),
        entry::<PersonalizeDocument>(),
        entry::<AreasDocument>(),
        entry::<FileAddressDocument>(),
        entry::<PhotoDocument>(),
        entry::<WriteDocument>(),
        entry::<ActivateDocument>(),
        entry::<PinDocument>(),
        entry::<BlockDocument>(),
        entry::<BankAccountDocument>(),
        entry::<ApduDocument>(),
        entry::<SimNewDocument>(),
        entry::<SimNewPsamDocument>(),
        entry::<SimConvertDocument>(),
        entry::<KeysNewDocument>(),
        entry::<KeysNewStationDocument>(),
        entry::<SimServeDocument>(),
        entry::<BatchDocument>(),
        entry::<DemoDocument>(),
        entry::<AccountBalanceDocument>(),
        entry::<AccountRecordsDocument>(),
        entry::<AccountCreditDocument>(),
        entry::<AccountPurchaseDocument>(),
        entry::<AccountProofDocument>(),
        entry::<AccountReconcileDocument>(),
        entry::<BlocklistDocument>(),
        entry::<BlocklistKeygenDocument>(),
        entry::<BlocklistPublishDocument>(),
        entry::<BlocklistApplyDocument>(),
        entry::<BlocklistVerifyDocument>(),
        entry::<BlocklistShowDocument>(),
        entry::<BlocklistStatsDocument>(),
        entry::<BlocklistDiffDocument>(),
        entry::<ReadersDocument>(),
        entry::<ErrorDocument>(),
    ]
}

/// The `result` of a command that did what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Outcome {
    /// Done.
    #[serde(rename = "ok")]
    Ok,
}

// ---------------------------------------------------------------------------------------------
// failures

/// The document printed on stdout, under `--output-format json`, when a command fails (the
/// message is also printed on stderr).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorDocument {
    /// The class of the failure, one word (`no_card`, `pin`, `refused`, `bad_input`, …).
    pub code: String,
    /// The process exit code (docs/cli.md, "Exit codes").
    pub exit_code: i32,
    /// The message, as on stderr.
    pub message: String,
    /// What may help, when sscard knows more than the message says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Document for ErrorDocument {
    const SCHEMA: &'static str = "sscard.error/1";
}

// ---------------------------------------------------------------------------------------------
// read, personalize, activate, pin, block, bank account, apdu, readers

/// `sscard read`: the card issuing data (EF05) and the holder data (EF06) as the library reads
/// them ([`CardData`]), with the validity check's verdict when one was asked for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadDocument {
    /// What was read (`atr`, `algorithm`, `generation`, `issuing`, `holder`, `genuine`,
    /// `terminal_number`).
    #[serde(flatten)]
    pub card: CardData,
    /// The ATR's historical bytes (hex): the reader interface's 卡复位信息.
    pub historical_bytes: String,
    /// Whether the expiry date has passed (null: today's date unknown).
    pub expired: Option<bool>,
    /// The validity check of part 7 §5.4 (null: not asked for).
    pub validity: Option<Validity>,
    /// The `iReadCardBas` line of the reader interface.
    pub basic_line: String,
}

impl Document for ReadDocument {
    const SCHEMA: &'static str = "sscard.read/3";
}

/// The validity check's verdict ([`Verdict`]: `verdict` and its `detail`) and the problem in
/// words.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Validity {
    /// The verdict: `valid` (detail: the PIN status), `not_genuine`, `blocklisted` …
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Why the card is not valid, in words (null when it is).
    pub problem: Option<String>,
}

/// `sscard personalize`: the library's [`PersonalizeReport`] and how it went.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PersonalizeDocument {
    /// The card identification code, card number, generation, and whether the card already
    /// carried this personalization.
    #[serde(flatten)]
    pub report: PersonalizeReport,
    /// Whether the records were read back and compared.
    pub read_back: bool,
    /// The APDUs sent.
    pub apdus: u64,
    /// The data-area files written after it (a person record with `"areas"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_files: Option<usize>,
}

impl Document for PersonalizeDocument {
    const SCHEMA: &'static str = "sscard.personalize/3";
}

/// `sscard activate`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ActivateDocument {
    /// `ok`.
    pub result: Outcome,
    /// What happened, in words.
    pub message: String,
    /// The card number (null with `--no-verify`: the card was not read).
    pub card_number: Option<String>,
    /// Whether the validity check ran first.
    pub validity_checked: bool,
}

impl Document for ActivateDocument {
    const SCHEMA: &'static str = "sscard.activate/1";
}

/// `sscard pin verify|change|status|unblock|reload`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PinDocument {
    /// `ok`.
    pub result: Outcome,
    /// What happened, in words.
    pub message: String,
    /// `pin status`: the card's answer ([`PinStatus`]: `pin` is `not_set`, `required` with
    /// `tries_left`, or `blocked`).
    #[serde(flatten)]
    pub status: Option<PinStatus>,
}

impl Document for PinDocument {
    const SCHEMA: &'static str = "sscard.pin/2";
}

/// What `sscard block` blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockScope {
    /// The social security application (APPLICATION BLOCK: `9303`).
    Application,
    /// The whole card (CARD BLOCK: `6A81`).
    Card,
}

/// `sscard block`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlockDocument {
    /// `ok`.
    pub result: Outcome,
    /// What happened, in words.
    pub message: String,
    /// What was blocked.
    pub scope: BlockScope,
}

impl Document for BlockDocument {
    const SCHEMA: &'static str = "sscard.block/2";
}

/// `sscard bank-account`: the library's [`BankAccount`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BankAccountDocument {
    /// The account number (`pan`) and its expiry (`expiry`, YYMMDD or null).
    #[serde(flatten)]
    pub account: BankAccount,
}

impl Document for BankAccountDocument {
    const SCHEMA: &'static str = "sscard.bank-account/1";
}

/// One exchange of `sscard apdu`, secrets redacted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApduExchange {
    /// The command (hex, redacted as `--trace` shows it).
    pub command: String,
    /// The response (hex, redacted).
    pub response: String,
    /// The status word (4 hex digits).
    pub sw: String,
}

/// `sscard apdu`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApduDocument {
    /// The exchanges, in order.
    pub responses: Vec<ApduExchange>,
}

impl Document for ApduDocument {
    const SCHEMA: &'static str = "sscard.apdu/1";
}

/// One PC/SC reader.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReaderEntry {
    /// Its number (`--reader INDEX`).
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Whether a card is in it.
    pub card_present: bool,
    /// Whether a program uses the card.
    pub in_use: bool,
    /// Whether a program holds the card exclusively.
    pub exclusive: bool,
    /// The card's ATR (hex), when a card is present.
    pub atr: Option<String>,
}

/// `sscard readers`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadersDocument {
    /// The readers pcscd knows.
    pub readers: Vec<ReaderEntry>,
}

impl Document for ReadersDocument {
    const SCHEMA: &'static str = "sscard.readers/1";
}

// ---------------------------------------------------------------------------------------------
// data areas

/// `sscard read --file-address`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FileAddressDocument {
    /// The file address as given.
    pub address: String,
    /// The `iReadCard` answer.
    pub data: String,
}

impl Document for FileAddressDocument {
    const SCHEMA: &'static str = "sscard.read-file-address/1";
}

/// `sscard read --area`: every file of the areas asked for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AreasDocument {
    /// The areas, in the order asked.
    pub areas: Vec<AreaReading>,
}

impl Document for AreasDocument {
    const SCHEMA: &'static str = "sscard.read-areas/1";
}

/// One data area (DF) as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AreaReading {
    /// The DF (`DF01` …).
    pub df: String,
    /// The area's name on the command line.
    pub area: Area,
    /// The notice's name of the DF.
    pub name: String,
    /// Its files, in table order.
    pub files: Vec<AreaFile>,
}

/// One file of a data area as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AreaFile {
    /// The reader interface's file name (`DF01EF05`).
    pub file: String,
    /// The notice's name of the file.
    pub name: String,
    /// What it holds: `items`, `records`, `content`, or why it was `not_read`.
    #[serde(flatten)]
    pub contents: AreaFileContents,
}

/// What a file of a data area holds, as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AreaFileContents {
    /// A record file's items, every occurrence, in table order.
    Items(Vec<AreaItem>),
    /// A cyclic file's records, the newest first: field name → value.
    Records(Vec<AreaRecord>),
    /// A transparent file's content (hex).
    Content(String),
    /// Why the file was not read (a right the key holder or PIN does not give).
    NotRead(String),
}

/// One data item as read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AreaItem {
    /// The record identifier (2 hex digits).
    pub tag: String,
    /// Which record of the item (1 for most).
    pub occurrence: u8,
    /// The item's JSON name.
    pub field: String,
    /// The notice's name.
    pub name: String,
    /// The value: text, or a group's parts by field name (null: the card has no such record).
    pub value: Option<AreaValue>,
    /// The code's meaning, when the item has a code table and the code is in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// How the item relates to the V2.0 definition (appendix C); absent without a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compat: Option<Compat>,
}

/// A data item's value.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AreaValue {
    /// The text form (bytes in hex).
    Text(String),
    /// A group's parts by field name.
    Parts(BTreeMap<String, AreaValue>),
}

/// A record of a cyclic file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AreaRecord {
    /// Its fields by name.
    Fields(BTreeMap<String, String>),
    /// The record as text, when it does not split into the table's fields.
    Text(String),
}

/// `sscard read --photo FILE`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PhotoDocument {
    /// Where the photo was saved.
    pub file: String,
    /// `JPEG`, `BMP`, or unrecognised.
    pub format: String,
    /// Its size.
    pub bytes: usize,
}

impl Document for PhotoDocument {
    const SCHEMA: &'static str = "sscard.photo/1";
}

/// `sscard write`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WriteDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was written, in words.
    pub message: String,
    /// The APDUs sent.
    pub apdus: u64,
}

impl Document for WriteDocument {
    const SCHEMA: &'static str = "sscard.write/1";
}

// ---------------------------------------------------------------------------------------------
// simulated cards, keys, batch, demo

/// `sscard sim new`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SimNewDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was made, in words.
    pub message: String,
    /// The image file.
    pub image: String,
    /// The card's ATR (hex).
    pub atr: String,
    /// The card identification code.
    pub card_id: String,
    /// The spec version (`2.00`).
    pub generation: String,
    /// The card's algorithm.
    pub algorithm: Algorithm,
    /// The issuing region.
    pub region: String,
    /// Whether the card was personalized (`--person`).
    pub personalized: bool,
}

impl Document for SimNewDocument {
    const SCHEMA: &'static str = "sscard.sim-new/2";
}

/// `sscard sim new-psam`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SimNewPsamDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was made, in words.
    pub message: String,
    /// The image file.
    pub image: String,
    /// The PSAM's algorithm.
    pub algorithm: Algorithm,
    /// Its terminal number (EF 0016).
    pub terminal_number: String,
}

impl Document for SimNewPsamDocument {
    const SCHEMA: &'static str = "sscard.sim-new-psam/2";
}

/// `sscard sim convert`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SimConvertDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was converted, in words.
    pub message: String,
    /// The version-2 image written.
    pub image: String,
    /// The card's ATR (hex).
    pub atr: String,
    /// The card identification code (empty for a blank card).
    pub card_id: String,
    /// Whether the application or the card is blocked.
    pub blocked: bool,
}

impl Document for SimConvertDocument {
    const SCHEMA: &'static str = "sscard.sim-convert/1";
}

/// `sscard keys new`: the file and what it holds, never key values.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeysNewDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was made, in words.
    pub message: String,
    /// The key file.
    pub file: String,
    /// The algorithms it has keys for.
    pub algorithms: Vec<String>,
    /// The key roles.
    pub roles: Vec<String>,
}

impl Document for KeysNewDocument {
    const SCHEMA: &'static str = "sscard.keys-new/1";
}

/// `sscard keys new-station`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeysNewStationDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was made, in words.
    pub message: String,
    /// The station key file.
    pub file: String,
    /// The key's id (not the key).
    pub id: String,
}

impl Document for KeysNewStationDocument {
    const SCHEMA: &'static str = "sscard.keys-new-station/1";
}

/// `sscard sim serve`: one document each time a card is plugged into the virtual reader.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SimServeDocument {
    /// What is served (the image, or the feeder's card).
    pub serving: String,
    /// The PC/SC reader that shows the card (null: none seen).
    pub reader: Option<String>,
    /// The card's ATR (hex).
    pub atr: String,
    /// The vpcd address.
    pub vpcd: String,
    /// The PC/SC reader of the PSAM, if one is served.
    pub psam_reader: Option<String>,
    /// The vpcd address of the PSAM, if one is served.
    pub psam_vpcd: Option<String>,
}

impl Document for SimServeDocument {
    const SCHEMA: &'static str = "sscard.sim-serve/1";
}

/// `sscard batch`: the summary at the end of a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BatchDocument {
    /// Persons by result (`OK`, `FAILED`, `INVALID`, `DUPLICATE`, `UNDECIDED`, `PENDING`).
    pub counts: BTreeMap<String, u64>,
    /// Cards personalized in this run.
    pub personalized_this_run: u64,
    /// Entries of the journal.
    pub journal_entries: u64,
    /// The journal's chain head.
    pub journal_head: String,
    /// Journal fsyncs of this run.
    pub journal_fsyncs: u64,
    /// The return file.
    pub return_file: String,
    /// The run's time.
    pub elapsed_ms: u64,
}

impl Document for BatchDocument {
    const SCHEMA: &'static str = "sscard.batch/1";
}

/// One step of `sscard demo`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DemoStep {
    /// The step.
    pub step: String,
    /// Its APDUs.
    pub apdus: u64,
    /// What happened, in words.
    pub result: String,
}

/// `sscard demo`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DemoDocument {
    /// The steps, in order.
    pub steps: Vec<DemoStep>,
    /// The whole demo's time.
    pub elapsed_ms: u64,
}

impl Document for DemoDocument {
    const SCHEMA: &'static str = "sscard.demo/2";
}

// ---------------------------------------------------------------------------------------------
// the medical account (amounts in fen, integers)

/// `sscard account balance`: the library's [`Balance`] (amounts in fen).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountBalanceDocument {
    /// The card number.
    pub card_number: String,
    /// `account` (the balance), `self_pay_total`, `pooled_total` (fen) and `payment_year`.
    #[serde(flatten)]
    pub balance: Balance,
}

impl Document for AccountBalanceDocument {
    const SCHEMA: &'static str = "sscard.account-balance/2";
}

/// One transaction record of the card (the library's [`DetailRecord`], amounts in fen).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountRecord {
    /// The record number, 1 the newest.
    pub record: usize,
    /// The kind, when the type code is one the specification defines.
    pub kind: Option<TransactionKind>,
    /// The record as the card keeps it.
    #[serde(flatten)]
    pub detail: DetailRecord,
}

/// `sscard account records`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountRecordsDocument {
    /// The card number.
    pub card_number: String,
    /// The records' layout (null: no records yet).
    pub mode: Option<ProcessingMode>,
    /// The records, the newest first.
    pub records: Vec<AccountRecord>,
}

impl Document for AccountRecordsDocument {
    const SCHEMA: &'static str = "sscard.account-records/2";
}

/// How a transaction's end was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptSource {
    /// The card's answer to DEBIT / CREDIT.
    Card,
    /// GET TRANSACTION PROOF after the answer was lost.
    Proof,
}

/// What reconciling a journal's unresolved transaction with the card found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileOutcome {
    /// The card applied it (its proof read).
    Done,
    /// The card did not apply it (`9406`): nothing moved.
    Void,
}

/// A journal's earlier transaction, reconciled with the card (part 7 §14).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReconciledTransaction {
    /// The journal's entry.
    pub journal_entry: u64,
    /// The transaction (the library's [`PendingTransaction`]).
    pub transaction: PendingTransaction,
    /// Applied or not.
    pub outcome: ReconcileOutcome,
    /// Its TAC (hex) when applied.
    pub tac: Option<String>,
}

/// A credit or a purchase done: the library's [`Receipt`] and the terminal's journal.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountTransaction {
    /// `transaction` (card, serials, terminal, amounts, time, balance before), `balance_after`,
    /// `tac`, `mac2`, `mac2_check`, `algorithm`.
    #[serde(flatten)]
    pub receipt: Receipt,
    /// How its end was learnt.
    pub source: ReceiptSource,
    /// The journal file.
    pub journal: String,
    /// The journal's entry of the transaction.
    pub journal_entry: u64,
    /// The journal's earlier transactions of this card, reconciled first.
    pub reconciled: Vec<ReconciledTransaction>,
}

/// `sscard account credit`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountCreditDocument {
    /// The transaction done.
    #[serde(flatten)]
    pub done: AccountTransaction,
}

impl Document for AccountCreditDocument {
    const SCHEMA: &'static str = "sscard.account-credit/2";
}

/// `sscard account purchase`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountPurchaseDocument {
    /// The transaction done.
    #[serde(flatten)]
    pub done: AccountTransaction,
}

impl Document for AccountPurchaseDocument {
    const SCHEMA: &'static str = "sscard.account-purchase/2";
}

/// `sscard account proof --kind --serial`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountProofDocument {
    /// The kind asked for.
    pub kind: TransactionKind,
    /// The card's serial asked for.
    pub serial: u16,
    /// The proof (the library's [`Proof`]: `mac`, `tac`); null when the card has none (`9406`).
    pub proof: Option<Proof>,
}

impl Document for AccountProofDocument {
    const SCHEMA: &'static str = "sscard.account-proof/2";
}

/// `sscard account proof --journal`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountReconcileDocument {
    /// The journal file.
    pub journal: String,
    /// The card in the reader.
    pub card_id: CardIdentificationCode,
    /// The journal's transactions of this card.
    pub transactions: usize,
    /// The ones reconciled now.
    pub reconciled: Vec<ReconciledTransaction>,
    /// Unresolved transactions of other cards in the journal.
    pub unresolved_elsewhere: usize,
}

impl Document for AccountReconcileDocument {
    const SCHEMA: &'static str = "sscard.account-reconcile/2";
}

// ---------------------------------------------------------------------------------------------
// blocklist

/// `sscard blocklist new|add|remove`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistDocument {
    /// `ok`.
    pub result: Outcome,
    /// What changed, in words.
    pub message: String,
}

impl Document for BlocklistDocument {
    const SCHEMA: &'static str = "sscard.blocklist/1";
}

/// `sscard blocklist keygen`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistKeygenDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was made, in words.
    pub message: String,
    /// The key id of the new key.
    pub key_id: String,
}

impl Document for BlocklistKeygenDocument {
    const SCHEMA: &'static str = "sscard.blocklist-keygen/1";
}

/// `sscard blocklist publish`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistPublishDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was published, in words.
    pub message: String,
    /// The version published.
    pub version: u64,
    /// Its entries.
    pub entries: u64,
    /// The signed full list.
    pub full: String,
    /// The signed delta from the previous version (null for the first).
    pub delta: Option<String>,
    /// The first day the files are valid.
    pub valid_from: BcdDate,
    /// The last day.
    pub valid_until: BcdDate,
}

impl Document for BlocklistPublishDocument {
    const SCHEMA: &'static str = "sscard.blocklist-publish/1";
}

/// `sscard blocklist apply`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistApplyDocument {
    /// `ok`.
    pub result: Outcome,
    /// What each file did, in words (one line each).
    pub message: String,
    /// The version the terminal holds now.
    pub version: u64,
}

impl Document for BlocklistApplyDocument {
    const SCHEMA: &'static str = "sscard.blocklist-apply/1";
}

/// `sscard blocklist verify`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistVerifyDocument {
    /// `ok`.
    pub result: Outcome,
    /// What was checked, in words.
    pub message: String,
    /// `full` or `delta`.
    pub kind: String,
    /// The version.
    pub version: u64,
    /// A delta's base version (0 for a full list).
    pub base: u64,
    /// The signing key's id.
    pub key_id: String,
    /// The first day it is valid (null: not limited).
    pub valid_from: Option<BcdDate>,
    /// The last day (null: not limited).
    pub valid_until: Option<BcdDate>,
}

impl Document for BlocklistVerifyDocument {
    const SCHEMA: &'static str = "sscard.blocklist-verify/2";
}

/// One entry of a blocklist.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlocklistEntry {
    /// A card.
    Card {
        /// Its card identification code.
        card_id: String,
        /// Its card number.
        card_number: String,
        /// Why it is listed.
        reason: String,
        /// The date of the report.
        date: BcdDate,
    },
    /// A range of card numbers.
    Range {
        /// The first card number.
        first: String,
        /// The last.
        last: String,
        /// Why it is listed.
        reason: String,
        /// The date of the report.
        date: BcdDate,
    },
}

/// `sscard blocklist show`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistShowDocument {
    /// What the file is, in words.
    pub title: String,
    /// Its entries (a delta: the ones it adds or re-marks), at most `--limit`.
    pub entries: Vec<BlocklistEntry>,
    /// The entries a delta removes.
    pub removed: Vec<String>,
}

impl Document for BlocklistShowDocument {
    const SCHEMA: &'static str = "sscard.blocklist-show/1";
}

/// `sscard blocklist stats`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistStatsDocument {
    /// `full`, `delta` or `working`.
    pub kind: String,
    /// The version (null for a working list).
    pub version: Option<u64>,
    /// The first day it is valid.
    pub valid_from: Option<BcdDate>,
    /// The last day.
    pub valid_until: Option<BcdDate>,
    /// The signing key's id.
    pub key_id: Option<String>,
    /// Whether the signature was checked (`--key`).
    pub signature_verified: bool,
    /// Single cards.
    pub cards: u64,
    /// Card-number ranges.
    pub ranges: u64,
    /// Entries by reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The file's size.
    pub bytes: Option<usize>,
    /// Bytes per entry.
    pub bytes_per_entry: Option<f64>,
}

impl Document for BlocklistStatsDocument {
    const SCHEMA: &'static str = "sscard.blocklist-stats/1";
}

/// `sscard blocklist diff`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BlocklistDiffDocument {
    /// The older version.
    pub old_version: u64,
    /// The newer version.
    pub new_version: u64,
    /// Entries added.
    pub added: u64,
    /// Entries removed.
    pub removed: u64,
    /// Entries re-marked.
    pub changed: u64,
    /// The changes, one line each (`+`, `-`, `~`).
    pub lines: Vec<String>,
}

impl Document for BlocklistDiffDocument {
    const SCHEMA: &'static str = "sscard.blocklist-diff/1";
}

//! Opening and closing the devices of one call (reader interface §6.3 操作流程: open the
//! device and power the card at the start of every function, power it down and close the
//! device at its end or on any error): the card in the reader `iType` and the configuration
//! choose, and the PSAM.

use sscard_core::keyholder::PsamKeyHolder;
use sscard_core::lifecycle::Card;
use sscard_core::transport::TransportError;
use sscard_pcsc::{Disposition, Pcsc, PcscTransport, ReaderInfo, ReaderSelector, ShareMode};

use crate::codes::{Failure, NO_CARD, NO_PSAM, PSAM_ALGORITHM, READER_ERROR};
use crate::config::Config;
use crate::log;
use crate::text::CardType;

/// The card of one call.
pub type OpenCard = Card<PcscTransport>;
/// The PSAM of one call.
pub type OpenPsam = PsamKeyHolder<PcscTransport>;

fn reader_failure(e: &TransportError, what: &str) -> Failure {
    let code = match e {
        TransportError::NoCard => NO_CARD,
        _ => READER_ERROR,
    };
    Failure::new(code, format!("{what}: {e}"))
}

fn resolve<'a>(
    readers: &'a [ReaderInfo],
    setting: &str,
    key: &str,
) -> Result<&'a ReaderInfo, Failure> {
    ReaderSelector::parse(setting)
        .resolve(readers)
        .map_err(|e| reader_failure(&e, &format!("{key} = {setting}")))
}

/// The reader of the card `card_type` asks for.
fn card_reader(config: &Config, card_type: CardType) -> Result<String, Failure> {
    let readers = Pcsc::new()
        .list_readers()
        .map_err(|e| reader_failure(&e, "listing the readers"))?;
    let psam = config
        .psam_reader
        .as_deref()
        .and_then(|s| ReaderSelector::parse(s).resolve(&readers).ok())
        .map(|r| r.name.clone());
    let contactless = match config.contactless_reader.as_deref() {
        Some(s) => Some(resolve(&readers, s, "contactless_reader")?),
        None => None,
    };
    let contact = match config.contact_reader.as_deref() {
        Some(s) => Some(resolve(&readers, s, "contact_reader")?),
        None => readers.iter().find(|r| {
            r.card_present
                && Some(&r.name) != psam.as_ref()
                && Some(&r.name) != contactless.map(|c| &c.name)
        }),
    };
    let order: Vec<Option<&ReaderInfo>> = match card_type {
        CardType::Contact => vec![contact],
        CardType::Contactless => vec![contactless],
        CardType::ContactFirst => vec![contact, contactless],
        CardType::ContactlessFirst => vec![contactless, contact],
    };
    if let Some(r) = order.iter().flatten().find(|r| r.card_present) {
        return Ok(r.name.clone());
    }
    let configured: Vec<&str> = order.iter().flatten().map(|r| r.name.as_str()).collect();
    match (configured.is_empty(), card_type) {
        (true, CardType::Contactless) => Err(Failure::new(
            READER_ERROR,
            "no contactless reader is configured (contactless_reader)",
        )),
        (true, _) => Err(Failure::new(
            NO_CARD,
            "no reader holds a card (configure contact_reader)",
        )),
        (false, _) => Err(Failure::new(
            NO_CARD,
            format!("no card in {}", configured.join(" or ")),
        )),
    }
}

/// Opens the card `card_type` asks for and reads its ATR.
pub fn open_card(config: &Config, card_type: CardType) -> Result<OpenCard, Failure> {
    let name = card_reader(config, card_type)?;
    let transport =
        PcscTransport::connect(&name, ShareMode::Shared).map_err(|e| reader_failure(&e, &name))?;
    let mut card = Card::open(transport).map_err(Failure::from)?;
    card.set_tracer(log::tracer(config, "card"));
    Ok(card)
}

/// Opens the PSAM: `-2201` (无 PSAM 卡) when none is configured, its reader is empty or the
/// card in it has no PSAM application.
pub fn open_psam(config: &Config) -> Result<OpenPsam, Failure> {
    let setting = config
        .psam_reader
        .as_deref()
        .ok_or_else(|| Failure::new(NO_PSAM, "no PSAM reader is configured (psam_reader)"))?;
    let readers = Pcsc::new()
        .list_readers()
        .map_err(|e| reader_failure(&e, "listing the readers"))?;
    let reader = ReaderSelector::parse(setting)
        .resolve(&readers)
        .map_err(|e| Failure::new(NO_PSAM, format!("psam_reader = {setting}: {e}")))?;
    if !reader.card_present {
        return Err(Failure::new(NO_PSAM, format!("no card in {}", reader.name)));
    }
    let transport = PcscTransport::connect(&reader.name, ShareMode::Shared)
        .map_err(|e| Failure::new(NO_PSAM, format!("{}: {e}", reader.name)))?;
    let mut channel = sscard_core::channel::Channel::new(transport);
    channel.set_tracer(log::tracer(config, "psam"));
    PsamKeyHolder::with_channel(channel).map_err(|e| {
        let f = Failure::from(sscard_core::Error::KeyHolder(e));
        // whatever else is wrong with the card in the PSAM slot, there is no usable PSAM
        let code = if f.code == PSAM_ALGORITHM {
            f.code
        } else {
            NO_PSAM
        };
        Failure::new(code, format!("PSAM in {}: {}", reader.name, f.detail))
    })
}

/// Powers the card down and closes its reader (errors are of no use to the caller any more).
pub fn close_card(card: OpenCard) {
    let _ = card.into_transport().disconnect(Disposition::Unpower);
}

/// Powers the PSAM down and closes its reader.
pub fn close_psam(psam: OpenPsam) {
    let _ = psam.into_inner().disconnect(Disposition::Unpower);
}

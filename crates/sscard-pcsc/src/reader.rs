//! Readers: the PC/SC context, listing, choosing and waiting for a card.

use std::ffi::CString;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};
use sscard_core::transport::TransportError;

use crate::error::{context_lost, map_error};

/// Environment variable consulted when no reader is named: a [`ReaderSelector`] in text form.
pub const READER_ENV: &str = "SSCARD_READER";

/// One reader as PC/SC sees it right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Position in the reader list (what [`ReaderSelector::Index`] counts), from 0.
    pub index: usize,
    /// The reader's full name, e.g. `Virtual PCD 00 00`.
    pub name: String,
    /// A card is in the reader.
    pub card_present: bool,
    /// Another program holds the card exclusively.
    pub exclusive: bool,
    /// Some program (possibly this one) is connected to the card.
    pub in_use: bool,
    /// The card's ATR, when a card is present.
    pub atr: Option<Vec<u8>>,
}

/// How to choose a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSelector {
    /// The n-th reader of the list (from 0).
    Index(usize),
    /// The reader with exactly this name.
    Exact(String),
    /// The one reader whose name is this name, or else the one reader whose name contains it
    /// (ignoring ASCII case). Several matches are an error, never a guess.
    Fragment(String),
}

impl ReaderSelector {
    /// Parses user input: a number is an index, anything else a name (fragment).
    pub fn parse(text: &str) -> ReaderSelector {
        let text = text.trim();
        match text.parse::<usize>() {
            Ok(index) if !text.is_empty() => ReaderSelector::Index(index),
            _ => ReaderSelector::Fragment(text.to_owned()),
        }
    }

    /// The selector in `$SSCARD_READER`, if set and not empty.
    pub fn from_env() -> Option<ReaderSelector> {
        std::env::var(READER_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| ReaderSelector::parse(&v))
    }

    /// Finds the reader this selector names in `readers`.
    pub fn resolve<'a>(&self, readers: &'a [ReaderInfo]) -> Result<&'a ReaderInfo, TransportError> {
        if readers.is_empty() {
            return Err(TransportError::NoReaders);
        }
        match self {
            ReaderSelector::Index(index) => readers
                .iter()
                .find(|r| r.index == *index)
                .ok_or_else(|| TransportError::ReaderNotFound(format!("#{index}"))),
            ReaderSelector::Exact(name) => readers
                .iter()
                .find(|r| r.name == *name)
                .ok_or_else(|| TransportError::ReaderNotFound(name.clone())),
            ReaderSelector::Fragment(fragment) => {
                if let Some(exact) = readers.iter().find(|r| r.name == *fragment) {
                    return Ok(exact);
                }
                let wanted = fragment.to_ascii_lowercase();
                let mut matches = readers
                    .iter()
                    .filter(|r| r.name.to_ascii_lowercase().contains(&wanted));
                match (matches.next(), matches.next()) {
                    (Some(one), None) => Ok(one),
                    (None, _) => Err(TransportError::ReaderNotFound(fragment.clone())),
                    (Some(first), Some(second)) => {
                        let mut names = vec![first.name.as_str(), second.name.as_str()];
                        names.extend(matches.map(|r| r.name.as_str()));
                        Err(TransportError::AmbiguousReader(format!(
                            "reader name {fragment:?} is ambiguous: it matches {}",
                            names.join(", ")
                        )))
                    }
                }
            }
        }
    }
}

impl FromStr for ReaderSelector {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ReaderSelector::parse(s))
    }
}

impl fmt::Display for ReaderSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderSelector::Index(i) => write!(f, "{i}"),
            ReaderSelector::Exact(name) | ReaderSelector::Fragment(name) => f.write_str(name),
        }
    }
}

/// A connection to the smart-card service (a PC/SC context), established lazily and again
/// after the service went away (pcsc-lite never recovers a context once pcscd restarted).
pub struct Pcsc {
    context: Option<Context>,
}

impl fmt::Debug for Pcsc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pcsc")
            .field("established", &self.context.is_some())
            .finish()
    }
}

impl Default for Pcsc {
    fn default() -> Self {
        Pcsc::new()
    }
}

impl Pcsc {
    /// A handle that establishes its context on first use.
    pub fn new() -> Pcsc {
        Pcsc { context: None }
    }

    /// Establishes the context now: fails with [`TransportError::NoService`] when pcscd is not
    /// running.
    pub fn establish() -> Result<Pcsc, TransportError> {
        let mut pcsc = Pcsc::new();
        pcsc.context()?;
        Ok(pcsc)
    }

    /// The context, established if needed.
    pub(crate) fn context(&mut self) -> Result<&Context, TransportError> {
        if self.context.is_none() {
            let context = Context::establish(Scope::User).map_err(|e| map_error(e, None))?;
            self.context = Some(context);
        }
        self.context
            .as_ref()
            .ok_or_else(|| TransportError::Other("PC/SC context missing".into()))
    }

    /// Forgets the context if `error` means it is dead, and maps the error.
    pub(crate) fn fail(&mut self, error: pcsc::Error, reader: Option<&str>) -> TransportError {
        if context_lost(error) {
            self.context = None;
            return TransportError::NoService;
        }
        map_error(error, reader)
    }

    /// Drops the context; the next call establishes a new one.
    pub fn reset_context(&mut self) {
        self.context = None;
    }

    /// Every reader with its card presence and ATR, in PC/SC order. No reader: an empty list.
    pub fn list_readers(&mut self) -> Result<Vec<ReaderInfo>, TransportError> {
        Ok(self.reader_states()?.iter().map(reader_info).collect())
    }

    /// The readers' current states (`index` = position); the last call's states are current.
    fn reader_states(&mut self) -> Result<Vec<(usize, ReaderState)>, TransportError> {
        let listed = self.context()?.list_readers_owned();
        let names = match listed {
            Ok(names) => names,
            Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
            Err(e) => return Err(self.fail(e, None)),
        };
        let mut states: Vec<ReaderState> = names
            .into_iter()
            .map(|name| ReaderState::new(name, State::UNAWARE))
            .collect();
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let result = self
            .context()?
            .get_status_change(Duration::ZERO, &mut states);
        match result {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            // A reader vanished between the two calls: list again next time.
            Err(pcsc::Error::UnknownReader) => {}
            Err(e) => return Err(self.fail(e, None)),
        }
        for state in &mut states {
            state.sync_current_state();
        }
        Ok(states.into_iter().enumerate().collect())
    }

    /// The current state of one reader (fails with ReaderNotFound when it is gone).
    pub(crate) fn reader_state(
        &mut self,
        reader: &std::ffi::CStr,
    ) -> Result<State, TransportError> {
        let mut states = [ReaderState::new(reader, State::UNAWARE)];
        let result = self
            .context()?
            .get_status_change(Duration::ZERO, &mut states);
        let name = reader.to_string_lossy();
        match result {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(self.fail(e, Some(&name))),
        }
        let state = states[0].event_state();
        if state.contains(State::UNKNOWN) {
            return Err(TransportError::ReaderNotFound(name.into_owned()));
        }
        Ok(state)
    }

    /// The reader to use: `selector`, else `$SSCARD_READER`, else the first reader holding a
    /// card (or the only reader, even empty).
    pub fn select_reader(
        &mut self,
        selector: Option<&ReaderSelector>,
    ) -> Result<ReaderInfo, TransportError> {
        let readers = self.list_readers()?;
        pick(
            &readers,
            selector.cloned().or_else(ReaderSelector::from_env).as_ref(),
        )
        .cloned()
    }

    /// Waits up to `timeout` until the chosen reader (as in [`Pcsc::select_reader`]; without a
    /// selector: any reader) holds a card, and returns it. Readers plugged in meanwhile count.
    pub fn wait_for_card(
        &mut self,
        selector: Option<&ReaderSelector>,
        timeout: Duration,
    ) -> Result<ReaderInfo, TransportError> {
        let selector = selector.cloned().or_else(ReaderSelector::from_env);
        let deadline = Instant::now() + timeout;
        loop {
            let states = self.reader_states()?;
            let readers: Vec<ReaderInfo> = states.iter().map(reader_info).collect();
            let chosen = match &selector {
                Some(sel) => match sel.resolve(&readers) {
                    Ok(r) => Some(r),
                    // The reader may still be plugged in.
                    Err(TransportError::NoReaders | TransportError::ReaderNotFound(_)) => None,
                    Err(e) => return Err(e),
                },
                None => readers.iter().find(|r| r.card_present),
            };
            if let Some(reader) = chosen {
                if reader.card_present {
                    return Ok(reader.clone());
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let secs = u64::try_from(timeout.as_millis().div_ceil(1000)).unwrap_or(u64::MAX);
                return Err(TransportError::NoCardInserted(secs));
            }
            let mut watch: Vec<ReaderState> = states
                .into_iter()
                .filter(|(_, s)| match chosen {
                    Some(c) => s.name().to_bytes() == c.name.as_bytes(),
                    None => true,
                })
                .map(|(_, s)| s)
                .collect();
            watch.push(ReaderState::new(
                CString::from(pcsc::PNP_NOTIFICATION()),
                State::UNAWARE,
            ));
            // Prime: learn the PnP pseudo reader's state (or it would fire at once).
            let primed = self
                .context()?
                .get_status_change(Duration::ZERO, &mut watch);
            match primed {
                Ok(()) | Err(pcsc::Error::Timeout) | Err(pcsc::Error::UnknownReader) => {}
                Err(e) => return Err(self.fail(e, None)),
            }
            if watch
                .iter()
                .any(|s| !is_pnp(s) && s.event_state().contains(State::CHANGED))
            {
                continue; // something changed meanwhile: look again
            }
            for s in &mut watch {
                s.sync_current_state();
            }
            // Sleep in pcscd until a watched reader changes or readers come or go.
            let step = remaining.min(Duration::from_secs(1));
            let waited = self.context()?.get_status_change(step, &mut watch);
            match waited {
                Ok(()) | Err(pcsc::Error::Timeout) | Err(pcsc::Error::UnknownReader) => {}
                Err(e) => return Err(self.fail(e, None)),
            }
        }
    }
}

fn is_pnp(state: &ReaderState) -> bool {
    state.name() == pcsc::PNP_NOTIFICATION()
}

fn reader_info((index, state): &(usize, ReaderState)) -> ReaderInfo {
    let event = state.event_state();
    let card_present = event.contains(State::PRESENT);
    let atr = state.atr();
    ReaderInfo {
        index: *index,
        name: state.name().to_string_lossy().into_owned(),
        card_present,
        exclusive: event.contains(State::EXCLUSIVE),
        in_use: event.contains(State::INUSE),
        atr: (card_present && !atr.is_empty()).then(|| atr.to_vec()),
    }
}

/// The reader a selector (or the default rule) picks.
fn pick<'a>(
    readers: &'a [ReaderInfo],
    selector: Option<&ReaderSelector>,
) -> Result<&'a ReaderInfo, TransportError> {
    if let Some(selector) = selector {
        return selector.resolve(readers);
    }
    match readers {
        [] => Err(TransportError::NoReaders),
        [only] => Ok(only),
        _ => readers
            .iter()
            .find(|r| r.card_present)
            .ok_or(TransportError::NoCard),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn reader(index: usize, name: &str, card: bool) -> ReaderInfo {
        ReaderInfo {
            index,
            name: name.into(),
            card_present: card,
            exclusive: false,
            in_use: false,
            atr: card.then(|| vec![0x3B, 0x00]),
        }
    }

    fn readers() -> Vec<ReaderInfo> {
        vec![
            reader(0, "Virtual PCD 00 00", false),
            reader(1, "Virtual PCD 00 01", true),
            reader(2, "ACS ACR39U ICC Reader 00 00", false),
        ]
    }

    #[test]
    fn parse_selectors() {
        assert_eq!(ReaderSelector::parse("1"), ReaderSelector::Index(1));
        assert_eq!(ReaderSelector::parse(" 2 "), ReaderSelector::Index(2));
        assert_eq!(
            ReaderSelector::parse("ACS"),
            ReaderSelector::Fragment("ACS".into())
        );
        assert_eq!(
            "Virtual PCD 00 01".parse::<ReaderSelector>().unwrap(),
            ReaderSelector::Fragment("Virtual PCD 00 01".into())
        );
        assert_eq!(ReaderSelector::Index(3).to_string(), "3");
    }

    #[test]
    fn resolve_by_index_name_and_fragment() {
        let rs = readers();
        assert_eq!(ReaderSelector::Index(2).resolve(&rs).unwrap().index, 2);
        assert_eq!(
            ReaderSelector::Index(3).resolve(&rs),
            Err(TransportError::ReaderNotFound("#3".into()))
        );
        let exact = ReaderSelector::Exact("Virtual PCD 00 01".into());
        assert_eq!(exact.resolve(&rs).unwrap().index, 1);
        assert!(ReaderSelector::Exact("Virtual".into())
            .resolve(&rs)
            .is_err());
        // A fragment, case-insensitive.
        let acs = ReaderSelector::Fragment("acr39".into());
        assert_eq!(acs.resolve(&rs).unwrap().index, 2);
        // An exact name wins over being a fragment of others.
        let full = ReaderSelector::Fragment("Virtual PCD 00 00".into());
        assert_eq!(full.resolve(&rs).unwrap().index, 0);
        // Ambiguous fragments are refused, naming the candidates.
        let err = ReaderSelector::Fragment("virtual".into())
            .resolve(&rs)
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("Virtual PCD 00 00, Virtual PCD 00 01"));
        assert_eq!(
            ReaderSelector::Fragment("Gemalto".into()).resolve(&rs),
            Err(TransportError::ReaderNotFound("Gemalto".into()))
        );
        assert_eq!(
            ReaderSelector::Index(0).resolve(&[]),
            Err(TransportError::NoReaders)
        );
    }

    #[test]
    fn default_pick() {
        let rs = readers();
        assert_eq!(
            pick(&rs, None).unwrap().index,
            1,
            "first reader with a card"
        );
        let empty: Vec<ReaderInfo> = rs
            .iter()
            .cloned()
            .map(|mut r| {
                r.card_present = false;
                r
            })
            .collect();
        assert_eq!(pick(&empty, None), Err(TransportError::NoCard));
        assert_eq!(pick(&empty[..1], None).unwrap().index, 0, "the only reader");
        assert_eq!(pick(&[], None), Err(TransportError::NoReaders));
    }
}

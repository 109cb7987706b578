//! The channel: the one place that drives a [`Transport`].
//!
//! [`Channel::send`] encodes a [`Command`], transmits it and hides the transmission-level
//! status words:
//! - `61xx` (T=0: data waiting): GET RESPONSE until the card stops announcing data, at most
//!   [`MAX_GET_RESPONSE`] rounds, appending the data; the status word of the last response wins;
//! - `6Cxx` (wrong Le): the same command is sent again once with Le = xx; a second `6Cxx` is
//!   returned as is.
//!
//! Every physical APDU (GET RESPONSE and resends included) passes through one function that
//! counts it and, when a tracer is installed, hands it to the tracer as a [`TraceEvent`] whose
//! text already has the secrets replaced by `REDACTED(n bytes)`: the data of
//! [`CommandData::Sensitive`](crate::apdu::CommandData::Sensitive) commands and the response data
//! of commands marked [`Command::with_sensitive_response`]. This is the only place in the crate
//! that renders APDU bytes as text.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::apdu::sensitivity::{self, DataSecret};
use crate::apdu::{commands, instruction, ApduError, Command, Response, StatusWord};
use crate::transport::{Transport, TransportError};

/// How many GET RESPONSE commands one [`Channel::send`] sends at most.
pub const MAX_GET_RESPONSE: usize = 32;

/// A tracer: called once per physical APDU with secrets already redacted.
///
/// Core has no clock: a tracer that wants per-APDU timing measures it itself (for example the
/// time between two calls, or around [`Channel::send`]).
pub type Tracer = Box<dyn FnMut(&TraceEvent) + Send>;

/// One physical APDU exchange as text, secrets redacted.
///
/// `Display` renders it as two lines in the usual trace style:
///
/// ```text
/// A>> 00 20 00 00 03 REDACTED(3 bytes)
/// A<< 90 00
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceEvent {
    /// Number of this physical APDU on its channel (1 for the first since creation or since
    /// the last [`Channel::reset_apdu_count`]).
    pub index: u64,
    /// The command's name when its instruction byte is one of this protocol's, e.g. `VERIFY`.
    pub name: Option<&'static str>,
    /// The command bytes in hex, the data replaced by `REDACTED(n bytes)` when sensitive; the
    /// header, Lc and Le stay visible.
    pub command: String,
    /// The response bytes in hex, the data replaced by `REDACTED(n bytes)` when sensitive; the
    /// status word stays visible. On a transport failure, the error.
    pub response: String,
    /// The status word, when a well-formed response came back.
    pub sw: Option<StatusWord>,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A>> {}\nA<< {}", self.command, self.response)
    }
}

/// Why an exchange through the channel failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The command could not be encoded, or the response was malformed.
    #[error("malformed APDU: {0}")]
    Apdu(#[from] ApduError),
    /// The card answered a status word other than `9000` (from [`Channel::send_ok`]).
    #[error("the card answered {0}")]
    Status(StatusWord),
    /// The card kept answering `61xx` after [`MAX_GET_RESPONSE`] GET RESPONSE commands.
    #[error(
        "the card kept announcing more data (61xx) after {MAX_GET_RESPONSE} GET RESPONSE commands"
    )]
    TooManyGetResponse,
}

/// An APDU channel over a transport it owns. See the [module documentation](self).
pub struct Channel<T: Transport> {
    transport: T,
    tracer: Option<Tracer>,
    apdu_count: u64,
    /// Transactions begun and not yet ended: only the outermost reaches the transport.
    depth: u32,
}

impl<T: Transport> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("apdu_count", &self.apdu_count)
            .field("tracer", &self.tracer.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Channel<T> {
    /// A channel over `transport`, without tracer, counter at 0.
    pub fn new(transport: T) -> Self {
        Channel {
            transport,
            tracer: None,
            apdu_count: 0,
            depth: 0,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutable (for transactions; send APDUs through [`Channel::send`] only).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.transport
    }

    /// Installs (or with `None` removes) the tracer that sees every physical APDU, secrets
    /// redacted.
    pub fn set_tracer(&mut self, tracer: Option<Tracer>) {
        self.tracer = tracer;
    }

    /// Physical APDUs sent (GET RESPONSE and `6Cxx` resends included) since creation or the
    /// last [`Channel::reset_apdu_count`].
    pub fn apdu_count(&self) -> u64 {
        self.apdu_count
    }

    /// Sets the APDU counter back to 0.
    pub fn reset_apdu_count(&mut self) {
        self.apdu_count = 0;
    }

    /// The card's ATR, from the transport.
    pub fn atr(&mut self) -> Result<Vec<u8>, ChannelError> {
        Ok(self.transport.atr()?)
    }

    /// The transport's reset epoch (see [`Transport::reset_epoch`]).
    pub fn reset_epoch(&self) -> u64 {
        self.transport.reset_epoch()
    }

    /// Begins an exclusive transaction. Transactions nest: only the outermost begins one on
    /// the transport, so an operation that runs another inside keeps the card locked until the
    /// outer one ends.
    pub fn begin_transaction(&mut self) -> Result<(), ChannelError> {
        if self.depth == 0 {
            self.transport.begin_transaction()?;
        }
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    /// Ends a transaction begun with [`Channel::begin_transaction`]; the outermost one ends the
    /// transport's (leaving the card as it is). Ending more than were begun does nothing.
    pub fn end_transaction(&mut self) -> Result<(), ChannelError> {
        match self.depth {
            0 => Ok(()),
            1 => {
                self.depth = 0;
                Ok(self.transport.end_transaction()?)
            }
            _ => {
                self.depth -= 1;
                Ok(())
            }
        }
    }

    /// How many transactions are open (nested) on this channel.
    pub fn transaction_depth(&self) -> u32 {
        self.depth
    }

    /// Sends `command` and returns the card's final response: `6Cxx` corrected once, `61xx`
    /// followed by GET RESPONSE (data appended, status word of the last response), every
    /// physical APDU counted and traced.
    pub fn send(&mut self, command: &Command) -> Result<Response, ChannelError> {
        let first = self.exchange_corrected(command)?;
        let StatusWord::MoreData(mut available) = first.sw() else {
            return Ok(first);
        };
        let mut parts = vec![first];
        let mut rounds = 0;
        let sw = loop {
            if rounds == MAX_GET_RESPONSE {
                return Err(ChannelError::TooManyGetResponse);
            }
            rounds += 1;
            let mut get_response = commands::get_response(le_of(available));
            if command.has_sensitive_response()
                || sensitivity::classify(command.cla, command.ins, command.p1).response
            {
                get_response = get_response.with_sensitive_response();
            }
            let part = self.exchange_corrected(&get_response)?;
            let sw = part.sw();
            parts.push(part);
            match sw {
                StatusWord::MoreData(n) => available = n,
                sw => break sw,
            }
        };
        let total = parts.iter().map(|p| p.data().len()).sum();
        let mut data = Vec::with_capacity(total);
        for part in &parts {
            data.extend_from_slice(part.data());
        }
        Ok(Response::new(data, sw))
    }

    /// Like [`Channel::send`], but a status word other than `9000` becomes
    /// [`ChannelError::Status`]. Returns the response data.
    pub fn send_ok(&mut self, command: &Command) -> Result<Vec<u8>, ChannelError> {
        let response = self.send(command)?;
        if response.is_ok() {
            Ok(response.into_data())
        } else {
            Err(ChannelError::Status(response.sw()))
        }
    }

    /// One command with the `6Cxx` correction: resent once with Le = xx.
    fn exchange_corrected(&mut self, command: &Command) -> Result<Response, ChannelError> {
        let response = self.exchange(command)?;
        match response.sw() {
            StatusWord::WrongLe(le) => {
                let resend = command.clone().with_le(le_of(le));
                self.exchange(&resend)
            }
            _ => Ok(response),
        }
    }

    /// THE physical exchange: encode, count, transmit, trace, parse. Every APDU passes here.
    fn exchange(&mut self, command: &Command) -> Result<Response, ChannelError> {
        let (bytes, data_start) = command.encode()?;
        self.apdu_count += 1;
        let result = self.transport.transmit(&bytes).map(Zeroizing::new);
        if let Some(tracer) = self.tracer.as_mut() {
            let event = trace_event(self.apdu_count, command, &bytes, data_start, &result);
            tracer(&event);
        }
        let raw = result?;
        Ok(Response::parse(&raw)?)
    }
}

/// The Le byte of `61xx` / `6Cxx` as a length: `00` is 256.
fn le_of(b: u8) -> usize {
    if b == 0 {
        256
    } else {
        usize::from(b)
    }
}

/// The text of a command and of its (final) response as the trace renders them, secrets
/// replaced by `REDACTED(n bytes)`: for programs that show APDUs themselves (a raw-APDU tool),
/// so that every rendering of APDU bytes goes through this module. `None` for the response part
/// when there is no response yet.
pub fn render_exchange(command: &Command, response: Option<&Response>) -> TraceEvent {
    let encoded = command.encode();
    let result = response.map(|r| Ok(Zeroizing::new(r.to_bytes())));
    match (encoded, result) {
        (Ok((bytes, data_start)), Some(result)) => {
            trace_event(0, command, &bytes, data_start, &result)
        }
        (Ok((bytes, data_start)), None) => {
            let mut event = trace_event(
                0,
                command,
                &bytes,
                data_start,
                &Ok(Zeroizing::new(Vec::new())),
            );
            event.response = String::new();
            event.sw = None;
            event
        }
        (Err(e), _) => TraceEvent {
            index: 0,
            name: instruction::name(command.ins),
            command: format!("(not encodable: {e})"),
            response: String::new(),
            sw: None,
        },
    }
}

/// Builds the redacted text of one exchange. The only function that renders APDU bytes.
fn trace_event(
    index: u64,
    command: &Command,
    encoded: &[u8],
    data_start: usize,
    result: &Result<Zeroizing<Vec<u8>>, TransportError>,
) -> TraceEvent {
    // the command's own marks, and the one policy of the crate on top
    let policy = sensitivity::classify(command.cla, command.ins, command.p1);
    let data_secret = if command.is_sensitive() {
        DataSecret::All
    } else {
        policy.data
    };
    let response_secret = command.has_sensitive_response() || policy.response;
    let data_end = data_start.saturating_add(command.data().len());
    let command_text = match (encoded.get(..data_start), encoded.get(data_end..)) {
        (Some(head), Some(tail)) => {
            let data = encoded.get(data_start..data_end).unwrap_or_default();
            let data_text = match data_secret {
                DataSecret::Tail(n) if data.len() > n => {
                    let (shown, mac) = data.split_at(data.len() - n);
                    join(&[hex_spaced(shown), redactable(mac, true)])
                }
                DataSecret::None => hex_spaced(data),
                _ => redactable(data, true),
            };
            join(&[hex_spaced(head), data_text, hex_spaced(tail)])
        }
        // unreachable with a layout from Command::encode; never show raw bytes on doubt
        _ => format!("REDACTED({} bytes)", encoded.len()),
    };
    let (response_text, sw) = match result {
        Ok(raw) => match raw.split_last_chunk::<2>() {
            Some((data, &[sw1, sw2])) => (
                join(&[redactable(data, response_secret), hex_spaced(&[sw1, sw2])]),
                Some(StatusWord::from_bytes(sw1, sw2)),
            ),
            None => (
                join(&[
                    redactable(raw, response_secret),
                    "(malformed: no status word)".to_owned(),
                ]),
                None,
            ),
        },
        Err(e) => (format!("transport error: {e}"), None),
    };
    TraceEvent {
        index,
        name: instruction::name(command.ins),
        command: command_text,
        response: response_text,
        sw,
    }
}

fn redactable(data: &[u8], sensitive: bool) -> String {
    if sensitive && !data.is_empty() {
        format!("REDACTED({} bytes)", data.len())
    } else {
        hex_spaced(data)
    }
}

fn hex_spaced(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for b in bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

fn join(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// A card answering through a function, remembering every command.
    struct FakeCard<F> {
        answer: F,
        sent: Vec<Vec<u8>>,
        epoch: u64,
    }

    impl<F: FnMut(&[u8]) -> Result<Vec<u8>, TransportError>> FakeCard<F> {
        fn new(answer: F) -> Self {
            FakeCard {
                answer,
                sent: Vec::new(),
                epoch: 3,
            }
        }
    }

    impl<F: FnMut(&[u8]) -> Result<Vec<u8>, TransportError>> Transport for FakeCard<F> {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(command.to_vec());
            (self.answer)(command)
        }
        fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x6C, 0x00, 0x00])
        }
        fn reset_epoch(&self) -> u64 {
            self.epoch
        }
    }

    /// A scripted card: answers from a list, in order.
    fn scripted(
        answers: &[&str],
    ) -> FakeCard<impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError>> {
        let mut queue: VecDeque<Vec<u8>> = answers.iter().map(|a| h(a)).collect();
        FakeCard::new(move |_: &[u8]| Ok(queue.pop_front().expect("script exhausted")))
    }

    /// A T=0 style card: any command with response data answers `61xx` and hands the data out
    /// with GET RESPONSE in chunks of at most `chunk` bytes; a wrong GET RESPONSE Le gets `6Cxx`.
    fn t0_card(
        chunk: usize,
        mut reply: impl FnMut(&[u8]) -> Vec<u8>,
    ) -> FakeCard<impl FnMut(&[u8]) -> Result<Vec<u8>, TransportError>> {
        let mut pending: Vec<u8> = Vec::new();
        FakeCard::new(move |cmd: &[u8]| {
            let c = Command::parse(cmd).unwrap();
            if c.ins == instruction::GET_RESPONSE {
                let n = pending.len().min(chunk);
                if c.le() != Some(n) {
                    return Ok(vec![0x6C, n as u8]);
                }
                let mut out: Vec<u8> = pending.drain(..n).collect();
                let rest = pending.len().min(chunk);
                if rest > 0 {
                    out.extend_from_slice(&[0x61, rest as u8]);
                } else {
                    out.extend_from_slice(&[0x90, 0x00]);
                }
                return Ok(out);
            }
            let full = reply(cmd);
            let (data, sw) = full.split_at(full.len() - 2);
            if data.is_empty() || sw != [0x90, 0x00] {
                pending.clear();
                return Ok(full);
            }
            pending = data.to_vec();
            Ok(vec![0x61, pending.len().min(chunk) as u8])
        })
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn sent_hex<F>(card: &FakeCard<F>) -> Vec<String> {
        card.sent.iter().map(hex::encode_upper).collect()
    }

    fn collect_trace<T: Transport>(channel: &mut Channel<T>) -> Arc<Mutex<Vec<TraceEvent>>> {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        channel.set_tracer(Some(Box::new(move |e: &TraceEvent| {
            sink.lock().unwrap().push(e.clone())
        })));
        events
    }

    #[test]
    fn plain_exchange() {
        let mut ch = Channel::new(scripted(&["6F02AABB 9000"]));
        let r = ch.send(&commands::select_aid(&[0xD1, 0x56])).unwrap();
        assert_eq!(r.data(), &h("6F02AABB")[..]);
        assert_eq!(r.sw(), StatusWord::Ok);
        assert_eq!(ch.apdu_count(), 1);
        assert_eq!(sent_hex(ch.transport()), ["00A4040002D15600"]);
    }

    #[test]
    fn t0_chain_is_followed_and_appended() {
        let data: Vec<u8> = (0..40).collect();
        let expected = data.clone();
        let card = t0_card(16, move |_| {
            let mut out = data.clone();
            out.extend_from_slice(&[0x90, 0x00]);
            out
        });
        let mut ch = Channel::new(card);
        let events = collect_trace(&mut ch);
        let r = ch
            .send(&commands::read_record(Some(5), RecordRef::Number(1), 256))
            .unwrap();
        assert_eq!(r.sw(), StatusWord::Ok);
        assert_eq!(r.data(), &expected[..]);
        assert_eq!(ch.apdu_count(), 4);
        assert_eq!(
            sent_hex(ch.transport()),
            ["00B2012C00", "00C0000010", "00C0000010", "00C0000008"]
        );
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 4);
        assert_eq!(events[1].name, Some("GET RESPONSE"));
        assert_eq!(events[3].index, 4);
        assert_eq!(events[3].sw, Some(StatusWord::Ok));
    }

    #[test]
    fn data_sent_with_61xx_is_kept_and_last_sw_wins() {
        let mut ch = Channel::new(scripted(&["0102 6102", "0304 6A83", ""]));
        let r = ch
            .send(&commands::read_record(Some(6), RecordRef::Tag(8), 256))
            .unwrap();
        assert_eq!(r.data(), &[1, 2, 3, 4]);
        assert_eq!(r.sw(), StatusWord::RecordNotFound);
        assert_eq!(
            ch.send_ok(&commands::verify_probe()).unwrap_err(),
            ChannelError::Apdu(ApduError::ResponseTooShort(0))
        );
    }

    #[test]
    fn get_response_6cxx_is_corrected() {
        // the card announces 0x10 bytes but wants Le 08 for GET RESPONSE
        let mut ch = Channel::new(scripted(&["6110", "6C08", "1122334455667788 9000"]));
        let r = ch.send(&commands::get_challenge(8)).unwrap();
        assert_eq!(r.data(), &h("1122334455667788")[..]);
        assert_eq!(
            sent_hex(ch.transport()),
            ["0084000008", "00C0000010", "00C0000008"]
        );
    }

    #[test]
    fn wrong_le_is_resent_once_with_the_right_le() {
        let mut ch = Channel::new(scripted(&["6C0B", "070941424344353537383930 9000"]));
        let r = ch
            .send(&commands::read_record(Some(5), RecordRef::Tag(7), 4))
            .unwrap();
        assert_eq!(r.sw(), StatusWord::Ok);
        assert_eq!(r.data().len(), 12);
        assert_eq!(sent_hex(ch.transport()), ["00B2072804", "00B207280B"]);
        assert_eq!(ch.apdu_count(), 2);
    }

    #[test]
    fn wrong_le_twice_is_returned_as_is() {
        let card = FakeCard::new(|_: &[u8]| Ok(vec![0x6C, 0x05]));
        let mut ch = Channel::new(card);
        let r = ch.send(&commands::get_challenge(4)).unwrap();
        assert_eq!(r.sw(), StatusWord::WrongLe(5));
        assert_eq!(ch.apdu_count(), 2);
        assert_eq!(sent_hex(ch.transport()), ["0084000004", "0084000005"]);
        assert_eq!(
            ch.send_ok(&commands::get_challenge(4)),
            Err(ChannelError::Status(StatusWord::WrongLe(5)))
        );
    }

    #[test]
    fn wrong_le_then_more_data() {
        let mut ch = Channel::new(scripted(&["6C00", "6104", "01020304 9000"]));
        let r = ch.send(&commands::get_challenge(8)).unwrap();
        assert_eq!(r.data(), &[1, 2, 3, 4]);
        assert_eq!(
            sent_hex(ch.transport()),
            ["0084000008", "0084000000", "00C0000004"]
        );
    }

    #[test]
    fn endless_61xx_is_capped() {
        let card = FakeCard::new(|_: &[u8]| Ok(vec![0xAA, 0x61, 0x10]));
        let mut ch = Channel::new(card);
        let events = collect_trace(&mut ch);
        assert_eq!(
            ch.send(&commands::select_df(0x3F00)),
            Err(ChannelError::TooManyGetResponse)
        );
        assert_eq!(ch.apdu_count(), 1 + MAX_GET_RESPONSE as u64);
        assert_eq!(events.lock().unwrap().len(), 1 + MAX_GET_RESPONSE);
        assert!(ChannelError::TooManyGetResponse
            .to_string()
            .contains("61xx"));
    }

    #[test]
    fn counting_and_passthrough() {
        let mut ch = Channel::new(scripted(&["9000", "6104", "01020304 9000", "6A82"]));
        assert_eq!(ch.reset_epoch(), 3);
        assert_eq!(ch.atr().unwrap(), vec![0x3B, 0x6C, 0x00, 0x00]);
        assert_eq!(ch.apdu_count(), 0);
        ch.send_ok(&commands::verify_probe()).unwrap();
        assert_eq!(ch.apdu_count(), 1);
        assert_eq!(
            ch.send_ok(&commands::get_challenge(4)).unwrap(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(ch.apdu_count(), 3);
        ch.reset_apdu_count();
        assert_eq!(
            ch.send_ok(&commands::select_ef(0xEF05)),
            Err(ChannelError::Status(StatusWord::FileNotFound))
        );
        assert_eq!(ch.apdu_count(), 1);
        ch.transport_mut().epoch = 4;
        assert_eq!(ch.reset_epoch(), 4);
        ch.begin_transaction().unwrap();
        ch.end_transaction().unwrap();
        assert_eq!(ch.into_inner().sent.len(), 4);
    }

    #[test]
    fn transport_errors_are_passed_on_and_traced() {
        let card = FakeCard::new(|_: &[u8]| Err(TransportError::CardRemoved));
        let mut ch = Channel::new(card);
        let events = collect_trace(&mut ch);
        assert_eq!(
            ch.send(&commands::verify_probe()),
            Err(ChannelError::Transport(TransportError::CardRemoved))
        );
        assert_eq!(ch.apdu_count(), 1);
        let events = events.lock().unwrap();
        assert_eq!(
            events[0].to_string(),
            "A>> 00 20 00 00\nA<< transport error: the card was removed"
        );
    }

    #[test]
    fn unencodable_command_sends_nothing() {
        let mut ch = Channel::new(scripted(&[]));
        let c = Command::new(0, 0xB0, 0, 0).with_le(0);
        assert_eq!(
            ch.send(&c),
            Err(ChannelError::Apdu(ApduError::LeOutOfRange(0)))
        );
        assert_eq!(ch.apdu_count(), 0);
        assert!(ch.transport().sent.is_empty());
    }

    fn assert_absent(trace: &str, secret: &[u8]) {
        let upper = hex::encode_upper(secret);
        let spaced = secret
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ");
        let lower = trace.to_lowercase();
        assert!(!trace.contains(&upper), "{upper} leaked:\n{trace}");
        assert!(!trace.contains(&spaced), "{spaced} leaked:\n{trace}");
        assert!(
            !lower.contains(&upper.to_lowercase()),
            "{upper} leaked:\n{trace}"
        );
    }

    #[test]
    fn render_exchange_redacts_like_the_trace() {
        let verify = commands::verify(Zeroizing::new(vec![0x12, 0x34, 0x56]));
        let ok = Response::new(Vec::new(), StatusWord::Ok);
        let text = render_exchange(&verify, Some(&ok)).to_string();
        assert!(text.contains("REDACTED(3 bytes)"), "{text}");
        assert!(!text.contains("12 34 56"), "{text}");
        let encipher = commands::cipher_data(commands::CIPHER_ENCIPHER, &[0xAA; 8], 8);
        let secret = Response::new(vec![0xC5; 8], StatusWord::Ok);
        let text = render_exchange(&encipher, Some(&secret)).to_string();
        assert!(!text.contains("C5"), "{text}");
        assert!(!text.contains("AA AA"), "{text}");
        let select = commands::select_ef(0xEF05);
        let text = render_exchange(&select, None).to_string();
        assert!(text.contains("00 A4 02 00 02 EF 05"), "{text}");
    }

    #[test]
    fn secrets_never_reach_the_trace() {
        let pin = [0x12, 0x34, 0x56];
        let cryptogram = [0xC1, 0xA2, 0xB3, 0xD4, 0xE5, 0xF6, 0x17, 0x28];
        let pin_block = [0x06, 0x12, 0x34, 0x56, 0x80, 0x00, 0x00, 0x00];
        let enciphered = [0x9A, 0x8B, 0x7C, 0x6D, 0x5E, 0x4F, 0x3E, 0x2D, 0x1C, 0x0B];
        let mac = [0x4D, 0x41, 0x43, 0x21];
        let card_answer = [0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8];
        let card = t0_card(4, move |cmd| {
            let c = Command::parse(cmd).unwrap();
            let mut out = match c.ins {
                instruction::CIPHER_DATA if c.p1 == 0 => enciphered.to_vec(),
                instruction::CIPHER_DATA => mac.to_vec(),
                instruction::INTERNAL_AUTHENTICATE => card_answer.to_vec(),
                _ => Vec::new(),
            };
            out.extend_from_slice(&[0x90, 0x00]);
            out
        });
        let mut ch = Channel::new(card);
        let events = collect_trace(&mut ch);

        ch.send_ok(&commands::verify(Zeroizing::new(pin.to_vec())))
            .unwrap();
        ch.send_ok(&commands::external_authenticate(
            0x0A, cryptogram, [0x0F; 8], None,
        ))
        .unwrap();
        ch.send_ok(&commands::change_pin(&pin, &[0x97, 0x53, 0x1F]))
            .unwrap();
        let out = ch
            .send_ok(&commands::cipher_data(
                commands::CIPHER_ENCIPHER,
                &pin_block,
                8,
            ))
            .unwrap();
        assert_eq!(out, enciphered.to_vec());
        let out = ch
            .send_ok(&commands::cipher_data(
                commands::CIPHER_MAC_ONLY,
                &[0x84, 0x1E, 0, 0, 4, 0x80, 0, 0],
                4,
            ))
            .unwrap();
        assert_eq!(out, mac.to_vec());
        let out = ch
            .send_ok(&commands::internal_authenticate([0x01; 8], [0x02; 8], None))
            .unwrap();
        assert_eq!(out, card_answer.to_vec());
        ch.send_ok(&commands::pin_reload(&enciphered[..8], mac))
            .unwrap();
        ch.send_ok(&commands::card_block(mac)).unwrap();

        let events = events.lock().unwrap();
        assert_eq!(events.len() as u64, ch.apdu_count());
        let trace = events
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_absent(&trace, &pin);
        assert!(!trace.contains("123456"));
        assert_absent(&trace, &[0x97, 0x53, 0x1F]);
        assert_absent(&trace, &cryptogram);
        assert_absent(&trace, &pin_block);
        // INTERNAL AUTHENTICATION's answer is a cryptogram of the card's IRK: redacted by the
        // policy (issue 13 item 12), in its GET RESPONSE chunks too
        for chunk in card_answer.chunks(4) {
            assert_absent(&trace, chunk);
        }
        // the PSAM's answers travel in 4-byte GET RESPONSE chunks: no chunk may leak either
        for chunk in enciphered.chunks(4) {
            assert_absent(&trace, chunk);
        }
        assert_absent(&trace, &mac);

        // header, Lc, Le and status words stay visible
        assert_eq!(
            events[0].to_string(),
            "A>> 00 20 00 00 03 REDACTED(3 bytes)\nA<< 90 00"
        );
        assert_eq!(events[0].name, Some("VERIFY"));
        assert!(
            trace.contains("A>> 00 82 00 0A 10 REDACTED(16 bytes)"),
            "{trace}"
        );
        assert!(
            trace.contains("A>> 80 5E 01 00 07 REDACTED(7 bytes)"),
            "{trace}"
        );
        assert!(
            trace.contains("A>> 80 FA 00 00 08 REDACTED(8 bytes) 08\nA<< 61 04"),
            "{trace}"
        );
        assert!(
            trace.contains("A>> 00 C0 00 00 04\nA<< REDACTED(4 bytes) 61 04"),
            "{trace}"
        );
        assert!(
            trace.contains("A>> 00 C0 00 00 02\nA<< REDACTED(2 bytes) 90 00"),
            "{trace}"
        );
        assert!(
            trace.contains("A>> 84 16 00 00 04 REDACTED(4 bytes)"),
            "{trace}"
        );
        // plain data is shown
        assert!(
            trace.contains("A>> 00 88 00 00 10 01 01 01 01 01 01 01 01 02 02 02 02 02 02 02 02\n"),
            "{trace}"
        );
    }

    #[test]
    fn plain_responses_are_shown() {
        let mut ch = Channel::new(scripted(&["0102 9000"]));
        let events = collect_trace(&mut ch);
        ch.send(&commands::get_challenge(2)).unwrap();
        assert_eq!(
            events.lock().unwrap()[0].to_string(),
            "A>> 00 84 00 00 02\nA<< 01 02 90 00"
        );
        ch.set_tracer(None);
        assert!(format!("{ch:?}").contains("tracer: false"));
    }

    use crate::apdu::RecordRef;

    /// A transport that records its transaction calls.
    #[derive(Default)]
    struct Recording {
        calls: Vec<&'static str>,
    }

    impl Transport for Recording {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.calls.push("transmit");
            Ok(vec![0x90, 0x00])
        }
        fn atr(&mut self) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn reset_epoch(&self) -> u64 {
            0
        }
        fn begin_transaction(&mut self) -> Result<(), TransportError> {
            self.calls.push("begin");
            Ok(())
        }
        fn end_transaction(&mut self) -> Result<(), TransportError> {
            self.calls.push("end");
            Ok(())
        }
    }

    #[test]
    fn nested_transactions_reach_the_transport_once() {
        let mut ch = Channel::new(Recording::default());
        ch.begin_transaction().unwrap();
        ch.send(&commands::verify_probe()).unwrap();
        ch.begin_transaction().unwrap();
        assert_eq!(ch.transaction_depth(), 2);
        ch.send(&commands::verify_probe()).unwrap();
        ch.end_transaction().unwrap();
        // the inner end left the card locked for the rest of the outer transaction
        ch.send(&commands::verify_probe()).unwrap();
        ch.end_transaction().unwrap();
        ch.end_transaction().unwrap();
        assert_eq!(ch.transaction_depth(), 0);
        assert_eq!(
            ch.transport().calls,
            ["begin", "transmit", "transmit", "transmit", "end"]
        );
    }

    #[test]
    fn the_policy_redacts_raw_commands_too() {
        // commands built from raw bytes, as a raw-APDU tool does, carry no marks of their own
        let raw = |hex_text: &str| Command::parse(&h(hex_text)).unwrap();
        let text = |c: &Command, r: &str| {
            render_exchange(c, Some(&Response::parse(&h(r)).unwrap())).to_string()
        };
        let t = text(&raw("0020000003123456"), "9000");
        assert!(
            t.contains("REDACTED(3 bytes)") && !t.contains("12 34 56"),
            "{t}"
        );
        let t = text(
            &raw("0088000010 0102030405060708 0102030405060708 08"),
            "F6CF726E3EB4770B 9000",
        );
        assert!(
            t.contains("A<< REDACTED(8 bytes) 90 00") && !t.contains("F6 CF"),
            "{t}"
        );
        let t = text(&raw("04DC0A2C07 0102030A0B0C0D"), "9000");
        assert!(t.contains("01 02 03 REDACTED(4 bytes)"), "{t}");
        let t = text(&raw("80FA000008 1122334455667788"), "C1C2C3C4C5C6C7C8 9000");
        assert!(!t.contains("11 22") && !t.contains("C1 C2"), "{t}");
        let t = text(&raw("00B2032C06"), "0304332E3030 9000");
        assert!(t.contains("03 04 33 2E 30 30 90 00"), "{t}");
    }
}

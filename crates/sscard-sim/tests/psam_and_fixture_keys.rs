//! Integration: a card manufactured from the repository's test key file, authenticated through
//! the core `PsamKeyHolder` talking to a `SimPsam` over `SimTransport` (T=0, GET RESPONSE), and a
//! MAC-secured command computed by the PSAM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sscard_core::apdu::commands;
use sscard_core::channel::Channel;
use sscard_core::crypto::{key_factors, CardFactors, KeyId};
use sscard_core::data::RegionCode;
use sscard_core::keyholder::{KeyFile, KeyHolder, PsamKeyHolder};
use sscard_core::profile::{Generation, SSSE_AID};
use sscard_core::Algorithm;
use sscard_sim::{AppState, BlockState, CardSpec, SimCard, SimPsam, SimTransport};

fn fixture_keys() -> KeyFile {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/keys/test-keys.json"
    );
    KeyFile::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn card_and_psam_from_the_fixture_key_file() {
    let keys = fixture_keys();
    for alg in Algorithm::ALL {
        let region = RegionCode::parse("440305").unwrap();
        let spec = CardSpec::new(Generation::V3, alg, region, [0xCA, 0xFE, 0x00, 0x01]);
        let mut manufacturer = keys.clone();
        let card = SimCard::blank(spec, &mut manufacturer).unwrap();
        let factors = CardFactors::new(&card.atr(), &region).unwrap();
        let mut card = Channel::new(SimTransport::new(card));

        let psam = SimPsam::from_key_file(&keys, alg, "410100813475").unwrap();
        let mut psam = PsamKeyHolder::open(SimTransport::new(psam)).unwrap();
        assert!(psam.supports(alg));
        assert_eq!(
            psam.terminal_number().unwrap().as_deref(),
            Some("410100813475")
        );

        card.send_ok(&commands::select_aid(&SSSE_AID)).unwrap();
        // external authentication with the read key (nationwide) and the update key (issuer)
        for key in [KeyId::READ, KeyId::UPDATE] {
            let b = alg.block_len();
            let challenge = card.send_ok(&commands::get_challenge(b as u8)).unwrap();
            let mut path = key_factors(key, &factors.card, &factors.city);
            path.push(challenge[..8].try_into().unwrap());
            let cryptogram = psam.encipher(alg, key, &path, &challenge).unwrap();
            card.send_ok(&commands::external_authenticate(key.0, cryptogram))
                .unwrap_or_else(|e| panic!("{alg} key {key}: {e:?}"));
        }
        assert_eq!(
            card.transport().card().authenticated_keys(),
            vec![0x04, 0x0A]
        );

        // a MAC by the PSAM (key 07, nationwide): APPLICATION BLOCK
        let b = alg.block_len();
        let challenge = card.send_ok(&commands::get_challenge(b as u8)).unwrap();
        let header = commands::application_block_header(false);
        let input = commands::mac_input(header[0], header[1], header[2], header[3], &[]);
        let path = key_factors(KeyId::MAINTENANCE, &factors.card, &factors.city);
        let mac = psam
            .mac(alg, KeyId::MAINTENANCE, &path, &challenge, &input)
            .unwrap();
        card.send_ok(&commands::application_block(false, mac))
            .unwrap();
        let image = card.transport().card().image();
        assert_eq!(image.block_state, BlockState::Temporary);
        assert_eq!(image.app_state, AppState::Blank);
    }
}

//! `sscard sim new`, `sim new-psam`, `sim convert` and `keys new`: simulated cards, PSAMs and
//! development key files. (`sim serve` lives in `serve.rs`.)

use std::path::Path;

use sscard_cli::documents::{
    KeysNewDocument, Outcome, SimConvertDocument, SimNewDocument, SimNewPsamDocument,
};
use sscard_core::data::RegionCode;
use sscard_core::keyholder::KeyFile;
use sscard_core::keys::{KeyRole, RootKeys};
use sscard_core::lifecycle::{self, PersonalizeOptions};
use sscard_core::profile::Generation;
use sscard_core::Algorithm;
use sscard_sim::{
    CardImage, CardSpec, FinancialApp, PsamImage, PsamSpec, SimCard, SimError, SimTransport,
};
use zeroize::Zeroizing;

use crate::cli::{GlobalOpts, KeysNewArgs, SimConvertArgs, SimNewArgs, SimNewPsamArgs};
use crate::commands::{load_person, parse_hex_bytes};
use crate::context::today;
use crate::context::{self, AnyTransport};
use crate::error::{CliError, CliResult};
use crate::output::{basic_not_supported, print_result};

fn check_new_file(path: &Path, force: bool) -> CliResult<()> {
    if path.exists() && !force {
        return Err(CliError::BadInput(format!(
            "{} exists (use --force to overwrite)",
            path.display()
        )));
    }
    Ok(())
}

/// A simulator error in CLI terms: missing root keys are a key holder problem, anything else
/// is bad input.
fn sim_error(what: &str, e: SimError) -> CliError {
    match e {
        SimError::Keys(_) => CliError::KeyHolder(format!("{what}: {e}")),
        SimError::Io(_) => CliError::Other(format!("{what}: {e}")),
        other => CliError::BadInput(format!("{what}: {other}")),
    }
}

fn save_image(image: &CardImage, path: &Path) -> CliResult<()> {
    image
        .save(path)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

/// `sscard sim new`.
pub fn sim_new(global: &GlobalOpts, args: &SimNewArgs) -> CliResult<()> {
    basic_not_supported(global, "sim new")?;
    check_new_file(&args.out, args.force)?;
    let person = args.person.as_deref().map(load_person).transpose()?;
    let generation = match args.generation {
        Some(n) => {
            let g = Generation::from_number(n)
                .ok_or_else(|| CliError::BadInput("generation must be 1, 2 or 3".into()))?;
            if let Some(p) = person.as_ref().filter(|p| p.generation() != g) {
                return Err(CliError::BadInput(format!(
                    "--generation {g} differs from the person record's generation {}",
                    p.generation()
                )));
            }
            g
        }
        None => person.as_ref().map_or(Generation::V2, |p| p.generation()),
    };
    let region = match &args.region {
        Some(text) => {
            let r = RegionCode::parse(text)
                .map_err(|e| CliError::BadInput(format!("--region: {e}")))?;
            if let Some(p) = person.as_ref().filter(|p| p.region() != r) {
                return Err(CliError::BadInput(format!(
                    "--region {r} differs from the person record's region {}",
                    p.region()
                )));
            }
            r
        }
        None => match &person {
            Some(p) => p.region(),
            None => RegionCode::parse("639900")
                .map_err(|e| CliError::Other(format!("default region: {e}")))?,
        },
    };
    let atr_serial: [u8; 4] = match &args.atr_serial {
        Some(s) => parse_hex_bytes(s, "--atr-serial")?,
        None => rand::random(),
    };
    let card_serial: [u8; 4] = match &args.card_serial {
        Some(s) => parse_hex_bytes(s, "--card-serial")?,
        None => atr_serial,
    };
    let algorithm: Algorithm = args.algorithm.into();
    let (keys, keys_label) = context::manufacturing_keys(global)?;
    let mut spec =
        CardSpec::new(generation, algorithm, region, atr_serial).with_card_serial(card_serial);
    if args.t1 {
        spec = spec.with_t1();
    }
    if let Some(pan) = &args.financial {
        let expiry = today()?
            .plus_years(10)
            .map_err(|e| CliError::Other(e.to_string()))?
            .to_string();
        let app = FinancialApp::debit(pan, expiry.get(2..).unwrap_or_default())
            .map_err(|e| CliError::BadInput(format!("--financial: {e}")))?;
        spec = spec.with_financial(app);
    }
    let appendix_b = |areas: sscard_sim::DataAreas| {
        if args.appendix_b {
            areas.with_appendix_b()
        } else {
            areas
        }
    };
    if args.medical_account {
        spec = spec.with_data_areas(appendix_b(
            sscard_sim::DataAreas::national().with_account(sscard_sim::AccountSpec::default()),
        ));
    } else if args.data_areas || args.appendix_b {
        spec = spec.with_data_areas(appendix_b(sscard_sim::DataAreas::national()));
    }
    let card = SimCard::blank(spec, &keys).map_err(|e| sim_error("simulated card", e))?;
    let card = match &person {
        None => card,
        Some(p) => {
            let mut c = context::traced_card(
                AnyTransport::Memory(Box::new(SimTransport::new(card))),
                global.tracing(),
            )?;
            let mut holder = KeyFile::new(keys.clone());
            lifecycle::personalize(&mut c, &mut holder, p, &PersonalizeOptions::default())?;
            match c.into_transport().into_inner() {
                AnyTransport::Memory(t) => t.into_card(),
                _ => return Err(CliError::Other("unexpected transport".into())),
            }
        }
    };
    let image = card.image();
    save_image(image, &args.out)?;
    let card_id = crate::cardstate::image_card_id(image);
    let message = format!(
            "{} simulated card {} ({}, {}, region {}, card id {card_id}{}) made with {keys_label}, written to {}",
            if person.is_some() {
                "personalized"
            } else {
                "blank"
            },
            hex::encode_upper(card.atr()),
            generation.spec_version(),
            algorithm,
            region,
            if args.financial.is_some() {
                ", financial application"
            } else {
                ""
            },
            args.out.display()
        );
    print_result(
        global,
        &message,
        SimNewDocument {
            result: Outcome::Ok,
            message: message.clone(),
            image: args.out.display().to_string(),
            atr: hex::encode_upper(card.atr()),
            card_id,
            generation: generation.spec_version().to_owned(),
            algorithm,
            region: region.to_string(),
            personalized: person.is_some(),
        },
    );
    Ok(())
}

/// `sscard sim new-psam`.
pub fn sim_new_psam(global: &GlobalOpts, args: &SimNewPsamArgs) -> CliResult<()> {
    basic_not_supported(global, "sim new-psam")?;
    check_new_file(&args.out, args.force)?;
    let (keys, keys_label) = context::manufacturing_keys(global)?;
    let level = args.level.into();
    let mut spec = PsamSpec::new(args.algorithm.into(), &args.terminal_number);
    if args.medical_account {
        spec = spec.with_account_keys();
    }
    if args.data_areas {
        spec = spec.with_area_keys();
    }
    spec = spec.with_all_levels(level);
    let region_text = match &args.region {
        Some(r) => r.clone(),
        None => args.terminal_number.chars().take(6).collect(),
    };
    if level != sscard_core::crypto::KeyLevel::National {
        let region = RegionCode::parse(&region_text)
            .map_err(|e| CliError::BadInput(format!("the PSAM's region: {e}")))?;
        spec = spec.with_region(region);
    }
    let image = PsamImage::from_root_keys(&keys, &spec).map_err(|e| sim_error("PSAM", e))?;
    image
        .save(&args.out)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", args.out.display())))?;
    let level_text = match args.level {
        crate::cli::LevelArg::National => "national root keys".to_owned(),
        crate::cli::LevelArg::Province => format!("province keys of region {region_text}"),
        crate::cli::LevelArg::City => format!("city keys of region {region_text}"),
    };
    let message = format!(
            "simulated PSAM ({}, {level_text} from {keys_label}, terminal number {}) written to {} (mode 0600)",
            image.algorithm, image.terminal_number,
            args.out.display()
        );
    print_result(
        global,
        &message,
        SimNewPsamDocument {
            result: Outcome::Ok,
            message: message.clone(),
            image: args.out.display().to_string(),
            algorithm: image.algorithm,
            terminal_number: image.terminal_number.clone(),
        },
    );
    Ok(())
}

/// `sscard sim convert`: a version-1 card image to version 2 (`CardImage::convert_v1`).
pub fn sim_convert(global: &GlobalOpts, args: &SimConvertArgs) -> CliResult<()> {
    basic_not_supported(global, "sim convert")?;
    let text =
        Zeroizing::new(std::fs::read_to_string(&args.input).map_err(|e| {
            CliError::BadInput(format!("card image {}: {e}", args.input.display()))
        })?);
    if CardImage::from_json(&text).is_ok() {
        return Err(CliError::BadInput(format!(
            "card image {} is a version-2 image already: nothing to convert",
            args.input.display()
        )));
    }
    check_new_file(&args.out, args.force)?;
    let (keys, keys_label) = context::manufacturing_keys(global)?;
    let image = CardImage::convert_v1(&text, &keys)
        .map_err(|e| sim_error(&format!("card image {}", args.input.display()), e))?;
    save_image(&image, &args.out)?;
    let card_id = crate::cardstate::image_card_id(&image);
    let mut message = format!(
        "converted {} (version 1) to {} (version 2: {}, {}, region {}, card id {card_id}, ATR {}); new card keys derived from {keys_label}",
        args.input.display(),
        args.out.display(),
        image.generation.spec_version(),
        image.algorithm,
        image.region,
        hex::encode_upper(image.atr()),
    );
    if image.ssse_blocked {
        message.push_str(
            "; its application block is now the permanent APPLICATION BLOCK (part 7 §13.2)",
        );
    }
    print_result(
        global,
        &message,
        SimConvertDocument {
            result: Outcome::Ok,
            message: message.clone(),
            image: args.out.display().to_string(),
            atr: hex::encode_upper(image.atr()),
            card_id,
            blocked: image.ssse_blocked || image.card_blocked,
        },
    );
    Ok(())
}

/// `sscard keys new`: random national root keys for every role, written once with mode 0600.
pub fn keys_new(global: &GlobalOpts, args: &KeysNewArgs) -> CliResult<()> {
    basic_not_supported(global, "keys new")?;
    let mut algorithms: Vec<Algorithm> = if args.algorithm.is_empty() {
        Algorithm::ALL.to_vec()
    } else {
        args.algorithm.iter().map(|&a| a.into()).collect()
    };
    algorithms.sort();
    algorithms.dedup();
    let keys = RootKeys::generate(&algorithms);
    let text = Zeroizing::new(keys.to_json());
    // check what we wrote parses back as a key file
    KeyFile::from_json(&text).map_err(|e| CliError::Other(format!("generated key file: {e}")))?;
    context::create_private(
        &args.out,
        text.as_bytes(),
        "`sscard keys new` never overwrites a key file (cards made with it would need it)",
    )?;
    let names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
    let roles: Vec<&str> = KeyRole::ALL.iter().map(|r| r.name()).collect();
    let message = format!(
            "new development key file {} (version 2, mode 0600): random national root keys for {} and every role ({}); marked as test keys: for development and simulated cards, never for real cards",
            args.out.display(),
            names.join(", "),
            roles.join(", ")
        );
    print_result(
        global,
        &message,
        KeysNewDocument {
            result: Outcome::Ok,
            message: message.clone(),
            file: args.out.display().to_string(),
            algorithms: names.iter().map(|s| s.to_string()).collect(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
        },
    );
    Ok(())
}

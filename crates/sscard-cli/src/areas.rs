//! The data areas of the V2.0 notice on the command line (docs/cli.md, "Data areas"):
//!
//! - `read --area public|employment|insurance|medical|talent|health|assistance|all` (text or
//!   JSON);
//! - `read --file-address 'SSSEEF05|01|07|$DF01EF15|2A|40:2|$'`: the `iReadCard` answer;
//! - `read --photo FILE`: the photo of SSSE EF08 saved as stored (JPEG, or BMP);
//! - `write --file-address … --data …` (`iWriteCard`), `write --area AREA --record FILE.json`,
//!   `write --photo FILE`;
//! - `personalize --person FILE` whose record carries `"areas"`: the personalization, then the
//!   area data (\[design\] D29).
//!
//! Files read with the holder's PIN take `--pin-file`/`--pin-fd` (or a prompt); "PIN or RK"
//! files are opened with the PIN or, with `--auth key`, with the RK key of the key holder
//! (the reader interface's `iAuthType` 1 and 2). Writes need the key holder's UK keys.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use sscard_core::data::Personalization;
use sscard_core::fileaddr::{FileAddress, FileData, Target};
use sscard_core::keyholder::KeyHolder;
use sscard_core::lifecycle::areas::{
    self, AreaAccess, FileContents, FileReading, ItemValue, PhotoFormat, ReadAuth,
};
use sscard_core::lifecycle::Card;
use sscard_core::profile::areas::{
    Area, AreaError, AreaProfile, DfSpec, Extensions, FileId, FileSpec, Structure, Value,
};

use sscard_core::transport::Transport;
use sscard_core::Error as CardError;

use crate::cli::areas::{AuthChoice, WriteArgs};
use crate::cli::{GlobalOpts, OutputFormat, PersonalizeArgs, ReadArgs};
use crate::context::{self, finish_card, open_card, require_key_holder};
use crate::error::{CliError, CliResult};
use crate::output::{basic_not_supported, print_document};
use crate::pin;
use sscard_cli::documents::{
    AreaFile, AreaFileContents, AreaItem, AreaReading, AreaRecord, AreaValue, AreasDocument,
    FileAddressDocument, Outcome, PersonalizeDocument, PhotoDocument, WriteDocument,
};

/// A library error as the command line reports it: data area input errors are bad input,
/// missing rights a key holder (or PIN) problem, a DF the card lacks a refused card.
fn area_error(e: CardError) -> CliError {
    match &e {
        CardError::Area(AreaError::AccessNeeded { .. }) => CliError::KeyHolder(e.to_string()),
        CardError::Area(AreaError::AreaMissing { .. }) => CliError::Refused(e.to_string()),
        CardError::Area(_) => CliError::BadInput(e.to_string()),
        _ => CliError::Card(e),
    }
}

fn profile_of(extensions: &Option<PathBuf>) -> CliResult<AreaProfile> {
    let Some(path) = extensions else {
        return Ok(AreaProfile::national());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::BadInput(format!("extensions {}: {e}", path.display())))?;
    let ext: Extensions = serde_json::from_str(&text)
        .map_err(|e| CliError::BadInput(format!("extensions {}: {e}", path.display())))?;
    AreaProfile::with_extensions(&ext)
        .map_err(|e| CliError::BadInput(format!("extensions {}: {e}", path.display())))
}

fn area_of(name: &str) -> CliResult<Area> {
    Area::from_name(name)
        .filter(|a| !matches!(a, Area::Basic | Area::Regional))
        .ok_or_else(|| {
            CliError::BadInput(format!(
                "--area {name:?}: public, employment, insurance, medical, talent, health, assistance or all"
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// read

/// `sscard read --area | --file-address | --photo`.
pub fn read(global: &GlobalOpts, args: &ReadArgs) -> CliResult<()> {
    basic_not_supported(global, "read --area/--file-address/--photo")?;
    let a = &args.areas;
    if args.check_validity || args.no_verify || args.blocklist.blocklist.is_some() {
        return Err(CliError::BadInput(
            "--check-validity, --blocklist and --no-verify are for the basic read, not the data areas".into(),
        ));
    }
    let profile = profile_of(&a.extensions)?;
    let mut key_holder = context::key_holder(global)?;
    if a.auth == Some(AuthChoice::Key) && key_holder.is_none() {
        return Err(CliError::KeyHolder(
            "--auth key needs a key holder: --keys FILE, --psam READER or --test-keys".into(),
        ));
    }
    let wants_pin = a.area.is_some() || a.file_address.is_some();
    let pin = if a.pin.pin_file.is_some() || a.pin.pin_fd.is_some() {
        Some(pin::current_pin(&a.pin, None, "PIN: ")?)
    } else if wants_pin && (a.auth == Some(AuthChoice::Pin) || key_holder.is_none()) {
        Some(pin::current_pin(&a.pin, None, "Holder's PIN: ")?)
    } else {
        None
    };
    let mut card = open_card(global)?;
    let result = (|| -> CliResult<()> {
        if let Some(path) = &a.photo {
            let kh = key_holder.as_deref_mut().ok_or_else(|| {
                CliError::KeyHolder(
                    "the photo is read with RKSSSE: give --keys FILE, --psam READER or --test-keys"
                        .into(),
                )
            })?;
            save_photo(global, &mut card, kh, path)?;
        }
        let mut access = AreaAccess::new().with_profile(profile.clone());
        if let Some(p) = &pin {
            access = access.with_pin(p);
        }
        if let Some(kh) = key_holder.as_deref_mut() {
            let kh: &mut dyn KeyHolder = kh;
            access = access.with_key_holder(kh);
        }
        access = access.prefer(match (a.auth, &pin) {
            (Some(AuthChoice::Key), _) | (None, None) => ReadAuth::Key,
            _ => ReadAuth::Pin,
        });
        if let Some(text) = &a.file_address {
            let address =
                FileAddress::parse(text).map_err(|e| CliError::BadInput(e.to_string()))?;
            let data = areas::read_address(&mut card, &mut access, &address).map_err(area_error)?;
            match global.output_format {
                OutputFormat::Json => print_document(&FileAddressDocument {
                    address: address.to_string(),
                    data: data.to_string(),
                }),
                _ => println!("{data}"),
            }
        }
        if let Some(name) = &a.area {
            let dfs: Vec<DfSpec> = if name.trim().eq_ignore_ascii_case("all") {
                Area::NATIONAL
                    .iter()
                    .filter_map(|x| profile.area(*x).cloned())
                    .collect()
            } else {
                vec![profile
                    .area(area_of(name)?)
                    .cloned()
                    .ok_or_else(|| CliError::BadInput(format!("no area {name}")))?]
            };
            let mut docs = Vec::new();
            for df in &dfs {
                let files = read_df(&mut card, &mut access, df)?;
                match global.output_format {
                    OutputFormat::Json => docs.push(df_document(df, &files)),
                    _ => print_df(df, &files),
                }
            }
            if global.output_format == OutputFormat::Json {
                print_document(&AreasDocument { areas: docs });
            }
        }
        Ok(())
    })();
    finish_card(card, result)
}

/// Every file of `df`: its reading, or why it was not read (a right the access lacks).
fn read_df<T: Transport>(
    card: &mut Card<T>,
    access: &mut AreaAccess<'_>,
    df: &DfSpec,
) -> CliResult<Vec<(FileSpec, Result<FileReading, String>)>> {
    let mut out = Vec::new();
    for f in df.files.iter() {
        match areas::read_file(card, access, f.id) {
            Ok(r) => out.push((f.clone(), Ok(r))),
            Err(CardError::Area(e @ AreaError::AccessNeeded { .. })) => {
                out.push((f.clone(), Err(e.to_string())))
            }
            Err(e) => return Err(area_error(e)),
        }
    }
    Ok(out)
}

fn value_document(spec: Option<&sscard_core::profile::areas::ItemSpec>, v: &Value) -> AreaValue {
    match (v, spec) {
        (Value::Parts(parts), Some(item)) if item.is_group() => AreaValue::Parts(
            item.parts
                .iter()
                .zip(parts)
                .map(|(p, v)| (p.field.to_string(), value_document(Some(p), v)))
                .collect(),
        ),
        _ => AreaValue::Text(v.text()),
    }
}

fn record_document(file: &FileSpec, record: &Value) -> AreaRecord {
    match record {
        Value::Parts(parts) => AreaRecord::Fields(
            file.items
                .iter()
                .zip(parts)
                .map(|(i, v)| (i.field.to_string(), v.text()))
                .collect(),
        ),
        other => AreaRecord::Text(other.text()),
    }
}

fn item_document(file: &FileSpec, i: &ItemValue) -> AreaItem {
    AreaItem {
        tag: format!("{:02X}", i.tag),
        occurrence: i.occurrence,
        field: i.field.clone(),
        name: i.name_zh.clone(),
        value: i
            .reading
            .as_ref()
            .map(|r| value_document(file.item(i.tag), &r.value)),
        meaning: i
            .reading
            .as_ref()
            .and_then(|r| r.meaning.map(str::to_owned)),
        compat: i.reading.as_ref().map(|r| r.compat),
    }
}

fn df_document(df: &DfSpec, files: &[(FileSpec, Result<FileReading, String>)]) -> AreaReading {
    let files = files
        .iter()
        .map(|(f, r)| AreaFile {
            file: f.id.to_string(),
            name: f.name_zh.to_string(),
            contents: match r {
                Err(why) => AreaFileContents::NotRead(why.clone()),
                Ok(r) => match &r.contents {
                    FileContents::Items(items) => {
                        AreaFileContents::Items(items.iter().map(|i| item_document(f, i)).collect())
                    }
                    FileContents::Records(records) => AreaFileContents::Records(
                        records.iter().map(|r| record_document(f, r)).collect(),
                    ),
                    FileContents::Binary(b) => AreaFileContents::Content(hex::encode_upper(b)),
                },
            },
        })
        .collect();
    AreaReading {
        df: df.id.to_string(),
        area: df.area,
        name: df.name_zh.to_string(),
        files,
    }
}

fn print_df(df: &DfSpec, files: &[(FileSpec, Result<FileReading, String>)]) {
    println!("{} {} ({})", df.id, df.name_zh, df.area);
    for (f, r) in files {
        let kind = match f.structure {
            Structure::Cyclic { .. } => ", records newest first",
            Structure::Transparent { .. } => ", transparent",
            _ => "",
        };
        println!("  {:04X} {}{kind}", f.id.ef, f.name_zh);
        match r {
            Err(why) => println!("      not read: {why}"),
            Ok(r) => match &r.contents {
                FileContents::Items(items) => {
                    for i in items.iter().filter(|i| i.reading.is_some()) {
                        let Some(reading) = &i.reading else { continue };
                        let occurrence = if f.item(i.tag).is_some_and(|s| s.occurs > 1) {
                            format!(":{}", i.occurrence)
                        } else {
                            String::new()
                        };
                        let meaning = reading
                            .meaning
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default();
                        println!(
                            "      {:02X}{occurrence:<3} {:<28} {}{meaning}",
                            i.tag,
                            i.name_zh,
                            reading.value.text()
                        );
                    }
                }
                FileContents::Records(records) => {
                    for (n, rec) in records.iter().enumerate() {
                        println!("      {:<3} {}", n + 1, rec.text());
                    }
                }
                FileContents::Binary(b) => {
                    let used = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
                    println!("      {used} of {} bytes used", b.len());
                }
            },
        }
    }
}

fn save_photo<T: Transport>(
    global: &GlobalOpts,
    card: &mut Card<T>,
    key_holder: &mut (dyn KeyHolder + Send),
    path: &Path,
) -> CliResult<()> {
    let kh: &mut dyn KeyHolder = key_holder;
    let photo = areas::read_photo(card, kh).map_err(area_error)?;
    let format = match photo.format {
        PhotoFormat::Empty => {
            return Err(CliError::Refused(
                "the card holds no photo (SSSE EF08 is empty)".into(),
            ))
        }
        PhotoFormat::Jpeg => "JPEG",
        PhotoFormat::Bmp => "BMP",
        PhotoFormat::Unknown => "unrecognised (saved as stored)",
    };
    context::write_private(path, &photo.bytes)
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))?;
    let message = format!(
        "photo ({format}, {} bytes) saved to {}",
        photo.bytes.len(),
        path.display()
    );
    match global.output_format {
        OutputFormat::Json => print_document(&PhotoDocument {
            file: path.display().to_string(),
            format: format.to_owned(),
            bytes: photo.bytes.len(),
        }),
        _ => eprintln!("{message}"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// write

/// The data of a record file (`--record`, a person record's `"areas"`) as a file address and
/// its data: keys name files (`DF02EF06` or the file's field, `employment_status`); a record
/// file's value maps items (tag `4C`, `40:2`, or field `employment_registration_date`,
/// `degrees:2`) to values (a group: its parts as `a^b^c^` or an object of part fields); a
/// cyclic file's value is a list of records (`a^b^c^` or an object of fields), oldest first; a
/// transparent file's value is its content in hex.
pub fn record_to_address(
    profile: &AreaProfile,
    only: Option<Area>,
    record: &Json,
) -> CliResult<(FileAddress, FileData)> {
    let obj = record
        .as_object()
        .ok_or_else(|| CliError::BadInput("the record is not a JSON object".into()))?;
    let mut address = FileAddress::new();
    let mut data = FileData::new();
    for (key, value) in obj {
        let file = find_file(profile, only, key)?;
        let bad = |why: String| CliError::BadInput(format!("{} ({key}): {why}", file.id));
        match file.structure {
            Structure::Cyclic { .. } => {
                let list = value
                    .as_array()
                    .ok_or_else(|| bad("a cyclic file takes a list of records".into()))?;
                let records = list
                    .iter()
                    .map(|r| parts_text(&file.items, r).map_err(&bad))
                    .collect::<CliResult<Vec<_>>>()?;
                address = address.with(file.id, &[Target::Records]);
                data.push(file.id, records);
            }
            Structure::Transparent { .. } => {
                let hex = value
                    .as_str()
                    .ok_or_else(|| bad("a transparent file takes its content in hex".into()))?;
                address = address.with(file.id, &[Target::Content]);
                data.push(file.id, vec![hex.to_owned()]);
            }
            Structure::Variable | Structure::Fixed => {
                let items = value
                    .as_object()
                    .ok_or_else(|| bad("a record file takes an object of items".into()))?;
                let mut targets = Vec::new();
                let mut values = Vec::new();
                for (name, v) in items {
                    let (name, occurrence) = match name.split_once(':') {
                        Some((n, o)) => (
                            n,
                            o.parse::<u8>()
                                .map_err(|_| bad(format!("{name:?}: occurrence {o:?}")))?,
                        ),
                        None => (name.as_str(), 1),
                    };
                    let item = file
                        .items
                        .iter()
                        .find(|i| {
                            i.field == name
                                || (name.len() == 2
                                    && u8::from_str_radix(name, 16).ok() == Some(i.tag))
                        })
                        .ok_or_else(|| {
                            bad(format!(
                                "no item {name:?} (items: {})",
                                file.items
                                    .iter()
                                    .map(|i| format!("{:02X} {}", i.tag, i.field))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        })?;
                    let text = if item.is_group() {
                        parts_text(&item.parts, v).map_err(&bad)?
                    } else {
                        scalar(v).ok_or_else(|| bad(format!("{name}: not a string")))?
                    };
                    targets.push(Target::Item {
                        tag: item.tag,
                        occurrence,
                    });
                    values.push(text);
                }
                address = address.with(file.id, &targets);
                data.push(file.id, values);
            }
        }
    }
    Ok((address, data))
}

fn find_file<'p>(
    profile: &'p AreaProfile,
    only: Option<Area>,
    key: &str,
) -> CliResult<&'p FileSpec> {
    let by_id = FileId::parse(key).and_then(|id| profile.file(id));
    let found = by_id.or_else(|| {
        profile
            .dfs()
            .iter()
            .filter(|d| only.is_none_or(|a| d.area == a))
            .flat_map(|d| d.files.iter())
            .find(|f| f.field == key && f.id.df != sscard_core::profile::areas::DfId::Ssse)
    });
    let file = found.ok_or_else(|| {
        CliError::BadInput(format!(
            "no file {key:?} (a file name like DF02EF06, or a file's field name)"
        ))
    })?;
    if let Some(area) = only {
        if profile.area(area).map(|d| d.id) != Some(file.id.df) {
            return Err(CliError::BadInput(format!(
                "{key}: {} is not in the {area} area",
                file.id
            )));
        }
    }
    Ok(file)
}

fn scalar(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Null => Some(String::new()),
        _ => None,
    }
}

/// The `a^b^c^` text of parts given as a string or an object of part fields.
fn parts_text(parts: &[sscard_core::profile::areas::ItemSpec], v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Object(obj) => {
            for k in obj.keys() {
                if !parts.iter().any(|p| p.field == k.as_str()) {
                    return Err(format!(
                        "no part {k:?} (parts: {})",
                        parts
                            .iter()
                            .map(|p| p.field.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            parts
                .iter()
                .map(|p| match obj.get(p.field.as_ref()) {
                    None => Ok("^".to_owned()),
                    Some(v) => scalar(v)
                        .map(|s| format!("{s}^"))
                        .ok_or_else(|| format!("{}: not a string", p.field)),
                })
                .collect()
        }
        _ => Err("a string a^b^ or an object of its parts".into()),
    }
}

/// `sscard write`.
pub fn write(global: &GlobalOpts, args: &WriteArgs) -> CliResult<()> {
    basic_not_supported(global, "write")?;
    let profile = profile_of(&args.extensions)?;
    let photo = match &args.photo {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| CliError::BadInput(format!("photo {}: {e}", path.display())))?,
        ),
        None => None,
    };
    // everything checked before the card is touched
    let plan = match (&args.file_address, &args.data, &args.area, &args.record) {
        (Some(a), Some(d), _, _) => {
            let address = FileAddress::parse(a).map_err(|e| CliError::BadInput(e.to_string()))?;
            let data = FileData::parse(d).map_err(|e| CliError::BadInput(e.to_string()))?;
            Some((address, data))
        }
        (_, _, Some(area), Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::BadInput(format!("record {}: {e}", path.display())))?;
            let json: Json = serde_json::from_str(&text)
                .map_err(|e| CliError::BadInput(format!("record {}: {e}", path.display())))?;
            Some(record_to_address(&profile, Some(area_of(area)?), &json)?)
        }
        _ if photo.is_some() => None,
        _ => {
            return Err(CliError::BadInput(
                "write what: --file-address with --data, --area with --record, or --photo".into(),
            ))
        }
    };
    if let Some((address, data)) = &plan {
        let resolved = address
            .resolve(&profile)
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        data.matching(&resolved)
            .map_err(|e| CliError::BadInput(e.to_string()))?;
    }
    let pin = if args.pin.pin_file.is_some() || args.pin.pin_fd.is_some() {
        Some(pin::current_pin(&args.pin, None, "PIN: ")?)
    } else {
        None
    };
    let mut key_holder = require_key_holder(global, "writing the data areas (their UK keys)")?;
    let mut card = open_card(global)?;
    let result = (|| -> CliResult<String> {
        let mut done = Vec::new();
        if let Some(bytes) = &photo {
            let kh: &mut dyn KeyHolder = key_holder.as_mut();
            areas::write_photo(&mut card, kh, bytes).map_err(area_error)?;
            done.push(format!("photo ({} bytes) written to SSSEEF08", bytes.len()));
        }
        if let Some((address, data)) = &plan {
            let kh: &mut dyn KeyHolder = key_holder.as_mut();
            let mut access = AreaAccess::new()
                .with_profile(profile.clone())
                .with_key_holder(kh)
                .prefer(ReadAuth::Key);
            if let Some(p) = &pin {
                access = access.with_pin(p).prefer(ReadAuth::Pin);
            }
            areas::write_address(&mut card, &mut access, address, data).map_err(area_error)?;
            done.push(format!("written: {data}"));
        }
        Ok(done.join("; "))
    })();
    let apdus = card.apdu_count();
    let message = finish_card(card, result)?;
    match global.output_format {
        OutputFormat::Json => print_document(&WriteDocument {
            result: Outcome::Ok,
            message: message.clone(),
            apdus,
        }),
        _ => println!("{message} ({apdus} APDUs)"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// personalization with area data

/// The person record of `path` and its `"areas"`, if any.
pub fn load_person_with_areas(path: &Path) -> CliResult<(Personalization, Option<Json>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::BadInput(format!("person record {}: {e}", path.display())))?;
    let mut json: Json = serde_json::from_str(&text)
        .map_err(|e| CliError::BadInput(format!("person record {}: {e}", path.display())))?;
    let areas = json.as_object_mut().and_then(|o| o.remove("areas"));
    let person = crate::commands::person_from_json(path, &json.to_string())?;
    Ok((person, areas))
}

/// Whether the person record at `path` carries area data (then [`personalize`] runs).
pub fn person_has_areas(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Json>(&t).ok())
        .is_some_and(|j| j.get("areas").is_some())
}

/// `sscard personalize` of a person record with `"areas"`: the personalization (refused on a
/// card of another person unless `--overwrite`), then the area data with the areas' UK keys
/// (\[design\] D29: a rerun after an interruption finds the personalization done and writes the
/// areas again; a card is never left with area data but no holder).
pub fn personalize(global: &GlobalOpts, args: &PersonalizeArgs) -> CliResult<()> {
    basic_not_supported(global, "personalize")?;
    let (person, areas_json) = load_person_with_areas(&args.person)?;
    let profile = AreaProfile::national();
    let (address, data) = record_to_address(&profile, None, &areas_json.unwrap_or(Json::Null))?;
    let resolved = address
        .resolve(&profile)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    data.matching(&resolved)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    let (report, options, apdus) = crate::commands::personalize_card(
        global,
        args,
        &person,
        "personalization (PUK and STKSSSE for the initial PIN, UKSSSE and the areas' UK keys for the data)",
        |card, key_holder, options| {
            let mut access = AreaAccess::new()
                .with_key_holder(key_holder)
                .with_pin(&options.initial_pin)
                .prefer(ReadAuth::Key);
            areas::write_address(card, &mut access, &address, &data).map_err(area_error)?;
            Ok(())
        },
    )?;
    let files = data.files().count();
    match global.output_format {
        OutputFormat::Json => print_document(&PersonalizeDocument {
            report: report.clone(),
            read_back: options.read_back,
            apdus,
            area_files: Some(files),
        }),
        _ if report.already_done => println!(
            "card {} already carries this personalization (card id {}, {}); its {files} data area file(s) written again, {apdus} APDUs",
            report.card_number,
            report.card_id,
            report.generation.spec_version()
        ),
        _ => println!(
            "personalized card {} (card id {}, {}) with {files} data area file(s) in {apdus} APDUs; initial PIN 123456",
            report.card_number,
            report.card_id,
            report.generation.spec_version()
        ),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// the batch's area columns

/// What a batch row writes to the data areas.
pub type RowAreas = (FileAddress, FileData);

/// An area column of the batch input: its index, its header, the file and the item token.
pub type AreaColumn = (usize, String, (FileId, Option<String>));

/// An area column of the batch input: `DF01EF05|20`, `DF01EF15|40:2` (an item), or a cyclic
/// file alone, `DF02EF07` (a record per cell, its fields separated by `^`). `None` for any other
/// name.
pub fn batch_column(name: &str) -> Option<(FileId, Option<String>)> {
    let (file, item) = match name.split_once('|') {
        Some((f, i)) => (f, Some(i.trim().to_ascii_uppercase())),
        None => (name, None),
    };
    let id = FileId::parse(file)?;
    Some((id, item))
}

/// The area data of one row: the non-empty cells of the area columns, checked against the
/// table (the column at fault and why otherwise).
pub fn batch_row_areas(
    columns: &[AreaColumn],
    cell: impl Fn(usize) -> String,
) -> Result<Option<RowAreas>, (String, String)> {
    let profile = AreaProfile::national();
    let mut files: Vec<(FileId, Vec<Target>, Vec<String>)> = Vec::new();
    for (index, name, (id, item)) in columns {
        let value = cell(*index);
        if value.is_empty() {
            continue;
        }
        let bad = |why: String| (name.clone(), format!("{name}: {why}"));
        let file = profile.require_file(*id).map_err(|e| bad(e.to_string()))?;
        let target = match (file.structure, item) {
            (Structure::Cyclic { .. }, None) => {
                file.encode_record(&value).map_err(|e| bad(e.to_string()))?;
                Target::Records
            }
            (Structure::Variable | Structure::Fixed, Some(token)) => {
                let address = FileAddress::parse(&format!("{id}|{token}|$"))
                    .map_err(|e| bad(e.to_string()))?;
                let resolved = address.resolve(&profile).map_err(|e| bad(e.to_string()))?;
                let Some(t @ Target::Item { tag, .. }) = resolved
                    .first()
                    .and_then(|r| r.targets.first())
                    .copied()
                else {
                    return Err(bad("not an item".into()));
                };
                let spec = file.require_item(tag).map_err(|e| bad(e.to_string()))?;
                file.encode_item(spec, &value)
                    .map_err(|e| bad(e.to_string()))?;
                t
            }
            _ => {
                return Err(bad(
                    "record files take a column per item (DF01EF05|20), cyclic files one per record (DF02EF07)".into(),
                ))
            }
        };
        match files.iter_mut().find(|(f, ..)| f == id) {
            Some((_, targets, values)) if target == Target::Records => values.push(value),
            Some((_, targets, values)) => {
                targets.push(target);
                values.push(value);
            }
            None => files.push((*id, vec![target], vec![value])),
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let mut address = FileAddress::new();
    let mut data = FileData::new();
    for (id, targets, values) in files {
        address = address.with(id, &targets);
        data.push(id, values);
    }
    Ok(Some((address, data)))
}

/// Writes a batch row's area data after its personalization (\[design\] D29), with the areas'
/// UK keys of `key_holder`.
pub fn write_row_areas<T: Transport>(
    card: &mut Card<T>,
    key_holder: &mut dyn KeyHolder,
    areas: Option<&RowAreas>,
) -> Result<(), CardError> {
    let Some((address, data)) = areas else {
        return Ok(());
    };
    let mut access = AreaAccess::new()
        .with_key_holder(key_holder)
        .prefer(ReadAuth::Key);
    areas::write_address(card, &mut access, address, data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Batch columns are file addresses: appendix B's DF06 items take columns like any other
    /// (`DF06EF05|C3`, a B-TLV record as its parts ended by `^`), checked against tables
    /// B6-B8 before a card is touched.
    #[test]
    fn batch_columns_of_df06() {
        let names = ["DF06EF05|C0", "DF06EF05|C3", "DF06EF06|D8"];
        let columns: Vec<AreaColumn> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (i, (*n).to_owned(), batch_column(n).unwrap()))
            .collect();
        let row = |cells: [&str; 3]| batch_row_areas(&columns, |i| cells[i].to_owned());
        let (address, data) = row(["某所", "01^20230115^^64000^202406^", "04"])
            .unwrap()
            .unwrap();
        assert_eq!(address.to_string(), "DF06EF05|C0|C3|$DF06EF06|D8|$");
        assert_eq!(
            data.to_string(),
            "DF06EF05|某所|01^20230115^^64000^202406^|$DF06EF06|04|$"
        );
        let (column, why) = row(["", "", "05"]).unwrap_err();
        assert_eq!(column, "DF06EF06|D8");
        assert!(why.contains("V2 table B27"), "{why}");
        let (column, why) = row(["", "01^20231315^^^^", ""]).unwrap_err();
        assert_eq!(column, "DF06EF05|C3");
        assert!(
            why.contains("approval_date") && why.contains("not a date"),
            "{why}"
        );
        assert!(row(["", "", ""]).unwrap().is_none());
    }
}

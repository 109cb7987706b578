//! The checked-in header `sscard.h` is what cbindgen generates from the code: every exported
//! function with its exact signature. `SSCARD_BLESS=1 cargo test -p sscard-ffi --test header`
//! rewrites it after a change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

/// The header of the crate in `crate_dir`. cbindgen reads only `extern "C"` functions, so it
/// reads a copy of the sources with `extern "system"` written `extern "C"`; then every function
/// and the callback type get the interface's calling convention, `SSCARD_CALL` (`__stdcall` on
/// Windows, defined in the header's preamble), between the return type and the name.
fn generate(crate_dir: &Path) -> String {
    let copy = std::env::temp_dir().join(format!("sscard-ffi-header-{}", std::process::id()));
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(crate_dir.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("extern \"system\"", "extern \"C\"");
        std::fs::write(copy.join(path.file_name().unwrap()), text).unwrap();
    }
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_src(copy.join("lib.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    std::fs::remove_dir_all(&copy).unwrap();
    let text = String::from_utf8(out).unwrap();
    text.lines()
        .map(|line| {
            if let Some(rest) = line.strip_prefix("long i") {
                format!("long SSCARD_CALL i{rest}")
            } else {
                line.replace("(*SscardPinCallback)", "(SSCARD_CALL *SscardPinCallback)")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn the_checked_in_header_is_the_generated_one() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = generate(crate_dir);
    let path = crate_dir.join("sscard.h");
    if std::env::var_os("SSCARD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "crates/sscard-ffi/sscard.h differs from what the code generates: run \
         SSCARD_BLESS=1 cargo test -p sscard-ffi --test header and commit the header"
    );
    // the interface's functions, as the specification writes them (tables 1-23)
    for signature in [
        "long iReadCardBas(int iType, char *pOutInfo)",
        "long iReadCardBas_HSM_Step1(int iType, char *pOutInfo)",
        "long iReadCardBas_HSM_Step2(char *pKey, char *pOutInfo)",
        "long iReadCard(int iType, int iAuthType, char *pCardInfo, char *pFileAddr, char *pOutInfo)",
        "long iReadCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo)",
        "long iReadCard_HSM_Step2(char *pKey, char *pOutInfo)",
        "long iWriteCard(int iType, char *pCardInfo, char *pFileAddr, char *pWriteData, char *pOutInfo)",
        "long iWriteCard_HSM_Step1(int iType, char *pCardInfo, char *pFileAddr, char *pOutInfo)",
        "long iWriteCard_HSM_Step2(char *pKey, char *pWriteData, char *pOutInfo)",
        "long iVerifyPIN(int iType, char *pOutInfo)",
        "long iChangePIN(int iType, char *pOutInfo)",
        "long iReloadPIN(int iType, char *pCardInfo, char *pOutInfo)",
        "long iReloadPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo)",
        "long iReloadPIN_HSM_Step2(char *pKey, char *pOutInfo)",
        "long iReloadPIN_HSM_Step3(char *pKey, char *pOutInfo)",
        "long iUnblockPIN(int iType, char *pCardInfo, char *pOutInfo)",
        "long iUnblockPIN_HSM_Step1(int iType, char *pCardInfo, char *pOutInfo)",
        "long iUnblockPIN_HSM_Step2(char *pKey, char *pOutInfo)",
        "long iUnblockPIN_HSM_Step3(char *pKey, char *pOutInfo)",
        "long iDoDebit(int iType, char *pCardInfo, char *pPayInfo, char *pOutInfo)",
        "long iDoDebit_HSM_Step1(int iType, char *pCardInfo, char *pPayInfo, char *pOutInfo)",
        "long iDoDebit_HSM_Step2(char *pKey, char *pOutInfo)",
        "long iReadDebitRecord(int iType, char *pOutInfo)",
    ] {
        let (ret, rest) = signature.split_once(' ').unwrap();
        let with_call = format!("{ret} SSCARD_CALL {rest}");
        assert!(
            generated.contains(&with_call),
            "sscard.h declares {signature}"
        );
    }
}

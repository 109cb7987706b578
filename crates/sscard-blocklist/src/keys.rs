//! The issuer's SM2 signing key (a PKCS#8 PEM file, mode 0600, zeroized in memory) and the
//! public key terminals hold (an SPKI PEM file).
//!
//! Signatures are SM2 (GM/T 0003) over SM3 (GM/T 0004) with the standard's default
//! distinguishing identifier `1234567812345678` (GM/T 0009).

use std::fmt;
use std::path::Path;

use rand::RngCore;
use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The distinguishing identifier of the signer (GM/T 0009's default).
pub const DIST_ID: &str = "1234567812345678";

/// Bytes of a signature (r ‖ s).
pub const SIGNATURE_LEN: usize = 64;

/// The first 8 bytes of SM3 over the uncompressed public point: names a key in a file header.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

fn key_id_of(public: &PublicKey) -> KeyId {
    let point = public.to_sec1_bytes();
    let digest = Sm3::digest(&point);
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    KeyId(id)
}

/// The issuer's signing key. The secret scalar lives in a zeroize-on-drop `SecretKey`; the
/// SM2 signer built from it exists only for the duration of one signature.
pub struct IssuerKey {
    secret: SecretKey,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.public() {
            Ok(p) => write!(f, "IssuerKey({})", p.key_id()),
            Err(_) => f.write_str("IssuerKey(?)"),
        }
    }
}

impl IssuerKey {
    /// A new random key (the operating system's random generator).
    pub fn generate() -> IssuerKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        loop {
            rand::rng().fill_bytes(bytes.as_mut());
            // below the group order and not zero: almost always at the first try
            if let Ok(secret) = SecretKey::from_slice(bytes.as_ref()) {
                return IssuerKey { secret };
            }
        }
    }

    /// The key of a PKCS#8 PEM text.
    pub fn from_pem(pem: &str) -> Result<IssuerKey> {
        SecretKey::from_pkcs8_pem(pem)
            .map(|secret| IssuerKey { secret })
            .map_err(|e| Error::Key(format!("not an SM2 private key (PKCS#8 PEM): {e}")))
    }

    /// The PKCS#8 PEM text (zeroized when dropped).
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the signing key: {e}")))
    }

    /// Reads a signing key file, refusing one that group or others may access.
    pub fn load(path: &Path) -> Result<IssuerKey> {
        let text = sscard_files::read_secret(path).map_err(|e| match e.shared_mode() {
            Some(mode) => Error::Permissions {
                path: path.to_path_buf(),
                mode,
            },
            None => Error::io(path, e.into()),
        })?;
        IssuerKey::from_pem(&text)
            .map_err(|e| Error::Key(format!("signing key {}: {e}", path.display())))
    }

    /// Writes the key to a new file with mode 0600 (never overwrites), fsynced
    /// ([`sscard_files::create_private`]).
    pub fn save(&self, path: &Path) -> Result<()> {
        let pem = self.to_pem()?;
        sscard_files::create_private(path, pem.as_bytes()).map_err(|e| Error::io(path, e))
    }

    /// The public key terminals hold.
    pub fn public(&self) -> Result<TrustedKey> {
        TrustedKey::from_public(self.secret.public_key())
    }

    /// Signs `message` (SM2 with SM3 over `Z_A ‖ message`; deterministic per RFC 6979).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        let signer = SigningKey::new(DIST_ID, &self.secret)
            .map_err(|_| Error::Key("unusable SM2 signing key".into()))?;
        let signature: Signature = signer
            .try_sign(message)
            .map_err(|_| Error::Key("SM2 signing failed".into()))?;
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(&signature.to_bytes());
        Ok(out)
    }
}

/// A public key a terminal trusts to sign its blocklist.
#[derive(Clone)]
pub struct TrustedKey {
    verifying: VerifyingKey,
    public: PublicKey,
    id: KeyId,
}

impl fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrustedKey({})", self.id)
    }
}

impl TrustedKey {
    fn from_public(public: PublicKey) -> Result<TrustedKey> {
        let verifying = VerifyingKey::new(DIST_ID, public)
            .map_err(|_| Error::Key("unusable SM2 public key".into()))?;
        Ok(TrustedKey {
            id: key_id_of(&public),
            verifying,
            public,
        })
    }

    /// The key of an SPKI PEM text (`-----BEGIN PUBLIC KEY-----`) or of a SEC1 point in hex.
    pub fn from_text(text: &str) -> Result<TrustedKey> {
        let text = text.trim();
        let public = if text.starts_with("-----BEGIN") {
            PublicKey::from_public_key_pem(text)
                .map_err(|e| Error::Key(format!("not an SM2 public key (SPKI PEM): {e}")))?
        } else {
            let bytes = decode_hex(text).ok_or_else(|| {
                Error::Key("a public key is SPKI PEM or a SEC1 point in hex".into())
            })?;
            PublicKey::from_sec1_bytes(&bytes)
                .map_err(|_| Error::Key("not a point of the SM2 curve".into()))?
        };
        TrustedKey::from_public(public)
    }

    /// Reads a public key file.
    pub fn load(path: &Path) -> Result<TrustedKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        TrustedKey::from_text(&text)
            .map_err(|e| Error::Key(format!("public key {}: {e}", path.display())))
    }

    /// The SPKI PEM text.
    pub fn to_pem(&self) -> Result<String> {
        self.public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode the public key: {e}")))
    }

    /// The key id files name.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Whether `signature` is this key's over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature).is_ok_and(|s| self.verifying.verify(message, &s).is_ok())
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if clean.len() % 2 != 0 {
        return None;
    }
    clean
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_their_key_and_message() {
        let key = IssuerKey::generate();
        let other = IssuerKey::generate();
        let sig = key.sign(b"list").unwrap();
        assert!(key.public().unwrap().verify(b"list", &sig));
        assert!(!key.public().unwrap().verify(b"lisT", &sig));
        assert!(!other.public().unwrap().verify(b"list", &sig));
        assert_ne!(
            key.public().unwrap().key_id(),
            other.public().unwrap().key_id()
        );
        // PEM round trips
        let again = IssuerKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(
            again.public().unwrap().key_id(),
            key.public().unwrap().key_id()
        );
        let public = TrustedKey::from_text(&key.public().unwrap().to_pem().unwrap()).unwrap();
        assert!(public.verify(b"list", &sig));
        assert!(TrustedKey::from_text(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err());
        assert!(IssuerKey::from_pem("not a key").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("issuer.key");
        let key = IssuerKey::generate();
        key.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(key.save(&path).is_err(), "an existing key file is kept");
        assert_eq!(
            IssuerKey::load(&path).unwrap().public().unwrap().key_id(),
            key.public().unwrap().key_id()
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            IssuerKey::load(&path),
            Err(Error::Permissions { mode: 0o640, .. })
        ));
    }
}

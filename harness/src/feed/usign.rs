//! usign keys and signatures (OpenWrt's signify variant, Ed25519), made in
//! Rust with ed25519-dalek: a fresh key per feed, its public key file for
//! `/etc/opkg/keys`, and the detached signature opkg checks (`Packages.sig`).
//!
//! Formats: a public key is base64 of `"Ed"`, an 8-byte fingerprint and the
//! 32-byte key; a signature is base64 of `"Ed"`, the signer's fingerprint and
//! the 64-byte signature of the whole message. Each file starts with an
//! `untrusted comment:` line. usign finds the key for a signature in a key
//! directory by the fingerprint as 16 hex digits.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};

/// A signing key and its fingerprint.
pub struct Key {
    signing: SigningKey,
    fingerprint: [u8; 8],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "usign key {}", self.fingerprint_hex())
    }
}

impl Key {
    /// A new random key.
    pub fn generate() -> Result<Key, String> {
        let mut seed = [0u8; 32];
        let mut fingerprint = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| format!("failed to draw a key: {e}"))?;
        getrandom::fill(&mut fingerprint).map_err(|e| format!("failed to draw a key: {e}"))?;
        // usign prints fingerprints zero-padded but looks key files up
        // unpadded; a leading non-zero digit makes both the same.
        fingerprint[0] |= 0x10;
        Ok(Key {
            signing: SigningKey::from_bytes(&seed),
            fingerprint,
        })
    }

    /// The fingerprint as usign names the key's file: 16 hex digits.
    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint)
    }

    /// The public key file, for `/etc/opkg/keys/<fingerprint>`.
    pub fn public_file(&self) -> String {
        self.public_file_as(&self.fingerprint_hex())
    }

    /// This public key under another key's fingerprint (16 hex digits): a
    /// key file that names the signer but cannot verify its signatures.
    pub fn public_file_as(&self, fingerprint: &str) -> String {
        let claimed = hex::decode(fingerprint).unwrap_or_else(|_| self.fingerprint.to_vec());
        let mut blob = b"Ed".to_vec();
        blob.extend_from_slice(&claimed);
        blob.extend_from_slice(self.signing.verifying_key().as_bytes());
        format!(
            "untrusted comment: wrtest feed key {}\n{}\n",
            hex::encode(&claimed),
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    /// The signature file of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        let mut blob = b"Ed".to_vec();
        blob.extend_from_slice(&self.fingerprint);
        blob.extend_from_slice(&self.signing.sign(message).to_bytes());
        format!(
            "untrusted comment: signed by wrtest feed key {}\n{}\n",
            self.fingerprint_hex(),
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    fn decode(file: &str) -> Vec<u8> {
        let line = file.lines().nth(1).unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(line)
            .unwrap()
    }

    #[test]
    fn files_have_usigns_layout_and_the_signature_verifies() {
        let key = Key::generate().unwrap();
        let public = decode(&key.public_file());
        assert_eq!(public.len(), 2 + 8 + 32);
        assert_eq!(&public[..2], b"Ed");
        assert_eq!(hex::encode(&public[2..10]), key.fingerprint_hex());
        assert!(key.public_file().starts_with("untrusted comment: "));
        let signature = decode(&key.sign(b"Package: x\n"));
        assert_eq!(signature.len(), 2 + 8 + 64);
        assert_eq!(&signature[2..10], &public[2..10]);
        let verifying = VerifyingKey::from_bytes(public[10..].try_into().unwrap()).unwrap();
        let sig = Signature::from_bytes(signature[10..].try_into().unwrap());
        assert!(verifying.verify(b"Package: x\n", &sig).is_ok());
        assert!(verifying.verify(b"Package: y\n", &sig).is_err());
        assert!(!key.fingerprint_hex().starts_with('0'));
        assert_ne!(
            Key::generate().unwrap().fingerprint_hex(),
            key.fingerprint_hex()
        );
    }
}

//! Signing an ADB file with a key the harness makes, so a feed's
//! `packages.adb` is trusted by apk without `--allow-untrusted`.
//!
//! The key is ECDSA P-256, the kind OpenWrt 25.12's own keys are
//! (`/etc/apk/keys/*.pem`). apk names a key by the first 16 bytes of the
//! SHA-512 of its public point, and a signature block holds: version 0,
//! the hash algorithm (SHA-512), that key id, and an ECDSA signature (DER)
//! of SHA-512 over the schema id, those 18 header bytes and the SHA-512 of
//! the metadata block.

use std::io::Read;

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sha2::{Digest, Sha512};

use super::adb::{Block, File, BLOCK_ADB, BLOCK_SIG};

/// apk's number for SHA-512.
const DIGEST_SHA512: u8 = 4;

/// A signing key and its apk key id.
#[derive(Clone)]
pub struct Key {
    signing: SigningKey,
    id: [u8; 16],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", hex::encode(self.id))
    }
}

impl Key {
    /// A fresh key from the kernel's random numbers.
    pub fn generate() -> std::io::Result<Key> {
        let mut random = std::fs::File::open("/dev/urandom")?;
        loop {
            let mut secret = [0u8; 32];
            random.read_exact(&mut secret)?;
            // Fails only for the rare value outside the curve's order.
            if let Ok(signing) = SigningKey::from_slice(&secret) {
                return Ok(Key::from(signing));
            }
        }
    }

    /// apk's id of this key.
    pub fn id(&self) -> [u8; 16] {
        self.id
    }

    /// The public key as PEM, for `/etc/apk/keys/`.
    pub fn public_pem(&self) -> String {
        self.signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// Add a signature block after the metadata block of `file`.
    pub fn sign(&self, file: &mut File) {
        let Some(at) = file.blocks.iter().position(|b| b.kind == BLOCK_ADB) else {
            return;
        };
        let payload = self.signature_block(&file.schema, &file.blocks[at].payload);
        file.blocks.insert(
            at + 1,
            Block {
                kind: BLOCK_SIG,
                payload,
            },
        );
    }

    fn signature_block(&self, schema: &[u8; 4], adb: &[u8]) -> Vec<u8> {
        let mut header = vec![0u8, DIGEST_SHA512];
        header.extend_from_slice(&self.id);
        let mut message = Sha512::new();
        message.update(schema);
        message.update(&header);
        message.update(Sha512::digest(adb));
        // A 64-byte digest for a 256-bit curve: ECDSA uses its leftmost
        // 256 bits, as mbedtls does when apk verifies.
        let signature: Signature = match self.signing.sign_prehash(&message.finalize()) {
            Ok(s) => s,
            Err(_) => return header,
        };
        header.extend_from_slice(signature.to_der().as_bytes());
        header
    }
}

impl From<SigningKey> for Key {
    fn from(signing: SigningKey) -> Key {
        let point = signing.verifying_key().to_encoded_point(false);
        let digest = Sha512::digest(point.as_bytes());
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Key { signing, id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;

    #[test]
    fn a_signature_block_verifies_with_the_public_key() {
        let key = Key::generate().unwrap();
        let mut file = File {
            schema: *b"indx",
            blocks: vec![Block {
                kind: BLOCK_ADB,
                payload: vec![0; 16],
            }],
        };
        key.sign(&mut file);
        let sig = &file.blocks[1];
        assert_eq!(sig.kind, BLOCK_SIG);
        assert_eq!(&sig.payload[..2], &[0, DIGEST_SHA512]);
        assert_eq!(&sig.payload[2..18], &key.id());
        let mut message = Sha512::new();
        message.update(b"indx");
        message.update(&sig.payload[..18]);
        message.update(Sha512::digest([0u8; 16]));
        let signature = Signature::from_der(&sig.payload[18..]).unwrap();
        key.signing
            .verifying_key()
            .verify_prehash(&message.finalize(), &signature)
            .unwrap();
        assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        // The file still parses, signature and all.
        File::parse(&file.to_bytes(), Some(b"indx")).unwrap();
    }
}

//! RSA keys and SHA256-RSA (PKCS #1 v1.5) signatures in base64, as Alipay (RSA2) and WeChat Pay
//! (API v3) both use them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// A PEM block, or the bare base64 body that Alipay's console hands out.
fn pem(text: &str, label: &str) -> String {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return text.to_owned();
    }
    let body: Vec<String> = text
        .as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        body.join("\n")
    )
}

pub fn private_key(text: &str) -> anyhow::Result<RsaPrivateKey> {
    Ok(RsaPrivateKey::from_pkcs8_pem(&pem(text, "PRIVATE KEY"))?)
}

pub fn public_key(text: &str) -> anyhow::Result<RsaPublicKey> {
    Ok(RsaPublicKey::from_public_key_pem(&pem(text, "PUBLIC KEY"))?)
}

/// The base64 SHA256-RSA signature of `message`.
pub fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(message);
    STANDARD.encode(signature.to_bytes())
}

/// Whether `signature` (base64) is `key`'s SHA256-RSA signature of `message`.
pub fn verify(key: &RsaPublicKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    use super::*;

    #[test]
    fn a_signature_verifies_with_the_pair_and_fails_when_anything_changes() {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let private = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let public = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let (key, public) = (private_key(&private).unwrap(), public_key(&public).unwrap());
        let signature = sign(&key, b"out_trade_no=1&total_amount=9.90");
        assert!(verify(
            &public,
            b"out_trade_no=1&total_amount=9.90",
            &signature
        ));
        assert!(!verify(
            &public,
            b"out_trade_no=1&total_amount=0.01",
            &signature
        ));
        assert!(!verify(
            &public,
            b"out_trade_no=1&total_amount=9.90",
            "AAAA"
        ));
        // The bare base64 body, as Alipay's console shows keys, reads the same.
        let body: String = private
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(private_key(&body).is_ok());
    }
}

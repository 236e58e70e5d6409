//! The one algorithm tokens use, as a `jsonwebtoken` crypto provider.
//!
//! `jsonwebtoken` parses, checks and signs; this provider only computes
//! HMAC-SHA256 (verification through `hmac`'s constant-time comparison) and
//! refuses every other algorithm. Without it the crate's `rust_crypto`
//! feature would link RSA, ECDSA and Ed25519 into the wasm, about 375 KB gzip
//! that an HS256-only verifier never runs.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use sha2::Sha256;

struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(alg: &Algorithm, family: AlgorithmFamily, secret: &[u8]) -> Result<Self> {
        if *alg != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        if family != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Hs256)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        mac.verify_slice(sig).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256::new(alg, key.family(), key.as_bytes())?))
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let DecodingKeyKind::SecretOrDer(secret) = key.kind() else {
        return Err(ErrorKind::InvalidKeyFormat.into());
    };
    Ok(Box::new(Hs256::new(alg, key.family(), secret)?))
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // JWK helpers: never called (no JWKs here).
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes this provider the process default; a no-op once any is installed.
pub(super) fn install() {
    let _ = PROVIDER.install_default();
}

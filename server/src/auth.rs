//! Secrets: random tokens, agent password hashes, token digests, identity verification.
//!
//! Tokens are 32 random bytes in hex; the database keeps only their SHA-256, so a leaked
//! database does not log anyone in. Passwords are hashed with Argon2id. Every comparison of
//! a secret is constant-time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random token (256 bits, hex): visitor tokens, agent session tokens, ids.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new random id, shorter than a token because it is not a secret (128 bits, hex).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The digest under which a token is stored and looked up.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes an agent's password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing the password: {error}"))
}

/// Whether `password` matches a hash made by [`hash_password`]. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Whether `user_hash` is hex(HMAC-SHA256(secret, user_id)), compared in constant time
/// (`ct_eq`): a comparison that stops at the first differing byte would let a visitor forge
/// the hash byte by byte from response times. The test `the_user_hash_is_compared_in_constant_time`
/// holds this function to it.
pub fn verify_user_hash(secret: &str, user_id: &str, user_hash: &str) -> bool {
    let Ok(claimed) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let expected = user_hash_bytes(secret, user_id);
    expected.as_slice().ct_eq(claimed.as_slice()).into()
}

/// hex(HMAC-SHA256(secret, user_id)): what a site owner's backend computes for `setUser`.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    hex::encode(user_hash_bytes(secret, user_id))
}

fn user_hash_bytes(secret: &str, user_id: &str) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(user_id.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horse ", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn user_hash_is_checked_against_the_secret_and_the_id() {
        let hash = user_hash("s3cret", "user-42");
        assert!(verify_user_hash("s3cret", "user-42", &hash));
        assert!(!verify_user_hash("s3cret", "user-43", &hash));
        assert!(!verify_user_hash("other", "user-42", &hash));
        assert!(!verify_user_hash("s3cret", "user-42", "zz"));
        assert!(!verify_user_hash("s3cret", "user-42", &hash[..10]));
    }

    /// The verdict on a claimed hash must come from a constant-time comparison: this reads
    /// `verify_user_hash`'s own source and fails if the hash is compared any other way
    /// (`==`, `!=`, `eq`, `cmp`, a loop over bytes), so a "simplification" cannot slip in.
    #[test]
    fn the_user_hash_is_compared_in_constant_time() {
        let source = include_str!("auth.rs");
        let body = source
            .split("pub fn verify_user_hash(")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .expect("verify_user_hash is in auth.rs");
        assert_eq!(
            body.matches(".ct_eq(").count(),
            1,
            "exactly one constant-time comparison:\n{body}"
        );
        for forbidden in [
            "==",
            "!=",
            ".eq(",
            "cmp(",
            "for ",
            ".iter()",
            "starts_with",
            "zip(",
        ] {
            assert!(
                !body.contains(forbidden),
                "verify_user_hash compares with {forbidden:?}:\n{body}"
            );
        }
        // And `ct_eq` is subtle's constant-time equality, the only one imported.
        assert!(source.contains("use subtle::ConstantTimeEq;"));
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (first, second) = (random_token(), random_token());
        assert_ne!(first, second);
        assert_eq!(first.len(), 64);
        assert_ne!(token_digest(&first), first);
        assert_eq!(token_digest(&first), token_digest(&first));
    }
}

//! Self-authenticating room ids and publish tokens.
//!
//! A room id is 16 random bytes followed by the first 8 bytes of
//! `HMAC-SHA256(secret, "room:" || random)`, as 32 characters of base64url. A publish token
//! is the first 16 bytes of `HMAC-SHA256(secret, "publish:" || room id)`, as 22 characters.
//! So the server needs no storage to tell a room it made from a guess, or the right token
//! from a wrong one: both are recomputed from the secret. A restarted server with the same
//! secret accepts every id and token it handed out before, and a room's in-memory state
//! can be dropped when idle and made again on demand.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::{TryRngCore, rngs::OsRng};
use sha2::Sha256;

use crate::secret::Secret;

/// Random bytes in a room id (128 bits: unguessable on their own).
const RANDOM_BYTES: usize = 16;
/// MAC bytes after them: a forged id passes with probability 2^-64.
const TAG_BYTES: usize = 8;
/// Characters of a room id (24 bytes of base64url, no padding, no spare bits).
pub const ID_CHARS: usize = (RANDOM_BYTES + TAG_BYTES) * 4 / 3;
/// Bytes of a publish token (128 bits).
const TOKEN_BYTES: usize = 16;
/// Characters of a publish token.
const TOKEN_CHARS: usize = (TOKEN_BYTES * 4).div_ceil(3);

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

/// The server's MAC key, ready to use (the key schedule is done once).
#[derive(Clone)]
pub struct Keys {
    mac: Hmac<Sha256>,
}

impl Keys {
    pub fn new(secret: &Secret) -> Self {
        Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(secret.bytes())
                .expect("HMAC accepts keys of any length"),
        }
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(domain);
        mac.update(data);
        mac
    }

    /// A fresh room id.
    pub fn new_room_id(&self) -> Result<String, RandomError> {
        let mut id = [0u8; RANDOM_BYTES + TAG_BYTES];
        let (random, tag) = id.split_at_mut(RANDOM_BYTES);
        OsRng.try_fill_bytes(random).map_err(|_| RandomError)?;
        let full = self.mac(b"room:", random).finalize().into_bytes();
        tag.copy_from_slice(&full[..TAG_BYTES]);
        Ok(URL_SAFE_NO_PAD.encode(id))
    }

    /// Whether this server (or one with the same secret) made `id`. Constant time in the
    /// tag; anything of the wrong shape is turned away before any MAC work.
    pub fn verify_room_id(&self, id: &str) -> bool {
        if id.len() != ID_CHARS {
            return false;
        }
        let mut bytes = [0u8; RANDOM_BYTES + TAG_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(id, &mut bytes) {
            Ok(n) if n == bytes.len() => {}
            _ => return false,
        }
        let (random, tag) = bytes.split_at(RANDOM_BYTES);
        self.mac(b"room:", random)
            .verify_truncated_left(tag)
            .is_ok()
    }

    /// The publish token of room `id`.
    pub fn publish_token(&self, id: &str) -> String {
        let full = self.mac(b"publish:", id.as_bytes()).finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&full[..TOKEN_BYTES])
    }

    /// Whether `token` is room `id`'s publish token, compared in constant time.
    pub fn verify_token(&self, id: &str, token: &str) -> bool {
        // The exact length matters: a MAC check on a truncated tag of one byte would pass
        // one guess in 256.
        if token.len() != TOKEN_CHARS {
            return false;
        }
        let mut bytes = [0u8; TOKEN_BYTES + 2];
        match URL_SAFE_NO_PAD.decode_slice(token, &mut bytes) {
            Ok(TOKEN_BYTES) => self
                .mac(b"publish:", id.as_bytes())
                .verify_truncated_left(&bytes[..TOKEN_BYTES])
                .is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(&Secret::random().expect("random"))
    }

    #[test]
    fn ids_verify_and_are_url_safe_and_distinct() {
        let k = keys();
        let a = k.new_room_id().expect("id");
        let b = k.new_room_id().expect("id");
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), ID_CHARS);
            assert!(
                id.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            );
            assert!(k.verify_room_id(id));
        }
    }

    #[test]
    fn forged_and_foreign_ids_fail() {
        let k = keys();
        let id = k.new_room_id().expect("id");
        // Every single-character change of the id breaks it.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..id.len() {
            let c = id.as_bytes()[i];
            let other = alphabet.bytes().find(|&x| x != c).expect("another char");
            let mut forged = id.clone().into_bytes();
            forged[i] = other;
            let forged = String::from_utf8(forged).expect("ascii");
            assert!(!k.verify_room_id(&forged), "{forged}");
        }
        assert!(!keys().verify_room_id(&id), "another secret's id");
        for bad in [
            "",
            "0",
            &"0".repeat(ID_CHARS),
            &"=".repeat(ID_CHARS),
            "../../etc/passwd",
        ] {
            assert!(!k.verify_room_id(bad), "{bad:?}");
        }
        assert!(!k.verify_room_id(&format!("{id}A")));
        assert!(!k.verify_room_id(&id[1..]));
    }

    #[test]
    fn tokens_belong_to_one_room_and_one_secret() {
        let k = keys();
        let a = k.new_room_id().expect("id");
        let b = k.new_room_id().expect("id");
        let ta = k.publish_token(&a);
        assert_eq!(ta.len(), TOKEN_CHARS);
        assert_eq!(ta, k.publish_token(&a), "recomputed, not random");
        assert!(k.verify_token(&a, &ta));
        assert!(!k.verify_token(&b, &ta));
        assert!(!keys().verify_token(&a, &ta));
        // Truncated, extended or empty tokens never pass, whatever their prefix.
        assert!(!k.verify_token(&a, &ta[..2]));
        assert!(!k.verify_token(&a, &ta[..TOKEN_CHARS - 1]));
        assert!(!k.verify_token(&a, &format!("{ta}A")));
        assert!(!k.verify_token(&a, ""));
    }
}

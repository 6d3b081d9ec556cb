//! The webhook signature: `X-Vitalcheck-Signature: sha256=<hex>`, an HMAC-SHA256 with the
//! notifier's `secret` over `<timestamp>.<body>`, where `<timestamp>` is the
//! `X-Vitalcheck-Timestamp` header (unix seconds). A receiver recomputes it, compares in
//! constant time, and rejects old timestamps (replays).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "x-vitalcheck-signature";
/// The timestamp header's name.
pub const TIMESTAMP_HEADER: &str = "x-vitalcheck-timestamp";

/// `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { unreachable!("HMAC accepts keys of any length") };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in digest.iter() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // python3: hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            signature(b"key", 1_700_000_000, br#"{"a":1}"#),
            "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
    }

    #[test]
    fn plain_hmac_matches_the_wikipedia_vector() {
        // HMAC_SHA256("key", "The quick brown fox jumps over the lazy dog")
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(b"key") else { panic!("key") };
        mac.update(b"The quick brown fox jumps over the lazy dog");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    }

    #[test]
    fn every_input_changes_it() {
        let base = signature(b"key", 1, b"body");
        assert_ne!(base, signature(b"kez", 1, b"body"));
        assert_ne!(base, signature(b"key", 2, b"body"));
        assert_ne!(base, signature(b"key", 1, b"bodz"));
    }
}

//! A signer of test identity tokens: what a CI provider's OIDC issuer does, for tests and
//! demonstrations against the emulator. Its public key ([`TestSigner::jwk`]) is what an issuer
//! registers as its `inline` key set; [`TestSigner::sign`] makes a JWT the token exchange
//! verifies.
//!
//! Two algorithms: ES256 with a key generated on the spot, and RS256 with a fixed 2048-bit key
//! that exists only for tests (it signs nothing else, and is public in this source).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Value, json};

/// The fixed RS256 test key (PKCS#1 DER, base64).
const RSA_TEST_KEY: &str = concat!(
    "MIIEogIBAAKCAQEAq5PFBHnAG3GGe+161R+MX8JBQL0Wvn39qc48m51cwYLkAtWiy7E9U+Cs58aYf4t1HAvAJIiP",
    "i6sxhKBoAJwWdq7quDx/DyUVp84lOfZX6ZzRPvXLADHv5XbwDDsbEIXg5W+w6eu3rpHyXeTm8KIslSm1jauT7Iyx",
    "XTZ+XTQGMgJfM/kxDT5jmjXw7X5dpeeORu1wdJWI1Klrr/5z1NcDP63bGYRCPClT6bxQdmcIDzdQyrLDird9bPTt",
    "2yf7wHQxGDg9o2DYAAvMx22Fxg6ogVuJAXhpU7iQ3F5YfoejPPHwlEKQknfx+ediNgu356yuPunj+VoR1ONgzV5a",
    "b7rfgQIDAQABAoH/cV7qx9JLBdc1rZ11lG2MK5oH0+cdqDFH83O6yHhqWdNLJjRTpZQvmcTTezLWgTB86VM6WumB",
    "MCCmT6ROFFkO3s0leyc+LZure33TS0FjRZHBEYEH6dEVWuIEK5DCiWBtAi2TEH4YmNkG9NPTZR1DqCwvMrU0wREW",
    "ASmIxb0ietfRSFhk2ZVUZnMHipfdGIn592cnd/41sfZnCmrMJnb8trM2NH6+yzNots8Lb8qCoqdKVmg6n4epvFSv",
    "PUQvLgBUH/5Db+wr9W7Nkq6cznfxl3iZkgWkykCitbVqGmffavBPRM/w98ai1GkQCO34+8OX/1Gi1nB5duK+DdiG",
    "EWLhAoGBANgFmTH08ST+0lJiBKcb8vuO3UWP867HA2ymunzFhr4WQaoanS8xQtswG4KRchxdP0h0oiaIawKpniXk",
    "Yz0ZwGJ1lQYE0q62fxx/cmlTHWW1mrYjSMKizw7umxQzNBLxiLnrUQ8I7jhOlszckkX6mGUO2WND68atzvcyBwqQ",
    "0f8hAoGBAMtUh+3GF7hdlHAp9avZIVhl3D7zWrBKxlbO5PX28FcNbN8t+k2s0gSDAWlnBrBPrnYqWbkaT3OZHXzN",
    "jjx8hPlW6A5v+TX/8cjRWAvFiUMVSB/YqE3TvEP75x3MYPv3Iq+PLE4VYypmJgpLcKMZ4u+9CXF60IXZBT/X1oIu",
    "BrRhAoGBAKnpXWHp43LR6+RYrIg0d55d9LUuUOF8L7laOvzA8Qa6wtNlM5VXDdsRr9G3TSX6QjhfZNsiGelyOK5d",
    "QaFhi+zlx12AlaZObRShOgCWG11QxmvUvPo6zNpV2yy8SY1M5do2uP82awlm5z4jj/ny7cMvNtXZKq6PL2dHtjod",
    "Rs+BAoGBAKzN8KAh5PLphUg2QPaGGJLaLu7JP9/oDNymBW0NK4GwhUDAAKSXJf5zoHWF++dIMQt4PrzUIYYrMSZq",
    "RGIfqZuHQr1SaMh9920mjd+jSF7c7WkzZwaN1skog2mN0zcQ+EegNJVAFAFqwxWou9fCHl6FmEr7h9DZel6h/0qv",
    "9z7BAoGAC5cEormvTqBoXdE02uB+XxglWTgXwzbhiAdCKqo10Fh9DnJhZ6v8/ap/qxFHoO1ZApuMqg9FCeb4vr8e",
    "3fRcf5mbe7pAF2+wqQ7w/i/rN9ORtJKP3tXkZhp+tvKu480TRo4om6qGPPPThmjjwIwoYidasdV1MVDgMW0S5JPV",
    "3Wk=",
);

enum Key {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

/// Signs test identity tokens.
pub struct TestSigner {
    key: Key,
    kid: String,
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TestSigner {
    /// A fresh ES256 (P-256) key with this `kid`.
    pub fn es256(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("key generation works");
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("a fresh key parses");
        Self {
            key: Key::Es256(pair),
            kid: kid.to_owned(),
        }
    }

    /// The fixed RS256 test key with this `kid`.
    pub fn rs256(kid: &str) -> Self {
        let der = STANDARD
            .decode(RSA_TEST_KEY)
            .expect("the test key is base64");
        let pair = RsaKeyPair::from_der(&der).expect("the test key parses");
        Self {
            key: Key::Rs256(pair),
            kid: kid.to_owned(),
        }
    }

    /// The public key as a JWK (what an issuer's `inline` key set holds).
    pub fn jwk(&self) -> Value {
        match &self.key {
            Key::Es256(pair) => {
                let public = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
                    "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
                })
            }
            Key::Rs256(pair) => {
                let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({
                    "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                    "n": URL_SAFE_NO_PAD.encode(&public.n),
                    "e": URL_SAFE_NO_PAD.encode(&public.e),
                })
            }
        }
    }

    /// A JWT of `claims` signed with this key, its header naming the key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let alg = match self.key {
            Key::Es256(_) => "ES256",
            Key::Rs256(_) => "RS256",
        };
        self.sign_with_header(&json!({"alg": alg, "typ": "JWT", "kid": self.kid}), claims)
    }

    /// A JWT of `claims` under exactly this `header`, signed with this key.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match &self.key {
            Key::Es256(pair) => pair
                .sign(&rng, input.as_bytes())
                .expect("signing works")
                .as_ref()
                .to_vec(),
            Key::Rs256(pair) => {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("signing works");
                sig
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

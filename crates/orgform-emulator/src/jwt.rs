//! Verification of the identity token (a signed JWT) a token exchange presents, as the "WIF
//! reference" page describes it (`JWT verification`): at most 16 KiB; an asymmetric algorithm
//! only (HMAC and `none` refused); a `kid` that names a key of the issuer's key set; `sub`,
//! `iat` and `exp` present; `exp` in the future, `iat` and `nbf` not in the future, each with a
//! 30-second leeway; a lifetime (`exp - iat`) within the issuer's maximum.
//!
//! Signatures are checked with `ring`: ES256 and ES384 (`EC` keys on P-256 / P-384), RS256,
//! RS384 and RS512 (PKCS#1 v1.5) and PS256, PS384 and PS512 (PSS) with `RSA` keys. ES512 is
//! documented as accepted but `ring` has no P-521: the emulator denies it (a test key should
//! use another algorithm). A key whose `use` is not `sig`, or whose `alg` differs from the
//! token's, is not a candidate.
//!
//! Every failure is a denial reason (a short snake-case word, as the Console's authentication
//! history would show it); the exchange answers all of them alike.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

/// The largest assertion accepted.
pub(crate) const MAX_ASSERTION_BYTES: usize = 16 * 1024;

/// The leeway applied to `exp`, `nbf` and `iat`.
pub(crate) const CLOCK_SKEW_SECONDS: i64 = 30;

/// Why an assertion was denied.
pub(crate) type Deny = &'static str;

/// A verified token's claims.
pub(crate) type Claims = Map<String, Value>;

/// What the issuer requires of a token.
pub(crate) struct IssuerCheck<'a> {
    /// The issuer's `issuer_url`: the `iss` claim must equal it exactly.
    pub(crate) issuer_url: &'a str,
    /// The issuer's key documents (inline JWKS).
    pub(crate) keys: &'a [Value],
    /// Longest `exp - iat` accepted.
    pub(crate) max_lifetime_seconds: u32,
}

fn decode_json(part: &str) -> Result<Map<String, Value>, Deny> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| "malformed_jwt")?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("malformed_jwt"),
    }
}

fn b64_member(key: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    key.get(name)
        .and_then(Value::as_str)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
}

/// Checks the signature of `input` with one key, for algorithm `alg`.
fn verify_with(alg: &str, key: &Map<String, Value>, input: &[u8], sig: &[u8]) -> bool {
    let kty = key.get("kty").and_then(Value::as_str).unwrap_or_default();
    match alg {
        "ES256" | "ES384" => {
            let (crv, algorithm): (&str, &'static signature::EcdsaVerificationAlgorithm) =
                if alg == "ES256" {
                    ("P-256", &signature::ECDSA_P256_SHA256_FIXED)
                } else {
                    ("P-384", &signature::ECDSA_P384_SHA384_FIXED)
                };
            if kty != "EC" || key.get("crv").and_then(Value::as_str) != Some(crv) {
                return false;
            }
            let (Some(x), Some(y)) = (b64_member(key, "x"), b64_member(key, "y")) else {
                return false;
            };
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(algorithm, point)
                .verify(input, sig)
                .is_ok()
        }
        _ => {
            let algorithm: &'static signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return false,
            };
            if kty != "RSA" {
                return false;
            }
            let (Some(n), Some(e)) = (b64_member(key, "n"), b64_member(key, "e")) else {
                return false;
            };
            RsaPublicKeyComponents { n, e }
                .verify(algorithm, input, sig)
                .is_ok()
        }
    }
}

/// The algorithms `ring` verifies here.
const SUPPORTED: &[&str] = &[
    "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
];

/// A numeric-date claim as whole seconds.
fn seconds(claims: &Claims, name: &str) -> Result<Option<i64>, Deny> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| {
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "bounded above; NumericDate may carry a fraction"
                        )]
                        let whole = f.trunc() as i64;
                        whole
                    })
            })
            .map(Some)
            .ok_or("malformed_jwt"),
    }
}

/// Verifies `jwt` for `issuer` at `now`; the claims on success.
pub(crate) fn verify(jwt: &str, issuer: &IssuerCheck<'_>, now: Timestamp) -> Result<Claims, Deny> {
    if jwt.len() > MAX_ASSERTION_BYTES {
        return Err("assertion_too_large");
    }
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed_jwt");
    };
    let header = decode_json(h)?;
    let claims = decode_json(p)?;
    let sig = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| "malformed_jwt")?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    if !SUPPORTED.contains(&alg) {
        return Err("unsupported_algorithm");
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or("missing_kid")?;
    let input = &jwt.as_bytes()[..h.len() + 1 + p.len()];
    let candidates: Vec<&Map<String, Value>> = issuer
        .keys
        .iter()
        .filter_map(Value::as_object)
        .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .filter(|k| {
            k.get("alg")
                .and_then(Value::as_str)
                .is_none_or(|a| a == alg)
        })
        .collect();
    if candidates.is_empty() {
        return Err("unknown_kid");
    }
    if !candidates.iter().any(|k| verify_with(alg, k, input, &sig)) {
        return Err("bad_signature");
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer.issuer_url) {
        return Err("issuer_mismatch");
    }
    if !claims.get("sub").is_some_and(Value::is_string) {
        return Err("missing_sub");
    }
    let now = now.as_second();
    let exp = seconds(&claims, "exp")?.ok_or("missing_exp")?;
    let iat = seconds(&claims, "iat")?.ok_or("missing_iat")?;
    if exp.saturating_add(CLOCK_SKEW_SECONDS) <= now {
        return Err("expired");
    }
    if iat.saturating_sub(CLOCK_SKEW_SECONDS) > now {
        return Err("issued_in_future");
    }
    if let Some(nbf) = seconds(&claims, "nbf")?
        && nbf.saturating_sub(CLOCK_SKEW_SECONDS) > now
    {
        return Err("not_yet_valid");
    }
    if exp.saturating_sub(iat) > i64::from(issuer.max_lifetime_seconds) {
        return Err("lifetime_exceeds_issuer_maximum");
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use serde_json::json;

    fn es256() -> (EcdsaKeyPair, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        });
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    #[test]
    fn each_check_has_its_own_reason() {
        let (pair, jwk) = es256();
        let keys = [jwk];
        let issuer = IssuerCheck {
            issuer_url: "https://issuer.example",
            keys: &keys,
            max_lifetime_seconds: 600,
        };
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let t = now.as_second();
        let header = json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
        let good = json!({"iss": "https://issuer.example", "sub": "s", "iat": t, "exp": t + 300});
        assert!(verify(&sign(&pair, &header, &good), &issuer, now).is_ok());
        let with = |patch: Value| {
            let mut c = good.clone();
            for (k, v) in patch.as_object().unwrap() {
                if v.is_null() {
                    c.as_object_mut().unwrap().remove(k);
                } else {
                    c[k] = v.clone();
                }
            }
            verify(&sign(&pair, &header, &c), &issuer, now).unwrap_err()
        };
        assert_eq!(
            with(json!({"iss": "https://issuer.example/"})),
            "issuer_mismatch"
        );
        assert_eq!(with(json!({"sub": null})), "missing_sub");
        assert_eq!(with(json!({"exp": t - 31})), "expired");
        assert_eq!(with(json!({"iat": t + 31})), "issued_in_future");
        assert_eq!(with(json!({"nbf": t + 31})), "not_yet_valid");
        assert_eq!(
            with(json!({"exp": t + 601})),
            "lifetime_exceeds_issuer_maximum"
        );
        // Within the leeway.
        assert!(verify(&sign(&pair, &header, &json!({"iss": "https://issuer.example", "sub": "s", "iat": t + 29, "exp": t + 300})), &issuer, now).is_ok());
        let other = json!({"alg": "ES256", "kid": "k2"});
        assert_eq!(
            verify(&sign(&pair, &other, &good), &issuer, now).unwrap_err(),
            "unknown_kid"
        );
        let hs = json!({"alg": "HS256", "kid": "k1"});
        assert_eq!(
            verify(&sign(&pair, &hs, &good), &issuer, now).unwrap_err(),
            "unsupported_algorithm"
        );
        let mut tampered = sign(&pair, &header, &good);
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert_eq!(
            verify(&tampered, &issuer, now).unwrap_err(),
            "bad_signature"
        );
        assert_eq!(verify("a.b", &issuer, now).unwrap_err(), "malformed_jwt");
        let huge = "a".repeat(MAX_ASSERTION_BYTES + 1);
        assert_eq!(
            verify(&huge, &issuer, now).unwrap_err(),
            "assertion_too_large"
        );
    }
}

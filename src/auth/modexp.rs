//! Modular exponentiation for SRP at hardware speed: AWS-LC's constant-time
//! Montgomery ladder (the x86-64/Arm assembly the TLS stack already links),
//! instead of num-bigint's portable code, which made 3072-bit SRP the largest
//! cost of a run (about 60 % of the CPU of the bundled suite).
//!
//! Both sides of SRP use it: the runner's client maths (`auth::srp`) and the
//! stub's server maths (`stub::srp`). Numbers stay `BigUint` everywhere else;
//! only the exponentiation crosses into AWS-LC.

use std::ptr::NonNull;

use aws_lc_sys::{
    BIGNUM, BN_CTX, BN_CTX_free, BN_CTX_new, BN_bin2bn, BN_bn2bin_padded, BN_free,
    BN_mod_exp_mont_consttime, BN_new, BN_num_bytes,
};
use num_bigint::BigUint;

/// `base^exponent mod modulus`. `modulus` must be odd (SRP's N is a safe
/// prime); otherwise, and if AWS-LC cannot allocate, num-bigint computes it.
pub fn mod_pow(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> BigUint {
    if modulus.bit(0)
        && let Some(result) = aws_lc_mod_pow(&(base % modulus), exponent, modulus)
    {
        return result;
    }
    base.modpow(exponent, modulus)
}

/// An owned AWS-LC BIGNUM, freed on drop.
struct Bn(NonNull<BIGNUM>);

impl Bn {
    fn new() -> Option<Bn> {
        // SAFETY: BN_new has no preconditions; a null result is an allocation failure.
        NonNull::new(unsafe { BN_new() }).map(Bn)
    }

    fn from(n: &BigUint) -> Option<Bn> {
        let bytes = n.to_bytes_be();
        let bn = Bn::new()?;
        // SAFETY: `bytes` is valid for `len` bytes; `bn` is a live BIGNUM that BN_bin2bn overwrites.
        let set = unsafe { BN_bin2bn(bytes.as_ptr(), bytes.len(), bn.0.as_ptr()) };
        (!set.is_null()).then_some(bn)
    }

    fn to_biguint(&self) -> Option<BigUint> {
        // SAFETY: `self` is a live BIGNUM.
        let len = unsafe { BN_num_bytes(self.0.as_ptr()) } as usize;
        let mut bytes = vec![0u8; len];
        // SAFETY: `bytes` has exactly `len` writable bytes, which is enough for the number.
        let ok = unsafe { BN_bn2bin_padded(bytes.as_mut_ptr(), len, self.0.as_ptr()) };
        (ok == 1).then(|| BigUint::from_bytes_be(&bytes))
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: the BIGNUM came from BN_new and is freed once.
        unsafe { BN_free(self.0.as_ptr()) }
    }
}

/// An AWS-LC scratch context, freed on drop.
struct Ctx(NonNull<BN_CTX>);

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: the context came from BN_CTX_new and is freed once.
        unsafe { BN_CTX_free(self.0.as_ptr()) }
    }
}

/// `base` must already be reduced below the odd `modulus`.
fn aws_lc_mod_pow(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> Option<BigUint> {
    let (base, exponent, modulus) = (Bn::from(base)?, Bn::from(exponent)?, Bn::from(modulus)?);
    let result = Bn::new()?;
    // SAFETY: BN_CTX_new has no preconditions; null is an allocation failure.
    let ctx = Ctx(NonNull::new(unsafe { BN_CTX_new() })?);
    // SAFETY: every pointer is a live object owned above; base < modulus and the
    // modulus is odd, as BN_mod_exp_mont_consttime requires; a null BN_MONT_CTX
    // makes AWS-LC build its own for this call.
    let ok = unsafe {
        BN_mod_exp_mont_consttime(
            result.0.as_ptr(),
            base.0.as_ptr(),
            exponent.0.as_ptr(),
            modulus.0.as_ptr(),
            ctx.0.as_ptr(),
            std::ptr::null(),
        )
    };
    if ok == 1 { result.to_biguint() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cognito's N: the 3072-bit MODP prime of RFC 3526.
    fn n3072() -> BigUint {
        crate::auth::srp::N.clone()
    }

    #[test]
    fn agrees_with_num_bigint_on_srp_sized_numbers() {
        let n = n3072();
        for seed in 1u8..=8 {
            let mut base = [0u8; 400];
            let mut exponent = [0u8; 128];
            rand::fill(&mut base[..]);
            rand::fill(&mut exponent[..]);
            exponent[0] = seed;
            // Bases above N are reduced first, as SRP's B − k·g^x may need.
            let base = BigUint::from_bytes_be(&base);
            let exponent = BigUint::from_bytes_be(&exponent);
            assert_eq!(mod_pow(&base, &exponent, &n), base.modpow(&exponent, &n));
        }
    }

    #[test]
    fn edge_values() {
        let n = n3072();
        let two = BigUint::from(2u8);
        assert_eq!(mod_pow(&two, &BigUint::ZERO, &n), BigUint::from(1u8));
        assert_eq!(mod_pow(&BigUint::ZERO, &two, &n), BigUint::ZERO);
        assert_eq!(mod_pow(&n, &two, &n), BigUint::ZERO);
        // A small odd modulus and an even one (the num-bigint fallback).
        assert_eq!(
            mod_pow(
                &BigUint::from(4u8),
                &BigUint::from(13u8),
                &BigUint::from(497u32)
            ),
            BigUint::from(445u32)
        );
        assert_eq!(
            mod_pow(
                &BigUint::from(3u8),
                &BigUint::from(5u8),
                &BigUint::from(100u8)
            ),
            BigUint::from(43u8)
        );
    }
}

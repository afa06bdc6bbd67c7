//! Modular exponentiation for SRP at hardware speed: AWS-LC's constant-time
//! Montgomery ladder (the x86-64/Arm assembly the TLS stack already links),
//! instead of num-bigint's portable code, which made 3072-bit SRP the largest
//! cost of a run (about 60 % of the CPU of the bundled suite).
//!
//! Both sides of SRP use it: the runner's client maths (`auth::srp`) and the
//! stub's server maths (`stub::srp`). Numbers stay `BigUint` everywhere else;
//! only the exponentiation crosses into AWS-LC.
//!
//! Half of SRP's exponentiations raise the fixed generator (g^a, g^b, g^x):
//! [`FixedBase`] answers those from a table of precomputed powers, about a
//! third of the cost of the ladder, still without branching on or indexing
//! memory by the exponent's bits.

use std::ptr::NonNull;

use aws_lc_sys::{
    BIGNUM, BN_CTX, BN_CTX_free, BN_CTX_new, BN_MONT_CTX, BN_MONT_CTX_free,
    BN_MONT_CTX_new_consttime, BN_bin2bn, BN_bn2bin_padded, BN_bn2le_padded, BN_free,
    BN_from_montgomery, BN_le2bn, BN_mod_exp_mont_consttime, BN_mod_mul_montgomery, BN_new,
    BN_num_bytes, BN_to_montgomery,
};
use num_bigint::BigUint;
use subtle::{ConditionallySelectable, ConstantTimeEq};

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

impl Ctx {
    fn new() -> Option<Ctx> {
        // SAFETY: BN_CTX_new has no preconditions; null is an allocation failure.
        NonNull::new(unsafe { BN_CTX_new() }).map(Ctx)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: the context came from BN_CTX_new and is freed once.
        unsafe { BN_CTX_free(self.0.as_ptr()) }
    }
}

/// Bits of the exponent per table row: 16 entries a row, one multiplication
/// per 4 bits of exponent (the ladder needs a squaring per bit plus a
/// multiplication per window).
const WINDOW: usize = 4;

/// `base^e mod modulus` for one fixed base and exponents up to `max_bits`,
/// from a table `row[i][j] = base^(j·16^i)` (Montgomery form): `e`'s i-th
/// 4-bit digit picks an entry of row i, and the entries picked are
/// multiplied. Every entry of a row is read for every digit and combined by
/// masks, so neither timing nor memory access depends on the exponent.
/// For SRP's g = 2 and 256-bit exponents the table is 64 rows of 16 numbers
/// (384 KiB), built in about 3 ms.
pub struct FixedBase {
    base: BigUint,
    modulus: BigUint,
    mont: NonNull<BN_MONT_CTX>,
    /// Bytes of one number (the modulus's length).
    width: usize,
    /// `rows × 16` entries of `width / 8` little-endian limbs each.
    table: Vec<u64>,
    rows: usize,
}

// SAFETY: after construction the BN_MONT_CTX is only read (AWS-LC takes it as
// `const` in every call made here), and the table is plain data.
unsafe impl Send for FixedBase {}
// SAFETY: as above: shared use never writes through the pointer.
unsafe impl Sync for FixedBase {}

impl Drop for FixedBase {
    fn drop(&mut self) {
        // SAFETY: the context came from BN_MONT_CTX_new_consttime and is freed once.
        unsafe { BN_MONT_CTX_free(self.mont.as_ptr()) }
    }
}

impl FixedBase {
    /// The table for `base` modulo the odd `modulus`, for exponents of up to
    /// `max_bits` bits. `None` if the modulus is even or AWS-LC cannot allocate.
    pub fn new(base: &BigUint, modulus: &BigUint, max_bits: usize) -> Option<FixedBase> {
        if !modulus.bit(0) {
            return None;
        }
        let m = Bn::from(modulus)?;
        let ctx = Ctx::new()?;
        // SAFETY: `m` is a live, odd, positive BIGNUM; `ctx` is a live context.
        let mont =
            NonNull::new(unsafe { BN_MONT_CTX_new_consttime(m.0.as_ptr(), ctx.0.as_ptr()) })?;
        let width = modulus.to_bytes_le().len().div_ceil(8) * 8;
        let rows = max_bits.div_ceil(WINDOW);
        let mut fixed = FixedBase {
            base: base % modulus,
            modulus: modulus.clone(),
            mont,
            width,
            table: Vec::new(),
            rows,
        };
        let limbs = width / 8;
        fixed.table = Vec::with_capacity(rows * (1 << WINDOW) * limbs);
        // `step` is base^(16^i) for the current row i.
        let mut step = fixed.to_montgomery(&fixed.base, &ctx)?;
        for _ in 0..rows {
            let mut entry = fixed.to_montgomery(&BigUint::from(1u8), &ctx)?;
            for _ in 0..(1 << WINDOW) {
                fixed.push_entry(&entry)?;
                entry = fixed.mul(&entry, &step, &ctx)?;
            }
            // After 16 multiplications `entry` is step^16: the next row's step.
            step = entry;
        }
        Some(fixed)
    }

    /// `base^exponent mod modulus`; the ladder ([`mod_pow`]) computes
    /// exponents longer than the table, and any AWS-LC allocation failure.
    pub fn pow(&self, exponent: &BigUint) -> BigUint {
        (exponent.bits() as usize <= self.rows * WINDOW)
            .then(|| self.table_pow(exponent))
            .flatten()
            .unwrap_or_else(|| mod_pow(&self.base, exponent, &self.modulus))
    }

    fn table_pow(&self, exponent: &BigUint) -> Option<BigUint> {
        let ctx = Ctx::new()?;
        let limbs = self.width / 8;
        let digits = exponent.to_bytes_le();
        let mut picked = vec![0u64; limbs];
        let mut acc: Option<Bn> = None;
        for row in 0..self.rows {
            let byte = digits.get(row * WINDOW / 8).copied().unwrap_or(0);
            let digit = (byte >> (row * WINDOW % 8)) & 0x0f;
            picked.fill(0);
            let row_start = row * (1 << WINDOW) * limbs;
            for j in 0..(1u8 << WINDOW) {
                let take = j.ct_eq(&digit);
                let entry = &self.table[row_start + j as usize * limbs..][..limbs];
                for (out, limb) in picked.iter_mut().zip(entry) {
                    out.conditional_assign(limb, take);
                }
            }
            let bytes: Vec<u8> = picked.iter().flat_map(|l| l.to_le_bytes()).collect();
            let entry = Bn::new()?;
            // SAFETY: `bytes` is valid for its length; `entry` is a live BIGNUM.
            if unsafe { BN_le2bn(bytes.as_ptr(), bytes.len(), entry.0.as_ptr()) }.is_null() {
                return None;
            }
            acc = Some(match acc {
                None => entry,
                Some(acc) => self.mul(&acc, &entry, &ctx)?,
            });
        }
        let acc = acc?;
        let result = Bn::new()?;
        // SAFETY: live BIGNUMs and context; `acc` is reduced, in Montgomery form.
        let ok = unsafe {
            BN_from_montgomery(
                result.0.as_ptr(),
                acc.0.as_ptr(),
                self.mont.as_ptr(),
                ctx.0.as_ptr(),
            )
        };
        if ok == 1 { result.to_biguint() } else { None }
    }

    fn to_montgomery(&self, n: &BigUint, ctx: &Ctx) -> Option<Bn> {
        let (n, out) = (Bn::from(n)?, Bn::new()?);
        // SAFETY: live BIGNUMs and context; `n` is below the modulus.
        let ok = unsafe {
            BN_to_montgomery(
                out.0.as_ptr(),
                n.0.as_ptr(),
                self.mont.as_ptr(),
                ctx.0.as_ptr(),
            )
        };
        (ok == 1).then_some(out)
    }

    /// The Montgomery product of two reduced numbers in Montgomery form.
    fn mul(&self, a: &Bn, b: &Bn, ctx: &Ctx) -> Option<Bn> {
        let out = Bn::new()?;
        // SAFETY: live BIGNUMs and context; both factors are below the modulus.
        let ok = unsafe {
            BN_mod_mul_montgomery(
                out.0.as_ptr(),
                a.0.as_ptr(),
                b.0.as_ptr(),
                self.mont.as_ptr(),
                ctx.0.as_ptr(),
            )
        };
        (ok == 1).then_some(out)
    }

    fn push_entry(&mut self, n: &Bn) -> Option<()> {
        let mut bytes = vec![0u8; self.width];
        // SAFETY: `bytes` has `width` writable bytes, enough for a reduced number.
        let ok = unsafe { BN_bn2le_padded(bytes.as_mut_ptr(), bytes.len(), n.0.as_ptr()) };
        if ok != 1 {
            return None;
        }
        let limbs = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")));
        self.table.extend(limbs);
        Some(())
    }
}

/// `base` must already be reduced below the odd `modulus`.
fn aws_lc_mod_pow(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> Option<BigUint> {
    let (base, exponent, modulus) = (Bn::from(base)?, Bn::from(exponent)?, Bn::from(modulus)?);
    let result = Bn::new()?;
    let ctx = Ctx::new()?;
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
    fn the_fixed_base_table_agrees_with_the_ladder() {
        let n = n3072();
        let two = BigUint::from(2u8);
        let table = FixedBase::new(&two, &n, 256).expect("odd modulus");
        for seed in 0u8..16 {
            let mut exponent = [0u8; 32];
            rand::fill(&mut exponent[..]);
            // Every digit value in the top row, and short exponents too.
            exponent[0] = seed << 4 | seed;
            let len = 1 + seed as usize * 2;
            let exponent = BigUint::from_bytes_be(&exponent[..len]);
            assert_eq!(
                table.pow(&exponent),
                mod_pow(&two, &exponent, &n),
                "{exponent:x}"
            );
        }
        let max: BigUint = (BigUint::from(1u8) << 256u32) - 1u8;
        for e in [
            BigUint::ZERO,
            BigUint::from(1u8),
            BigUint::from(16u8),
            max.clone(),
        ] {
            assert_eq!(table.pow(&e), mod_pow(&two, &e, &n), "{e:x}");
        }
        // Longer than the table: the ladder answers.
        let long = &max * &max;
        assert_eq!(table.pow(&long), two.modpow(&long, &n));
        // Another base, and a base above the modulus.
        let odd = FixedBase::new(&(&n + 5u8), &n, 64).expect("odd modulus");
        let e = BigUint::from(0xdead_beef_u64);
        assert_eq!(odd.pow(&e), BigUint::from(5u8).modpow(&e, &n));
        assert!(FixedBase::new(&two, &BigUint::from(100u8), 64).is_none());
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

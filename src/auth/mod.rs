//! The values no human should type: TOTP codes, SECRET_HASH, SRP proofs and
//! device verifiers, and (for expectations and snapshots) the decoded claims
//! of Cognito's JWTs.
//! Used by the runner to fill them in and by the stub to verify them.

pub mod fill;
pub mod jwt;
pub mod modexp;
pub mod secret_hash;
pub mod srp;
pub mod srp_fill;
pub mod totp;

//! In-process benchmarks (divan) of the parts a scenario run spends its CPU
//! on, side by side where there is a before and an after:
//! - `modexp`: one 3072-bit SRP exponentiation through AWS-LC's ladder (what
//!   runs for a varying base) and the fixed-base table (what runs for g),
//!   beside num-bigint (what ran before), for the exponent sizes in use;
//! - `srp`: the runner's half (a fresh `A`; the PASSWORD_VERIFIER proof);
//! - `stub`: sign-ins through the stub's own dispatch, no HTTP
//!   (USER_PASSWORD_AUTH, the two halves of USER_SRP_AUTH);
//! - `scrub` and `normalize`: the secret scrubber over a page of text with
//!   10 to 1,000 known values, and one sign-in response normalised;
//! - `scenario`: loading one bundled scenario file, and running one
//!   generated scenario end to end on the stub (the runner, the SDK and
//!   HTTP over the loopback included).
//!
//! Run with `cargo bench --bench inprocess` (or `scripts/bench.sh`, which
//! runs it after the whole-process cases). Timings live here, never in tests.

use std::path::PathBuf;
use std::sync::Arc;

use cognito_scenarios::auth::modexp::{FixedBase, mod_pow};
use cognito_scenarios::auth::srp::{Challenge, N, SrpSecret, timestamp};
use cognito_scenarios::run::normalize::{Known, Normalizer};
use cognito_scenarios::run::snapshot::SnapshotMode;
use cognito_scenarios::run::suite::{self, RunOptions};
use cognito_scenarios::scenario::Loader;
use cognito_scenarios::stub::{StubOptions, StubService};
use cognito_scenarios::targets::{Target, TargetSpec};
use divan::Bencher;
use num_bigint::BigUint;
use serde_json::{Value, json};

fn main() {
    divan::main();
}

const PASSWORD: &str = "Bench-Passw0rd!";

fn random(bytes: usize) -> BigUint {
    let mut b = vec![0u8; bytes];
    rand::fill(&mut b[..]);
    BigUint::from_bytes_be(&b)
}

#[divan::bench_group]
mod modexp {
    use super::*;

    /// Exponent sizes in bits: 256 (the stub's `b`, the runner's `a`, `x`,
    /// `u`), 512 (the runner's `a + u·x`), 1024 (the `a` Cognito's clients draw).
    const BITS: &[usize] = &[256, 512, 1024];

    #[divan::bench(args = BITS)]
    fn aws_lc(bencher: Bencher, bits: usize) {
        let (n, base, exponent) = (N.clone(), random(384), random(bits / 8));
        bencher.bench(|| mod_pow(&base, &exponent, &n));
    }

    /// g = 2 from the fixed-base table (g^a, g^b, g^x: 256-bit exponents).
    #[divan::bench]
    fn fixed_base_g(bencher: Bencher) {
        let two = BigUint::from(2u8);
        let table = FixedBase::new(&two, &N, 256).expect("odd modulus");
        let exponent = random(32);
        bencher.bench(|| table.pow(&exponent));
    }

    /// Building that table (once per process and side, on first use).
    #[divan::bench(sample_count = 10)]
    fn fixed_base_table() -> Option<FixedBase> {
        FixedBase::new(&BigUint::from(2u8), &N, 256)
    }

    #[divan::bench(args = BITS)]
    fn num_bigint(bencher: Bencher, bits: usize) {
        let (n, base, exponent) = (N.clone(), random(384), random(bits / 8));
        bencher.bench(|| base.modpow(&exponent, &n));
    }
}

/// A stub with one pool, one client allowing password and SRP sign-in, and
/// one confirmed user `ada`.
struct Pool {
    svc: StubService,
    pool_id: String,
    client_id: String,
}

impl Pool {
    fn new() -> Pool {
        let svc = StubService::new(&StubOptions::default()).expect("stub");
        let pool = svc
            .call("CreateUserPool", &json!({"PoolName": "bench"}))
            .expect("pool");
        let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
        let client = svc
            .call(
                "CreateUserPoolClient",
                &json!({
                    "UserPoolId": pool_id,
                    "ClientName": "bench",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
            )
            .expect("client");
        let client_id = client["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_string();
        svc.call(
            "SignUp",
            &json!({"ClientId": client_id, "Username": "ada", "Password": PASSWORD}),
        )
        .expect("sign-up");
        svc.call(
            "AdminConfirmSignUp",
            &json!({"UserPoolId": pool_id, "Username": "ada"}),
        )
        .expect("confirm");
        Pool {
            svc,
            pool_id,
            client_id,
        }
    }

    /// InitiateAuth USER_SRP_AUTH with `secret`'s `A`: the challenge parameters.
    fn srp_challenge(&self, secret: &SrpSecret) -> (Value, String) {
        let answer = self
            .svc
            .call(
                "InitiateAuth",
                &json!({
                    "ClientId": self.client_id,
                    "AuthFlow": "USER_SRP_AUTH",
                    "AuthParameters": {"USERNAME": "ada", "SRP_A": secret.public_hex()},
                }),
            )
            .expect("SRP challenge");
        let session = answer["Session"].as_str().unwrap_or_default().to_string();
        (answer["ChallengeParameters"].clone(), session)
    }

    /// The RespondToAuthChallenge request that proves the password for a
    /// fresh USER_SRP_AUTH challenge.
    fn srp_answer(&self) -> Value {
        let secret = SrpSecret::generate();
        let (params, session) = self.srp_challenge(&secret);
        let ts = timestamp(self.svc.clock().now_millis());
        let challenge = challenge_of(&params);
        let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap();
        let signature = secret
            .user_signature(&self.pool_id, user_id, PASSWORD, challenge, &ts)
            .expect("signature");
        let mut request = json!({
            "ClientId": self.client_id,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {
                "USERNAME": user_id,
                "PASSWORD_CLAIM_SECRET_BLOCK": params["SECRET_BLOCK"],
                "PASSWORD_CLAIM_SIGNATURE": signature,
                "TIMESTAMP": ts,
            },
        });
        if !session.is_empty() {
            request["Session"] = json!(session);
        }
        request
    }
}

fn challenge_of(params: &Value) -> Challenge<'_> {
    Challenge {
        salt: params["SALT"].as_str().unwrap(),
        srp_b: params["SRP_B"].as_str().unwrap(),
        secret_block: params["SECRET_BLOCK"].as_str().unwrap(),
    }
}

#[divan::bench_group]
mod srp {
    use super::*;

    /// A fresh `a` and `A = g^a` (one exponentiation).
    #[divan::bench]
    fn runner_public_value() -> SrpSecret {
        SrpSecret::generate()
    }

    /// PASSWORD_CLAIM_SIGNATURE for a challenge (`g^x`, then `(B − k·g^x)^(a + u·x)`).
    #[divan::bench]
    fn runner_proof(bencher: Bencher) {
        let pool = Pool::new();
        let secret = SrpSecret::generate();
        let (params, _) = pool.srp_challenge(&secret);
        let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap().to_string();
        let ts = timestamp(pool.svc.clock().now_millis());
        bencher.bench(|| {
            secret
                .user_signature(
                    &pool.pool_id,
                    &user_id,
                    PASSWORD,
                    challenge_of(&params),
                    &ts,
                )
                .unwrap()
        });
    }
}

#[divan::bench_group]
mod stub {
    use super::*;

    /// InitiateAuth USER_PASSWORD_AUTH to tokens: the password check, two
    /// RS256 signatures, the refresh token.
    #[divan::bench]
    fn password_sign_in(bencher: Bencher) {
        let pool = Pool::new();
        let request = json!({
            "ClientId": pool.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "ada", "PASSWORD": PASSWORD},
        });
        bencher.bench(|| pool.svc.call("InitiateAuth", &request).unwrap());
    }

    /// InitiateAuth USER_SRP_AUTH: the server's `B = k·v + g^b`.
    #[divan::bench]
    fn srp_challenge(bencher: Bencher) {
        let pool = Pool::new();
        let secret = SrpSecret::generate();
        bencher.bench(|| pool.srp_challenge(&secret));
    }

    /// RespondToAuthChallenge PASSWORD_VERIFIER: the server's session key
    /// (`(A·v^u)^b`), the proof check and the tokens. Each answer is fresh
    /// (sessions are single-use); making it is not timed.
    #[divan::bench]
    fn srp_proof_checked(bencher: Bencher) {
        let pool = Pool::new();
        bencher
            .with_inputs(|| pool.srp_answer())
            .bench_local_refs(|request| {
                pool.svc
                    .call("RespondToAuthChallenge", request)
                    .expect("tokens")
            });
    }
}

/// A page of text (an error message with a diff, say) that contains a few
/// of the known values.
fn page(known: &[String]) -> String {
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "line {i}: expected `{}` but the response said something else entirely; ",
            known[i % known.len()]
        ));
    }
    text
}

#[divan::bench(args = [10, 100, 1000])]
fn scrub(bencher: Bencher, secrets: usize) {
    let mut normalizer = Normalizer::new();
    let known: Vec<String> = (0..secrets)
        .map(|i| format!("secret-{i:04}-{}", uuid::Uuid::new_v4().simple()))
        .collect();
    for (i, value) in known.iter().enumerate() {
        normalizer.add_known(&format!("s{i}"), &json!(value), Known::Secret);
    }
    let text = page(&known);
    bencher.bench(|| normalizer.scrub(&text));
}

/// One USER_PASSWORD_AUTH answer (three JWT-shaped tokens) normalised for
/// the snapshot.
#[divan::bench]
fn normalize(bencher: Bencher) {
    let pool = Pool::new();
    let answer = pool
        .svc
        .call(
            "InitiateAuth",
            &json!({
                "ClientId": pool.client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "ada", "PASSWORD": PASSWORD},
            }),
        )
        .unwrap();
    bencher.bench(|| {
        let mut normalizer = Normalizer::new();
        normalizer.add_known("pool.id", &json!(pool.pool_id), Known::Variable);
        normalizer.add_known("password", &json!(PASSWORD), Known::Secret);
        normalizer.normalize(&answer)
    });
}

#[divan::bench_group]
mod scenario {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// Loading (reading, parsing with positions, checking) the bundled
    /// TOTP enrolment scenario.
    #[divan::bench]
    fn load_bundled(bencher: Bencher) {
        let file = root().join("scenarios/mfa/totp-required.yaml");
        bencher.bench(|| Loader::new().load_scenario(&file).expect("valid"));
    }

    /// One generated scenario (pool and client, SignUp, AdminConfirmSignUp,
    /// a USER_PASSWORD_AUTH sign-in, GetUser, a USER_SRP_AUTH sign-in: the
    /// one `scripts/bench.sh` generates) run on a fresh stub, as `run` does
    /// it for each scenario.
    #[divan::bench(sample_count = 30, sample_size = 1)]
    fn generated_on_stub(bencher: Bencher) {
        let dir = tempdir();
        let file = dir.join("flow.yaml");
        std::fs::write(&file, GENERATED).unwrap();
        let scenario = Loader::new().load_scenario(&file).expect("valid");
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let target = runtime
            .block_on(Target::open(TargetSpec::Stub { real_clock: false }))
            .unwrap();
        let options = RunOptions {
            jobs: 1,
            snapshots: SnapshotMode::Off,
            snapshot_dir: dir.clone(),
            run_id: suite::new_run_id(),
            deviations: Arc::default(),
            allow_existing_pool: false,
            label: None,
            keep_transcripts: false,
        };
        bencher.bench_local(|| {
            let run = runtime.block_on(suite::run_one(&scenario, &target, &options));
            assert!(!run.is_failed(), "{run:?}");
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cs-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const GENERATED: &str = include_str!("../scripts/bench/generated-flow.yaml");
}

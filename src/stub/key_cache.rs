//! The stub's two signing keys, kept between runs in the user's cache folder
//! so that a one-scenario run does not wait for RSA key generation (two
//! 2048-bit keys: a random 40–300 ms, most of such a run).
//!
//! The file is `$XDG_CACHE_HOME/cognito-scenarios/stub-signing-keys` (or
//! `~/.cache/…`), readable by its owner only, holding the two PKCS#8 keys in
//! base64, one per line. They are the stub's keys, never a real pool's; a
//! missing, unreadable or damaged file means new keys (written back), never
//! an error, and its content is never shown. `COGNITO_SCENARIOS_KEY_CACHE=off`
//! (or an unset home) generates fresh keys in every process instead.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine as _;

const FILE: &str = "stub-signing-keys";
/// Longer files are not keys (two PKCS#8 2048-bit keys are about 3.2 KiB).
const MAX_BYTES: u64 = 64 * 1024;

/// Where the keys are kept, or `None` when caching is off.
pub fn location() -> Option<PathBuf> {
    if std::env::var_os("COGNITO_SCENARIOS_KEY_CACHE").is_some_and(|v| v == "off") {
        return None;
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("cognito-scenarios").join(FILE))
}

/// The two keys stored at `path` (access key first), if it holds two valid ones.
pub fn load(path: &Path) -> Option<(RsaKeyPair, RsaKeyPair)> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > MAX_BYTES {
        return None;
    }
    let text = std::io::read_to_string(file).ok()?;
    let mut keys = text.lines().map(|line| {
        let der = base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .ok()?;
        RsaKeyPair::from_pkcs8(&der).ok()
    });
    let (access, id) = (keys.next()??, keys.next()??);
    (keys.next().is_none() && access.public_modulus_len() == 256 && id.public_modulus_len() == 256)
        .then_some((access, id))
}

/// Stores the two keys at `path` (owner-only, replaced atomically). Failure
/// is silent: the next process generates keys again.
pub fn store(path: &Path, access: &RsaKeyPair, id: &RsaKeyPair) {
    let _ = try_store(path, access, id);
}

fn try_store(path: &Path, access: &RsaKeyPair, id: &RsaKeyPair) -> Option<()> {
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let mut text = String::new();
    for key in [access, id] {
        let der = key.as_der().ok()?;
        text.push_str(&base64::engine::general_purpose::STANDARD.encode(der.as_ref()));
        text.push('\n');
    }
    let temp = dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&temp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
    if written.is_err() || std::fs::rename(&temp, path).is_err() {
        let _ = std::fs::remove_file(&temp);
        return None;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::KeyPair as _;

    fn key() -> RsaKeyPair {
        RsaKeyPair::generate(KeySize::Rsa2048).unwrap()
    }

    #[test]
    fn keys_survive_the_round_trip_and_the_file_is_the_owners_only() {
        let dir = std::env::temp_dir().join(format!("cs-keys-{}", uuid::Uuid::new_v4()));
        let path = dir.join("nested").join(FILE);
        let (access, id) = (key(), key());
        store(&path, &access, &id);
        let (a, i) = load(&path).expect("stored keys load");
        assert_eq!(a.public_key().as_ref(), access.public_key().as_ref());
        assert_eq!(i.public_key().as_ref(), id.public_key().as_ref());
        assert_ne!(a.public_key().as_ref(), i.public_key().as_ref());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "group and others have no access: {mode:o}");
        }
        // Replacing works (the second store renames over the first).
        let (access2, id2) = (key(), key());
        store(&path, &access2, &id2);
        let (a, _) = load(&path).unwrap();
        assert_eq!(a.public_key().as_ref(), access2.public_key().as_ref());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_files_are_not_keys() {
        let dir = std::env::temp_dir().join(format!("cs-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        assert!(load(&path).is_none(), "missing");
        let (access, id) = (key(), key());
        store(&path, &access, &id);
        let good = std::fs::read_to_string(&path).unwrap();
        let first = good.lines().next().unwrap().to_string();
        for bad in [
            String::new(),
            "not base64 at all\n".to_string(),
            format!("{first}\n"),
            format!("{first}\n{first}\n{first}\n"),
            good.replace('A', "B"),
            "A".repeat(MAX_BYTES as usize + 1),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert!(
                load(&path).is_none(),
                "accepted a damaged file of {} bytes",
                bad.len()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

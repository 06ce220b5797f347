//! The server secret: the key under which room ids and publish tokens are MACs
//! (see [`crate::capability`]). Kept in a file so that a restarted server still
//! recognises the rooms, and every link anyone was given, of the one before.
//!
//! The file holds 64 hex digits (32 bytes) and a newline. It is created on first start
//! with mode 0600 in a 0700 folder, written to a temporary file and renamed into place,
//! so a crash never leaves half a secret and two servers starting at once agree on one.

use std::{
    fmt,
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
};

use rand::{TryRngCore, rngs::OsRng};
use thiserror::Error;

/// Bytes in a secret (the HMAC-SHA256 key).
pub const SECRET_LEN: usize = 32;

/// 32 secret bytes. `Debug` never shows them, so a logged `Config` leaks nothing.
#[derive(Clone)]
pub struct Secret([u8; SECRET_LEN]);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Error)]
pub enum SecretError {
    #[error("cannot read the secret file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the secret {what} is not {} hex digits", SECRET_LEN * 2)]
    Format { what: String },
    #[error("the operating system's random source failed")]
    Random,
}

/// Where a secret came from, for the startup log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Read from an existing file.
    Loaded,
    /// Made now and saved to the file.
    Created,
    /// Made now, not saved: rooms do not outlive this process.
    Ephemeral,
}

impl Secret {
    /// Fresh bytes from the operating system.
    pub fn random() -> Result<Self, SecretError> {
        let mut bytes = [0u8; SECRET_LEN];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(Self(bytes))
    }

    /// Exactly 64 hex digits, surrounding whitespace ignored. `what` names the source in
    /// the error (never the text itself: it might be nearly the secret).
    pub fn from_hex(text: &str, what: &str) -> Result<Self, SecretError> {
        let bad = || SecretError::Format { what: what.into() };
        let text = text.trim().as_bytes();
        if text.len() != SECRET_LEN * 2 {
            return Err(bad());
        }
        let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
        let mut bytes = [0u8; SECRET_LEN];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            *byte = (digit(pair[0]).ok_or_else(bad)? << 4) | digit(pair[1]).ok_or_else(bad)?;
        }
        Ok(Self(bytes))
    }

    fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.0
            .iter()
            .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
            .map(char::from)
            .collect()
    }

    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// The secret in `path`, or a new one saved there. A file that exists but cannot be
    /// read or is malformed is an error (running with another secret would silently break
    /// every link); a file that cannot be written only costs persistence, so then the
    /// secret is ephemeral and a warning says why.
    pub fn load_or_create(path: &Path) -> Result<(Self, Origin), SecretError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_readable_by_others(path);
                let what = format!("in {}", path.display());
                return Ok((Self::from_hex(&text, &what)?, Origin::Loaded));
            }
            // Nothing there (or a file where a folder should be): make one, if we can.
            Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
            Err(source) => {
                return Err(SecretError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        }
        let secret = Self::random()?;
        match secret.save_new(path) {
            Ok(()) => Ok((secret, Origin::Created)),
            // Another server made the file between our read and our rename: use its secret.
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|source| SecretError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let what = format!("in {}", path.display());
                Ok((Self::from_hex(&text, &what)?, Origin::Loaded))
            }
            Err(err) => {
                tracing::warn!(
                    path = %path.display(),
                    error = %err,
                    "cannot save the server secret; rooms will not survive a restart"
                );
                Ok((secret, Origin::Ephemeral))
            }
        }
    }

    /// Writes a temporary file (0600) next to `path` and renames it into place, failing
    /// with `AlreadyExists` if `path` appeared meanwhile.
    fn save_new(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        // tempfile creates its files with mode 0600.
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        writeln!(file, "{}", self.to_hex())?;
        file.as_file().sync_all()?;
        file.persist_noclobber(path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the secret file is readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `$XDG_STATE_HOME/lenscast/secret`, else `$HOME/.local/state/lenscast/secret`.
pub fn default_path() -> Option<PathBuf> {
    let nonempty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(state) = nonempty("XDG_STATE_HOME") {
        return Some(PathBuf::from(state).join("lenscast/secret"));
    }
    nonempty("HOME").map(|home| PathBuf::from(home).join(".local/state/lenscast/secret"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_bad_text() {
        let s = Secret::random().expect("random");
        let again = Secret::from_hex(&format!("  {}\n", s.to_hex()), "test").expect("parses");
        assert_eq!(s.bytes(), again.bytes());
        for bad in ["", "abc", &"g".repeat(64), &"0".repeat(63), &"0".repeat(66)] {
            assert!(Secret::from_hex(bad, "test").is_err(), "{bad:?}");
        }
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }

    #[test]
    fn created_once_then_loaded_with_private_modes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state/lenscast/secret");
        let (a, origin) = Secret::load_or_create(&path).expect("create");
        assert_eq!(origin, Origin::Created);
        let (b, origin) = Secret::load_or_create(&path).expect("load");
        assert_eq!(origin, Origin::Loaded);
        assert_eq!(a.bytes(), b.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
        // Only the secret file is left, no temporary one.
        let names: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["secret"]);
    }

    #[test]
    fn a_bad_file_is_an_error_and_an_unwritable_place_is_ephemeral() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "not a secret\n").expect("write");
        let err = Secret::load_or_create(&path).expect_err("malformed file");
        assert!(err.to_string().contains("hex digits"), "{err}");
        assert!(!err.to_string().contains("not a secret"));

        // A regular file where the folder should be: nothing can be written below it.
        let blocked = path.join("sub/secret");
        let (_, origin) = Secret::load_or_create(&blocked).expect("falls back");
        assert_eq!(origin, Origin::Ephemeral);
    }
}

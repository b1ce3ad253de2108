//! The master key file: 32 random bytes, readable by the owner only.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The length of the AES-256 master key in bytes.
pub(crate) const MASTER_KEY_LEN: usize = 32;

/// Errors of reading or creating the master key file.
#[derive(Debug, thiserror::Error)]
pub enum VaultOpenError {
    #[error(
        "the master key file {path} is accessible by group or others (mode {mode:03o}); \
         restrict it with `chmod 600 {path}`"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "the master key file {path} contains {found} bytes, but a master key is exactly \
         {MASTER_KEY_LEN} bytes; restore the original file, because a new key cannot open \
         what the old one sealed"
    )]
    Length { path: PathBuf, found: u64 },
    #[error("the master key path {path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("cannot read or create the master key file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the operating system's random number generator failed")]
    Random(#[source] getrandom::Error),
}

/// Reads the master key from `path`, or creates the file with a new random key (mode 0600)
/// when it is missing. Rejects a file that group or others may access.
pub(crate) fn load_or_create(path: &Path) -> Result<Zeroizing<[u8; MASTER_KEY_LEN]>, VaultOpenError> {
    match File::open(path) {
        Ok(file) => read_key(path, file),
        Err(error) if error.kind() == ErrorKind::NotFound => create_key(path),
        Err(source) => Err(io_error(path, source)),
    }
}

fn read_key(path: &Path, mut file: File) -> Result<Zeroizing<[u8; MASTER_KEY_LEN]>, VaultOpenError> {
    // The metadata of the open file, not of the path, so the checked file is the one read.
    let metadata = file.metadata().map_err(|source| io_error(path, source))?;
    if !metadata.is_file() {
        return Err(VaultOpenError::NotAFile { path: path.to_owned() });
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(VaultOpenError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }

    let length = metadata.len();
    if length != MASTER_KEY_LEN as u64 {
        return Err(VaultOpenError::Length {
            path: path.to_owned(),
            found: length,
        });
    }

    let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    file.read_exact(key.as_mut_slice())
        .map_err(|source| io_error(path, source))?;
    Ok(key)
}

fn create_key(path: &Path) -> Result<Zeroizing<[u8; MASTER_KEY_LEN]>, VaultOpenError> {
    let mut key = Zeroizing::new([0u8; MASTER_KEY_LEN]);
    getrandom::fill(key.as_mut_slice()).map_err(VaultOpenError::Random)?;

    let mut file = match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(file) => file,
        // Another process created the file since `load_or_create` looked: use its key.
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            let file = File::open(path).map_err(|source| io_error(path, source))?;
            return read_key(path, file);
        }
        Err(source) => return Err(io_error(path, source)),
    };
    file.write_all(key.as_slice())
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error(path, source))?;

    tracing::info!(path = %path.display(), "created a new master key file");
    Ok(key)
}

fn io_error(path: &Path, source: std::io::Error) -> VaultOpenError {
    VaultOpenError::Io {
        path: path.to_owned(),
        source,
    }
}

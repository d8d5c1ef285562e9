//! One server per state directory.
//!
//! Two servers on one directory would share one SQLite file and each run its
//! timers and in-flight tasks: every Wait would end twice and every email go
//! out twice. [`StateDirLock::acquire`] takes an exclusive lock on
//! `<state-dir>/lock` (`flock(2)` through [`std::fs::File::try_lock`]) and
//! writes the holder's process id into the file for the message a second
//! server prints. The kernel drops the lock when its holder exits, however it
//! exits (SIGKILL included), so a lock file left behind never blocks a
//! restart: only a live holder does. The file is opened close-on-exec (std
//! does so), so processes the holder spawns never inherit the lock.
//!
//! Both `sfn-local` (`sfn_local::bind_with`) and local mode (`local-stack`,
//! before it builds anything) take it.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// The lock file's name inside the state directory.
pub const LOCK_FILE: &str = "lock";

/// Why the state directory could not be locked. The messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the state directory {} is in use by another server ({holder}): stop it, or pass another --state-dir",
        dir.display()
    )]
    Held { dir: PathBuf, holder: Holder },
    #[error("cannot lock the state directory {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who holds a lock, as far as its lock file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Pid(u32),
    /// The holder has not written its process id yet (it is starting), or the
    /// file was edited by hand.
    Unknown,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pid(pid) => write!(f, "process {pid}"),
            Self::Unknown => f.write_str("process id unknown"),
        }
    }
}

impl LockError {
    /// The process holding the lock, when that is why it failed.
    pub fn holder(&self) -> Option<Holder> {
        match self {
            Self::Held { holder, .. } => Some(*holder),
            Self::Io { .. } => None,
        }
    }
}

/// An exclusive lock on a state directory, held until dropped (or the process exits).
#[derive(Debug)]
pub struct StateDirLock {
    // Never read: holding the open file is holding the lock.
    _file: File,
    dir: PathBuf,
}

impl StateDirLock {
    /// Creates `dir` if needed and locks it, or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        // No truncation on open: the file may be the holder's, with its pid in it.
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = match file.read_to_string(&mut text) {
                    Ok(_) => text
                        .trim()
                        .parse()
                        .map(Holder::Pid)
                        .unwrap_or(Holder::Unknown),
                    Err(_) => Holder::Unknown,
                };
                return Err(LockError::Held {
                    dir: dir.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        // Ours now: replace whatever a dead holder left with our pid.
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Self {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "sfn-local-lock-{tag}-{}",
            uuid::Uuid::new_v4().simple()
        ))
    }

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_one_is_taken_again() {
        let dir = temp_dir("second");
        let first = match StateDirLock::acquire(&dir) {
            Ok(lock) => lock,
            Err(e) => panic!("first lock: {e}"),
        };
        let written = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap_or_default();
        assert_eq!(written.trim(), std::process::id().to_string());

        // flock(2) locks conflict between open files, even within one process.
        let err = match StateDirLock::acquire(&dir) {
            Ok(_) => panic!("a second lock on {} was granted", dir.display()),
            Err(e) => e,
        };
        assert_eq!(err.holder(), Some(Holder::Pid(std::process::id())));
        let message = err.to_string();
        assert!(
            message.contains(&format!("process {}", std::process::id()))
                && message.contains("--state-dir"),
            "{message}"
        );

        drop(first);
        let again = StateDirLock::acquire(&dir);
        assert!(again.is_ok(), "{again:?}");
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_lock_file_without_a_live_holder_does_not_block() {
        let dir = temp_dir("stale");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        // What a killed server leaves: the file with its (long gone) pid, unlocked.
        std::fs::write(dir.join(LOCK_FILE), "4194304999\n").unwrap_or_else(|e| panic!("{e}"));
        let lock = StateDirLock::acquire(&dir);
        assert!(lock.is_ok(), "{lock:?}");
        let written = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap_or_default();
        assert_eq!(written, format!("{}\n", std::process::id()));
        drop(lock);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The review requests in local mode's outbox, as reviewers receive them: each
//! `Review requested: NAME` email's recipient and the token on its `Task token:` line.
//!
//! Why the outbox and not the execution history: it is what a reviewer reads, so
//! a review counts as asked only once its emails exist. (Local mode records
//! `TaskSubmitted` after Ask Reviewer returned, as AWS does, so the history's
//! token would be safe to use too.)
//!
//! Why inotify: the outbox holds thousands of files after a few runs, and listing it
//! every few milliseconds would cost the shared cores more than the server under
//! test. sns-local writes each email to a temp file and renames it into place, so
//! one `IN_MOVED_TO` event arrives per finished email.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rustix::fs::inotify;

/// The review requests seen so far: execution name → (recipient, token) per email.
type Requests = Arc<Mutex<HashMap<String, Vec<(String, String)>>>>;

pub(crate) struct Outbox {
    requests: Requests,
    fd: Arc<OwnedFd>,
    watch: i32,
    stopped: Arc<AtomicBool>,
}

impl Outbox {
    /// Watches `dir` (created if missing) from now on, and reads what is there already.
    pub(crate) fn watch(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let fd =
            Arc::new(inotify::init(inotify::CreateFlags::CLOEXEC).context("inotify_init1 failed")?);
        let watch = inotify::add_watch(
            &*fd,
            dir,
            inotify::WatchFlags::MOVED_TO | inotify::WatchFlags::CLOSE_WRITE,
        )
        .with_context(|| format!("cannot watch {}", dir.display()))?;
        let outbox = Self {
            requests: Arc::default(),
            fd,
            watch,
            stopped: Arc::default(),
        };
        let mut reader = Reading {
            dir: dir.to_owned(),
            seen: HashSet::new(),
            requests: outbox.requests.clone(),
        };
        // Events only tell about files written after the watch began.
        reader.rescan();
        let (fd, stopped) = (outbox.fd.clone(), outbox.stopped.clone());
        std::thread::Builder::new()
            .name("outbox".into())
            .spawn(move || reader.run(&fd, &stopped))
            .context("cannot start the outbox reader")?;
        Ok(outbox)
    }

    /// The tokens of `execution_name`'s review requests once `reviewers` of them are
    /// in the outbox (one per recipient), else `None`.
    pub(crate) fn tokens(&self, execution_name: &str, reviewers: usize) -> Option<Vec<String>> {
        let requests = self.requests.lock().ok()?;
        let emails = requests.get(execution_name)?;
        let recipients: HashSet<&str> = emails.iter().map(|(to, _)| to.as_str()).collect();
        (recipients.len() >= reviewers).then(|| emails.iter().map(|(_, t)| t.clone()).collect())
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // Removing the watch queues IN_IGNORED, which wakes the reader to see `stopped`.
        self.stopped.store(true, Ordering::Relaxed);
        let _ = inotify::remove_watch(&*self.fd, self.watch);
    }
}

struct Reading {
    dir: PathBuf,
    seen: HashSet<OsString>,
    requests: Requests,
}

impl Reading {
    fn run(&mut self, fd: &OwnedFd, stopped: &AtomicBool) {
        let mut buf = [MaybeUninit::<u8>::uninit(); 64 * 1024];
        let mut events = inotify::Reader::new(fd, &mut buf);
        while !stopped.load(Ordering::Relaxed) {
            let name = match events.next() {
                Ok(event) if event.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW) => None,
                Ok(event) if event.events().contains(inotify::ReadFlags::IGNORED) => return,
                Ok(event) => match event.file_name() {
                    Some(name) => Some(OsString::from(name.to_string_lossy().into_owned())),
                    None => continue,
                },
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return,
            };
            match name {
                Some(name) => self.read(name),
                // Events were lost: read what the directory holds.
                None => self.rescan(),
            }
        }
    }

    fn rescan(&mut self) {
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                self.read(entry.file_name());
            }
        }
    }

    fn read(&mut self, name: OsString) {
        let is_email = name
            .to_str()
            .is_some_and(|n| n.ends_with(".eml") && !n.starts_with('.'));
        if !is_email || self.seen.contains(&name) {
            return;
        }
        let Ok(email) = sns_local::read_eml(&self.dir.join(&name)) else {
            return;
        };
        self.seen.insert(name);
        let Some(execution) = email
            .subject()
            .and_then(|s| s.strip_prefix("Review requested: ").map(str::to_owned))
        else {
            return;
        };
        let token = email
            .body
            .lines()
            .find_map(|line| line.strip_prefix("Task token: "))
            .map(|t| t.trim().to_owned());
        let (Some(to), Some(token)) = (email.header("To"), token) else {
            return;
        };
        if let Ok(mut requests) = self.requests.lock() {
            requests
                .entry(execution)
                .or_default()
                .push((to.to_owned(), token));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to: &str, name: &str, token: &str) -> String {
        format!(
            "To: {to}\r\nSubject: Review requested: {name}\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\nHello\r\nTask token: {token}\r\n"
        )
    }

    #[test]
    fn a_review_is_asked_once_each_reviewer_has_an_email_with_a_token() {
        let dir = std::env::temp_dir().join(format!("hitl-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("0.eml"), email("a@x.com", "r1", "T-a")).expect("before");
        let outbox = Outbox::watch(&dir).expect("watch");
        // Written as sns-local writes: a temp file renamed into place.
        for (to, token) in [("b@x.com", "T-b"), ("c@x.com", "T-c")] {
            let temp = dir.join(format!(".{to}.eml.tmp"));
            std::fs::write(&temp, email(to, "r1", token)).expect("temp");
            std::fs::rename(&temp, dir.join(format!("{to}.eml"))).expect("rename");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let tokens = loop {
            if let Some(tokens) = outbox.tokens("r1", 3) {
                break tokens;
            }
            assert!(std::time::Instant::now() < deadline, "never saw 3 emails");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        drop(outbox);
        let _ = std::fs::remove_dir_all(&dir);
        let mut tokens = tokens;
        tokens.sort();
        assert_eq!(tokens, ["T-a", "T-b", "T-c"]);
    }

    #[test]
    fn fewer_emails_than_reviewers_is_not_yet_asked() {
        let dir = std::env::temp_dir().join(format!("hitl-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("0.eml"), email("a@x.com", "r1", "T-a")).expect("email");
        let outbox = Outbox::watch(&dir).expect("watch");
        assert_eq!(outbox.tokens("r1", 2), None);
        assert_eq!(outbox.tokens("r1", 1), Some(vec!["T-a".to_owned()]));
        assert_eq!(outbox.tokens("r2", 1), None);
        drop(outbox);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

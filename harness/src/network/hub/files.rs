//! The hub's HTTP file server (tiny_http), for feeds: each served
//! directory gets a random token, and `GET /TOKEN/NAME` returns the file
//! NAME directly in that directory. Nothing else is reachable. Each request
//! is answered on a thread of its own, so cases never wait for each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The port the hub serves files on, at each of its link addresses.
pub const PORT: u16 = 80;

/// The served directories by token.
#[derive(Debug, Clone, Default)]
pub struct Files {
    dirs: Arc<Mutex<HashMap<String, PathBuf>>>,
}

impl Files {
    /// Listen on every hub address and serve in a thread of its own.
    pub fn start() -> Result<Files, String> {
        let server = tiny_http::Server::http(("0.0.0.0", PORT))
            .map_err(|e| format!("failed to listen on port {PORT} in the hub: {e}"))?;
        let files = Files::default();
        let serving = files.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                // A thread per request: a case that stops reading a large
                // file must not hold up another case's `opkg update`.
                let serving = serving.clone();
                std::thread::spawn(move || serving.answer(request));
            }
        });
        Ok(files)
    }

    /// Serve `dir`; returns its URL path (`/TOKEN`).
    pub fn add(&self, dir: &Path) -> Result<String, String> {
        if !dir.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        let token = token()?;
        self.lock().insert(token.clone(), dir.to_owned());
        Ok(format!("/{token}"))
    }

    /// Stop serving the directory at URL path `path`.
    pub fn remove(&self, path: &str) {
        self.lock().remove(path.trim_start_matches('/'));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PathBuf>> {
        self.dirs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn answer(&self, request: tiny_http::Request) {
        let file = self.file_for(request.url());
        let _ = match file.and_then(|path| std::fs::File::open(path).ok()) {
            Some(file) => request.respond(tiny_http::Response::from_file(file)),
            None => request.respond(tiny_http::Response::empty(404)),
        };
    }

    /// The file a URL names, if it is served.
    fn file_for(&self, url: &str) -> Option<PathBuf> {
        let (token, name) = url.trim_start_matches('/').split_once('/')?;
        if !is_plain_name(name) {
            return None;
        }
        let dir = self.lock().get(token)?.clone();
        Some(dir.join(name))
    }
}

/// A single path segment that stays in its directory.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '?', '#'])
}

fn token() -> Result<String, String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| format!("failed to draw a random token: {e}"))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_under_a_known_token_are_served() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::default();
        let path = files.add(dir.path()).unwrap();
        assert_eq!(
            files.file_for(&format!("{path}/Packages")),
            Some(dir.path().join("Packages"))
        );
        for bad in ["..", ".", "", "a/b", "x?y"] {
            assert_eq!(files.file_for(&format!("{path}/{bad}")), None, "{bad:?}");
        }
        assert_eq!(files.file_for("/unknown/Packages"), None);
        files.remove(&path);
        assert_eq!(files.file_for(&format!("{path}/Packages")), None);
    }
}
